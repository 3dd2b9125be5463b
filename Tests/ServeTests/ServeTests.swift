import Files
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Predict
import SampleImages
@testable import Serve
import Testing
import Engine
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A request on a connection of its own (the test client has one connection, so its requests never overlap).
func send(port: Int, _ path: String, method: String = "POST", type: String? = nil, body: [UInt8] = []) async throws -> (status: Int, headers: [AnyHashable: Any], body: Data) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = method
    if let type { request.setValue(type, forHTTPHeaderField: "Content-Type") }
    if method == "POST" { request.httpBody = Data(body) }
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as! HTTPURLResponse
    return (http.statusCode, http.allHeaderFields, data)
}

/// A model file as `train` writes it (random weights), for the server to load.
func saveModel(labels: [String], to file: String, seed: UInt64 = 1) throws {
    var spec = ModelSpec(classes: labels.count)
    spec.inputSize = 32
    try FileManager.default.createDirectory(atPath: FileIO.parentFolder(of: file), withIntermediateDirectories: true)
    let temporary = file + ".tmp"
    try ModelFile.save(Model(spec: spec, labels: labels, normalization: Normalization(), seed: seed), to: temporary)
    _ = rename(temporary, file)  // atomically, as a reload must never see half a file
}

let picture = SampleImages.png(SampleImages.scene(width: 48, height: 40, seed: 2))
let photo = SampleImages.jpeg(SampleImages.scene(width: 64, height: 48, seed: 3))

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:] }
}

func form(_ fields: [String: String]) -> ByteBuffer {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return ByteBuffer(string: fields.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
}

func multipartBody(_ parts: [(name: String, filename: String?, type: String?, body: [UInt8])]) -> ([UInt8], String) {
    var out: [UInt8] = []
    for part in parts {
        out += Array("--BOUNDARY\r\nContent-Disposition: form-data; name=\"\(part.name)\"\(part.filename.map { "; filename=\"\($0)\"" } ?? "")\r\n".utf8)
        if let type = part.type { out += Array("Content-Type: \(type)\r\n".utf8) }
        out += Array("\r\n".utf8) + part.body + Array("\r\n".utf8)
    }
    return (out + Array("--BOUNDARY--\r\n".utf8), "multipart/form-data; boundary=BOUNDARY")
}

/// Each test starts the real server in process on 127.0.0.1 (a free port) and calls it over loopback.
@Suite struct ServeTests {
    let folder = TemporaryFolder()
    var modelFile: String { folder.file("models/tiny/model.safetensors") }

    func options(_ change: (inout ServeOptions) -> Void = { _ in }) throws -> ServeOptions {
        try saveModel(labels: ["porn", "political", "neutral"], to: modelFile)
        var options = ServeOptions(modelFile: modelFile)
        options.port = 0
        options.threads = 1
        change(&options)
        return options
    }

    /// Waits until /readyz says ready (the model loads after the server starts).
    func ready(_ client: some TestClientProtocol) async throws {
        for _ in 0..<200 {
            if try await client.execute(uri: "/readyz", method: .get).status == .ok { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the server never became ready")
    }

    @Test func originalAPIAnswersAsTheFlaskServiceDid() async throws {
        // Every probability is below 1: with a minimum of 1 the rule always answers neutral.
        let server = try ImageServer(try options { $0.fallback = FallbackRule(minimumConfidence: 1, label: "neutral") })
        try await server.application().test(.live) { client in
            try await ready(client)
            let hello = try await client.execute(uri: "/helloWorld", method: .get)
            #expect(hello.status == .ok && hello.text == "Hello World!")
            let base64 = "data:image/png;base64," + Data(picture).base64EncodedString()
            let urlencoded = try await client.execute(uri: "/image/detection", method: .post,
                                                      headers: [.contentType: "application/x-www-form-urlencoded"],
                                                      body: form(["imageBase64String": base64]))
            #expect(urlencoded.status == .ok)
            #expect(Set(urlencoded.json.keys) == ["code", "message", "predictedClass", "probability"], "\(urlencoded.text)")
            #expect(urlencoded.json["code"] as? String == "00" && urlencoded.json["predictedClass"] as? String == "neutral")
            let probability = try #require(urlencoded.json["probability"] as? String)
            #expect(Float(probability).map { $0 > 1.0 / 3 && $0 < 1 } == true, "\(probability)")
            let (body, type) = multipartBody([("imageBase64String", nil, nil, Array(Data(photo).base64EncodedString().utf8))])
            let multipart = try await client.execute(uri: "/image/detection", method: .post, headers: [.contentType: type], body: ByteBuffer(bytes: body))
            #expect(multipart.status == .ok && multipart.json["code"] as? String == "00", "\(multipart.text)")
            // Failures: code "98" with a message, and a 4xx status.
            for (fields, contentType, status) in [(["other": "x"], "application/x-www-form-urlencoded", HTTPResponse.Status.badRequest),
                                                  (["imageBase64String": "***"], "application/x-www-form-urlencoded", .badRequest),
                                                  (["imageBase64String": Data("<html>".utf8).base64EncodedString()], "application/x-www-form-urlencoded", .unprocessableContent),
                                                  (["imageBase64String": base64], "text/plain", .unsupportedMediaType)] {
                let reply = try await client.execute(uri: "/image/detection", method: .post, headers: [.contentType: contentType], body: form(fields))
                #expect(reply.status == status && Set(reply.json.keys) == ["code", "message"] && reply.json["code"] as? String == "98", "\(fields): \(reply.text)")
            }
        }
    }

    @Test func classifyTakesRawMultipartAndJSONBodies() async throws {
        let server = try ImageServer(try options { $0.maxBodyBytes = 100_000 })
        try await server.application().test(.live) { client in
            try await ready(client)
            let raw = try await client.execute(uri: "/v1/classify?top_k=2", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: picture))
            #expect(raw.status == .ok, "\(raw.text)")
            #expect(raw.json["model"] as? String == "tiny" && (raw.json["model_version"] as? String)?.count == 12 && raw.json["time_ms"] is Double)
            let result = try #require((raw.json["results"] as? [[String: Any]])?.first)
            #expect((result["top"] as? [Any])?.count == 2 && result["fallback_applied"] as? Bool == false && result["label"] is String)
            let (body, type) = multipartBody([("a", "a.png", "image/png", picture), ("b", "b.jpg", nil, photo), ("note", nil, nil, Array("hi".utf8))])
            let upload = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: type], body: ByteBuffer(bytes: body))
            #expect((upload.json["results"] as? [[String: Any]])?.map { $0["name"] as? String } == ["a.png", "b.jpg"], "\(upload.text)")
            let list = #"[{"image_base64": "\#(Data(picture).base64EncodedString())"}, {"image_base64": "\#(Data("text".utf8).base64EncodedString())", "name": "bad"}]"#
            let json = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: list))
            let results = try #require(json.json["results"] as? [[String: Any]])
            #expect(json.status == .ok && results.count == 2 && results[0]["label"] is String)
            #expect((results[1]["error"] as? [String: Any])?["reason"] as? String == "not_an_image")
            // Bad input: a 4xx with {"error": ...}.
            for (type, payload, status) in [("application/json", ByteBuffer(string: "{"), HTTPResponse.Status.badRequest),
                                            ("text/plain", ByteBuffer(string: "hi"), .unsupportedMediaType),
                                            ("image/jpeg", ByteBuffer(bytes: SampleImages.truncated(photo, keeping: 0.3)), .unprocessableContent),
                                            ("multipart/form-data; boundary=X", ByteBuffer(string: "--X\r\nbroken"), .badRequest)] {
                let reply = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: type], body: payload)
                #expect(reply.status == status && reply.json["error"] != nil || reply.json["results"] != nil && reply.status == status, "\(type): \(reply.status) \(reply.text)")
            }
            let bad = try await client.execute(uri: "/v1/classify?top_k=0", method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: picture))
            #expect(bad.status == .badRequest)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            for name in ["hb_requests", "http_server_request_duration", "imgcls_batch_images", "imgcls_queue_images", "imgcls_images_classified"] {
                #expect(metrics.contains(name), "\(name)")
            }
            // Last, since the server closes the connection after it (the body is never kept): a body over the limit.
            let tooLarge = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/png"],
                                                    body: ByteBuffer(bytes: [UInt8](repeating: 7, count: 150_000)))
            #expect(tooLarge.status == .contentTooLarge && tooLarge.json["error"] != nil, "\(tooLarge.status) \(tooLarge.text)")
        }
    }

    @Test func openInferenceProtocolRoutes() async throws {
        let server = try ImageServer(try options())
        try await server.application().test(.live) { client in
            try await ready(client)
            #expect(try await client.execute(uri: "/v2/health/live", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v2/health/ready", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v2", method: .get).json["extensions"] as? [String] == ["classification", "binary_tensor_data"])
            let metadata = try await client.execute(uri: "/v2/models/tiny", method: .get).json
            #expect(metadata["name"] as? String == "tiny" && (metadata["outputs"] as? [[String: Any]])?.first?["shape"] as? [Int] == [-1, 3])
            #expect(try await client.execute(uri: "/v2/models/tiny/ready", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/v2/models/other", method: .get).status == .notFound)
            let images = [picture, photo].map { "\"\(Data($0).base64EncodedString())\"" }.joined(separator: ",")
            let tensor = try await client.execute(uri: "/v2/models/tiny/infer", method: .post, headers: [.contentType: "application/json"],
                                                  body: ByteBuffer(string: #"{"id": "q", "inputs": [{"name": "image", "shape": [2], "datatype": "BYTES", "data": [\#(images)]}]}"#))
            let output = try #require((tensor.json["outputs"] as? [[String: Any]])?.first, "\(tensor.text)")
            #expect(tensor.json["id"] as? String == "q" && tensor.json["model_name"] as? String == "tiny")
            #expect(output["datatype"] as? String == "FP32" && output["shape"] as? [Int] == [2, 3] && (output["data"] as? [Double])?.count == 6)
            // The same images as binary tensor data (tritonclient's default), the answer as binary too: the same floats.
            var data: [UInt8] = []
            for image in [picture, photo] {
                withUnsafeBytes(of: UInt32(image.count).littleEndian) { data.append(contentsOf: $0) }
                data += image
            }
            let header = Array(#"{"inputs": [{"name": "IMAGE", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": \#(data.count)}}], "parameters": {"binary_data_output": true}}"#.utf8)
            let binary = try await client.execute(uri: "/v2/models/tiny/infer", method: .post,
                                                  headers: [.contentType: "application/octet-stream", HTTPField.Name("Inference-Header-Content-Length")!: String(header.count)],
                                                  body: ByteBuffer(bytes: header + data))
            let raw = Array(buffer: binary.body)
            let jsonLength = try #require(binary.headers[HTTPField.Name("Inference-Header-Content-Length")!].flatMap { Int($0) }, "\(binary.text)")
            let described = try #require((try JSONSerialization.jsonObject(with: Data(raw[..<jsonLength])) as? [String: Any])?["outputs"] as? [[String: Any]])
            #expect((described.first?["parameters"] as? [String: Int])?["binary_data_size"] == 24 && raw.count == jsonLength + 24)
            let floats = (0..<6).map { i in Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[jsonLength + i * 4 + $1]) << (8 * $1) }) }
            #expect(floats == ((output["data"] as? [Double]) ?? []).map(Float.init), "binary \(floats), JSON \(output["data"] ?? "none")")
            let classes = try await client.execute(uri: "/v2/models/tiny/infer", method: .post, headers: [.contentType: "application/json"],
                                                   body: ByteBuffer(string: #"{"inputs": [{"name": "image", "shape": [1], "datatype": "BYTES", "data": ["\#(Data(picture).base64EncodedString())"]}], "outputs": [{"name": "classes", "parameters": {"classification": 2}}]}"#))
            let strings = try #require((classes.json["outputs"] as? [[String: Any]])?.first?["data"] as? [String], "\(classes.text)")
            #expect(strings.count == 2 && strings.allSatisfy { $0.split(separator: ":").count == 3 && ["porn", "political", "neutral"].contains(String($0.split(separator: ":")[2])) })
            let wrong = try await client.execute(uri: "/v2/models/tiny/infer", method: .post, headers: [.contentType: "application/json"],
                                                 body: ByteBuffer(string: #"{"inputs": [{"name": "image", "shape": [1], "datatype": "FP32", "data": [1]}]}"#))
            #expect(wrong.status == .badRequest && wrong.json["error"] is String)
        }
    }

    @Test func apiKeyGuardsTheModernRoutes() async throws {
        let server = try ImageServer(try options { $0.apiKey = "s3cret" })
        try await server.application().test(.live) { client in
            try await ready(client)
            let image: HTTPFields = [.contentType: "image/png"]
            #expect(try await client.execute(uri: "/v1/classify", method: .post, headers: image, body: ByteBuffer(bytes: picture)).status == .unauthorized)
            var wrong = image
            wrong[.authorization] = "Bearer nope"
            #expect(try await client.execute(uri: "/v1/classify", method: .post, headers: wrong, body: ByteBuffer(bytes: picture)).status == .unauthorized)
            var right = image
            right[.authorization] = "Bearer s3cret"
            #expect(try await client.execute(uri: "/v1/classify", method: .post, headers: right, body: ByteBuffer(bytes: picture)).status == .ok)
            #expect(try await client.execute(uri: "/v2/health/live", method: .get).status == .unauthorized)
            // The original API has no key, as before.
            #expect(try await client.execute(uri: "/helloWorld", method: .get).status == .ok)
        }
    }

    @Test func aFullQueueAnswers503WithRetryAfter() async throws {
        // Batches held: the first request's 4 images fill the queue of 4, and one more image does not fit.
        let server = try ImageServer(try options { ($0.maxBatch, $0.maxQueue) = (4, 4) })
        try await server.application().test(.live) { client in
            try await ready(client)
            let port = try #require(client.port)
            func images(_ n: Int) -> [UInt8] {
                Array(("[" + (0..<n).map { _ in #"{"image_base64": "\#(Data(picture).base64EncodedString())"}"# }.joined(separator: ",") + "]").utf8)
            }
            server.queue.hold(true)
            async let queued = send(port: port, "/v1/classify", type: "application/json", body: images(4))
            for _ in 0..<500 where server.queue.depth < 4 { try await Task.sleep(for: .milliseconds(20)) }
            guard server.queue.depth == 4 else {
                server.queue.hold(false)
                Issue.record("the first request never reached the queue")
                return
            }
            let refused = try await send(port: port, "/v1/classify", type: "application/json", body: images(1))
            #expect(refused.status == 503 && refused.headers["Retry-After"] as? String == "1", "\(refused.status)")
            let message = (try JSONSerialization.jsonObject(with: refused.body) as? [String: Any])?["error"] as? String
            #expect(message?.contains("at capacity") == true)
            server.queue.hold(false)
            #expect(try await queued.status == 200)
        }
    }

    /// SIGHUP while requests run: none fails, the new model answers once loaded, and a file that cannot be
    /// loaded leaves the model that was serving.
    @Test(.timeLimit(.minutes(2))) func sighupReloadsWithoutFailingRequests() async throws {
        let server = try ImageServer(try options())
        try await server.application().test(.live) { client in
            try await ready(client)
            let port = try #require(client.port)
            func version() async throws -> String {
                try await client.execute(uri: "/readyz", method: .get).json["model_version"] as? String ?? ""
            }
            let before = try await version()
            let load = Task {
                var statuses: [Int] = [], labels: Set<String> = []
                for _ in 0..<60 {
                    let reply = try await send(port: port, "/v1/classify", type: "image/png", body: picture)
                    statuses.append(reply.status)
                    let json = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
                    if let label = (json?["results"] as? [[String: Any]])?.first?["label"] as? String { labels.insert(label) }
                }
                return (statuses, labels)
            }
            try await Task.sleep(for: .milliseconds(100))
            try saveModel(labels: ["cat", "dog"], to: modelFile, seed: 9)
            kill(getpid(), SIGHUP)
            var after = before
            for _ in 0..<200 where after == before {
                try await Task.sleep(for: .milliseconds(50))
                after = try await version()
            }
            #expect(after != before, "the new model never took over")
            let (statuses, labels) = try await load.value
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            #expect(labels.isSubset(of: ["porn", "political", "neutral", "cat", "dog"]) && !labels.isEmpty)
            // A broken file: the model serving goes on.
            try FileIO.writeAtomically(Array("broken".utf8), to: modelFile)
            kill(getpid(), SIGHUP)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await version() == after)
            let reply = try await send(port: port, "/v1/classify", type: "image/png", body: picture)
            #expect(reply.status == 200)
        }
    }

    @Test func aModelThatCannotLoadEndsTheServer() async throws {
        try FileIO.writeAtomically(Array("not a model".utf8), to: folder.file("broken.safetensors"))
        var options = ServeOptions(modelFile: folder.file("broken.safetensors"))
        options.port = 0
        await #expect(throws: PredictError.self) { try await ImageServer(options).application().runService(gracefulShutdownSignals: []) }
    }
}
