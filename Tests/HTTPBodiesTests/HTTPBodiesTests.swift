import Files
import Foundation
import HTTPBodies
import Testing

/// A multipart/form-data body, as curl -F sends it.
func multipart(boundary: String, _ parts: [(name: String, filename: String?, type: String?, body: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    for part in parts {
        out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\"".utf8)
        if let filename = part.filename { out += Array("; filename=\"\(filename)\"".utf8) }
        out += Array("\r\n".utf8)
        if let type = part.type { out += Array("Content-Type: \(type)\r\n".utf8) }
        out += Array("\r\n".utf8) + part.body + Array("\r\n".utf8)
    }
    return out + Array("--\(boundary)--\r\n".utf8)
}

@Suite struct MultipartTests {
    let type = ContentType("multipart/form-data; boundary=\"XyZ123\"")

    @Test func readsFieldsAndFiles() throws {
        let body = multipart(boundary: "XyZ123", [("imageBase64String", nil, nil, Array("aGVsbG8=".utf8)),
                                                  ("file", "a.png", "image/png", [0x89, 0x50, 0x0D, 0x0A, 0x2D, 0x2D])])
        let parts = try MultipartForm.parts(body, contentType: type)
        #expect(parts.count == 2)
        #expect(parts[0].name == "imageBase64String" && parts[0].filename == nil && parts[0].body == Array("aGVsbG8=".utf8))
        #expect(parts[1].filename == "a.png" && parts[1].contentType == "image/png" && parts[1].body == [0x89, 0x50, 0x0D, 0x0A, 0x2D, 0x2D])
        #expect(type.mediaType == "multipart/form-data" && type.parameters["boundary"] == "XyZ123")
    }

    @Test func refusesBrokenBodies() {
        let good = multipart(boundary: "XyZ123", [("f", "a.png", "image/png", [1, 2, 3])])
        #expect(throws: BodyError.self) { try MultipartForm.parts(good, contentType: ContentType("multipart/form-data")) }
        #expect(throws: BodyError.self) { try MultipartForm.parts(Array(good.prefix(good.count - 12)), contentType: type) }
        #expect(throws: BodyError.self) { try MultipartForm.parts(Array("no boundary here".utf8), contentType: type) }
        #expect(throws: BodyError.self) { try MultipartForm.parts([], contentType: type) }
        // A header name byte of 0x80 or more (MultipartKit 4.7.1 trapped on it).
        let accented = Array("--XyZ123\r\nContént-Type: image/png\r\n\r\nabc\r\n--XyZ123--\r\n".utf8)
        #expect(throws: BodyError.self) { try MultipartForm.parts(accented, contentType: type) }
        // A preamble before the first boundary, a part with no headers, a file name in UTF-8.
        let loose = Array("preamble\r\n--XyZ123\r\n\r\nplain\r\n--XyZ123\r\nContent-Disposition: form-data; name=\"f\"; filename=\"été.png\"\r\n\r\nxy\r\n--XyZ123--".utf8)
        let parts = try? MultipartForm.parts(loose, contentType: type)
        #expect(parts?.map(\.body) == [Array("plain".utf8), Array("xy".utf8)] && parts?[1].filename == "été.png")
    }

    /// Mutated bodies (bounded in count and time): each gets the same answer twice; a body without the closing
    /// delimiter is refused with a message; accepted parts are slices of the body, no more than its boundaries.
    @Test(.timeLimit(.minutes(1))) func mutatedBodiesGetPartsOrAReasonedRefusal() {
        let good = multipart(boundary: "XyZ123", [("imageBase64String", nil, nil, Array("aGVsbG8=".utf8)), ("f", "a.png", "image/png", Array(0..<64))])
        let closing = Array("--XyZ123--".utf8), delimiter = Array("--XyZ123".utf8)
        var random = SplitMix64(seed: 7)
        var (accepted, refused) = (0, 0)
        for _ in 0..<3000 {
            var body = good
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = Int(random.next() % UInt64(body.count))
                switch random.next() % 3 {
                case 0: body[at] = UInt8(truncatingIfNeeded: random.next())
                case 1: body.remove(at: at)
                default: body = Array(body.prefix(at))
                }
                if body.isEmpty { break }
            }
            let answer = Result { () throws(BodyError) in try MultipartForm.parts(body, contentType: type) }
            #expect(answer == Result { () throws(BodyError) in try MultipartForm.parts(body, contentType: type) }, "two answers to one body")
            switch answer {
            case .success(let parts):
                accepted += 1
                #expect(occurrences(of: closing, in: body) > 0, "a body with no closing delimiter was accepted")
                #expect(parts.count <= occurrences(of: delimiter, in: body), "more parts than boundaries")
                #expect(parts.allSatisfy { $0.body.isEmpty || occurrences(of: $0.body, in: body) > 0 }, "a part that is not in the body")
            case .failure(let refusal):
                refused += 1
                #expect(!refusal.description.isEmpty)
            }
            if occurrences(of: closing, in: body) == 0 { #expect(throws: BodyError.self) { try MultipartForm.parts(body, contentType: type) } }
        }
        // Both answers occur: the mutations are neither all harmless nor all fatal.
        #expect(accepted > 100 && refused > 100, "accepted \(accepted), refused \(refused)")
    }
}

/// How many times `needle` occurs in `haystack` (overlapping).
func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> Int {
    guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
    return (0...(haystack.count - needle.count)).filter { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }.count
}

@Suite struct ClassifyJSONTests {
    @Test func oneOrManyImages() throws {
        #expect(try ClassifyJSON.images(Array(#"{"image_base64": "AAAA"}"#.utf8)) == [.base64(name: "image 1", "AAAA")])
        #expect(try ClassifyJSON.images(Array(#"{"image_base64": ["AAAA", "BBBB"], "name": "x"}"#.utf8)) ==
                [.base64(name: "x[0]", "AAAA"), .base64(name: "x[1]", "BBBB")])
        #expect(try ClassifyJSON.images(Array(#"[{"image_base64": "AAAA"}, {"image_base64": "CCCC", "name": "c"}]"#.utf8)) ==
                [.base64(name: "image 1", "AAAA"), .base64(name: "c", "CCCC")])
    }

    @Test func refusesWhatIsNotAnImageRequest() {
        for body in ["", "{", "[]", "{}", #"{"image": "AAAA"}"#, #"{"image_base64": 3}"#, #"{"image_base64": [3]}"#, "[1]", "\"text\""] {
            #expect(throws: BodyError.self, "\(body)") { try ClassifyJSON.images(Array(body.utf8)) }
        }
    }
}

@Suite struct InferenceProtocolTests {
    @Test func readsAnInferenceRequest() throws {
        let body = #"{"id": "r1", "inputs": [{"name": "input-0", "shape": [2], "datatype": "BYTES", "data": ["AAAA", "BBBB"]}], "outputs": [{"name": "classes", "parameters": {"classification": 3}}]}"#
        let request = try InferenceProtocol.request(Array(body.utf8))
        #expect(request.id == "r1" && request.outputName == "classes" && request.classification == 3)
        #expect(request.images == [.base64(name: "input-0[0]", "AAAA"), .base64(name: "input-0[1]", "BBBB")])
        // Nested data as the shape says, and no outputs: the probability tensor.
        let nested = try InferenceProtocol.request(Array(#"{"inputs": [{"name": "i", "shape": [1, 1], "datatype": "BYTES", "data": [["AAAA"]]}]}"#.utf8))
        #expect(nested.images.count == 1 && nested.classification == nil && nested.outputName == "probabilities")
        #expect(InferenceProtocol.classificationString(score: 0.5, index: 2, label: "cat") == "0.500000:2:cat")
    }

    /// A body with binary tensor data, as tritonclient sends it: the JSON header, then each BYTES element as a
    /// 4-byte little-endian length and its bytes.
    static func binaryRequest(_ elements: [[UInt8]], size: Int? = nil, shape: Int? = nil, parameters: String = "", cut: Int = 0) -> (body: [UInt8], headerLength: String) {
        var data: [UInt8] = []
        for element in elements {
            withUnsafeBytes(of: UInt32(element.count).littleEndian) { data.append(contentsOf: $0) }
            data += element
        }
        data.removeLast(cut)
        let json = Array(#"{"inputs": [{"name": "IMAGE", "shape": [\#(shape ?? elements.count)], "datatype": "BYTES", "parameters": {"binary_data_size": \#(size ?? data.count)}}]\#(parameters)}"#.utf8)
        return (json + data, String(json.count))
    }

    @Test func readsBinaryTensorData() throws {
        let images: [[UInt8]] = [[0xFF, 0xD8, 0xFF, 0x00, 0x01], [], Array(repeating: 7, count: 300)]
        let (body, length) = Self.binaryRequest(images, parameters: #", "parameters": {"binary_data_output": true}"#)
        let request = try InferenceProtocol.request(body, headerLength: length)
        #expect(request.images == images.enumerated().map { .bytes(name: "IMAGE[\($0)]", $1) })
        #expect(request.binaryOutput && request.outputName == "probabilities")
        // An output's own binary_data overrides the request's.
        let (jsonOut, jsonLength) = Self.binaryRequest([[1, 2]], parameters: #", "parameters": {"binary_data_output": true}, "outputs": [{"name": "p", "parameters": {"binary_data": false}}]"#)
        #expect(try InferenceProtocol.request(jsonOut, headerLength: jsonLength).binaryOutput == false)

        // The response: the JSON with each output's size, then FP32 little-endian and BYTES length-prefixed.
        let response = InferenceProtocol.Response(modelName: "m", modelVersion: "v", id: nil, outputs: [
            .init(name: "probabilities", datatype: "FP32", shape: [1, 2], data: .numbers([0.25, 0.75])),
            .init(name: "classes", datatype: "BYTES", shape: [1, 1], data: .strings(["0.75:1:dog"])),
        ])
        let (out, headerLength) = try InferenceProtocol.binaryBody(response) { Array(try JSONEncoder().encode($0)) }
        let header = try #require(try JSONSerialization.jsonObject(with: Data(out[..<headerLength])) as? [String: Any])
        let outputs = try #require(header["outputs"] as? [[String: Any]])
        #expect(outputs.map { ($0["parameters"] as? [String: Int])?["binary_data_size"] } == [8, 14] && outputs[0]["data"] == nil)
        let floats = (0..<2).map { i in Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(out[headerLength + i * 4 + $1]) << (8 * $1) }) }
        #expect(floats == [0.25, 0.75])
        #expect(Array(out[(headerLength + 8)...]) == [10, 0, 0, 0] + Array("0.75:1:dog".utf8))
    }

    /// Mutated binary bodies (bounded): the same answer twice, a request whose images all lie inside the body,
    /// or a refusal; never a crash.
    @Test(.timeLimit(.minutes(1))) func mutatedBinaryBodiesGetAnAnswerOrARefusal() {
        let (good, length) = Self.binaryRequest([[0x89, 0x50, 0x4E, 0x47, 1, 2, 3], Array(repeating: 9, count: 40)])
        var random = SplitMix64(seed: 11)
        var (accepted, refused) = (0, 0)
        for _ in 0..<2000 {
            var body = good
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let at = Int(random.next() % UInt64(body.count))
                if random.next() % 3 == 0 { body.remove(at: at) } else { body[at] = UInt8(truncatingIfNeeded: random.next()) }
            }
            let header = random.next() % 8 == 0 ? String(Int(length)! + Int(random.next() % 5) - 2) : length
            let answer = Result { () throws(BodyError) in try InferenceProtocol.request(body, headerLength: header) }
            #expect(answer == Result { () throws(BodyError) in try InferenceProtocol.request(body, headerLength: header) })
            switch answer {
            case .success(let request):
                accepted += 1
                let total = request.images.reduce(0) { total, image in if case let .bytes(_, bytes) = image { return total + bytes.count } else { return total } }
                #expect(total <= body.count)
            case .failure: refused += 1
            }
        }
        #expect(accepted > 0 && refused > 0)
    }

    @Test func refusesMalformedBinaryTensorData() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
        let (good, length) = Self.binaryRequest([png, png])
        for (body, headerLength, reason) in [
            (good, String(good.count + 1), "is not a length within the body"),
            (good, "0", "is not a length within the body"),
            (good, "twelve", "is not a length within the body"),
            (Self.binaryRequest([png, png], cut: 1).body, Self.binaryRequest([png, png], cut: 1).headerLength, "element 1 says 4 bytes, 3 follow"),
            (Self.binaryRequest([png, png], cut: 6).body, Self.binaryRequest([png, png], cut: 6).headerLength, "element 1 of its binary data is cut short"),
            (Array(good.dropLast()), length, "must be the size of its binary data (15 bytes follow"),
            (Self.binaryRequest([png, png], size: 5).body, Self.binaryRequest([png, png], size: 5).headerLength, "leaves 11 bytes after the JSON header unread"),
            (Self.binaryRequest([png, png], size: 99).body, Self.binaryRequest([png, png], size: 99).headerLength, "must be the size of its binary data"),
            (Self.binaryRequest([png, png], shape: 3).body, Self.binaryRequest([png, png], shape: 3).headerLength, "means 3 images, its binary data holds 2"),
            (Array(#"{"inputs": [{"name": "i", "shape": [1], "datatype": "BYTES", "data": ["AAAA"]}]}"#.utf8) + [1, 2, 3], "80", "no input has parameters.binary_data_size"),
            (Self.binaryRequest([png], parameters: #", "parameters": {"binary_data_output": "yes"}"#).body,
             Self.binaryRequest([png], parameters: #", "parameters": {"binary_data_output": "yes"}"#).headerLength, "must be true or false"),
        ] {
            #expect { try InferenceProtocol.request(body, headerLength: headerLength) } throws: { "\($0)".contains(reason) }
        }
    }

    @Test func refusesMalformedRequests() {
        for body in ["{", "[]", #"{"inputs": []}"#,
                     #"{"inputs": [{"name": "i", "shape": [1], "datatype": "FP32", "data": [1.0]}]}"#,
                     #"{"inputs": [{"name": "i", "shape": [2], "datatype": "BYTES", "data": ["AAAA"]}]}"#,
                     #"{"inputs": [{"name": "i", "shape": [-1], "datatype": "BYTES", "data": ["AAAA"]}]}"#,
                     #"{"inputs": [{"name": "i", "shape": [9223372036854775807, 4], "datatype": "BYTES", "data": ["AAAA"]}]}"#,
                     #"{"inputs": [{"name": "i", "shape": [4611686018427387904, 2, 0], "datatype": "BYTES", "data": []}]}"#,
                     #"{"inputs": [{"name": "i", "shape": [1], "datatype": "BYTES"}]}"#,
                     #"{"inputs": [{"name": "i", "shape": [1], "datatype": "BYTES", "data": ["A"]}], "outputs": [{"name": "o", "parameters": {"classification": 0}}]}"#,
                     #"{"inputs": [{"name": "a", "shape": [1], "datatype": "BYTES", "data": ["A"]}, {"name": "b", "shape": [1], "datatype": "BYTES", "data": ["A"]}]}"#] {
            #expect(throws: BodyError.self, "\(body)") { try InferenceProtocol.request(Array(body.utf8)) }
        }
    }

    /// Mutated requests (bounded): a request or an error, never a crash.
    /// Mutated JSON bodies (bounded in count and time): the same answer twice; what Foundation's JSON parser refuses
    /// is refused as not JSON; an accepted request's images are base64 strings that stand in the body.
    @Test(.timeLimit(.minutes(1))) func mutatedRequestsGetAnAnswerOrAReasonedRefusal() {
        let good = Array(#"{"id": "r1", "inputs": [{"name": "input-0", "shape": [2], "datatype": "BYTES", "data": ["AAAA", "BBBB"]}], "outputs": [{"name": "classes", "parameters": {"classification": 3}}]}"#.utf8)
        var random = SplitMix64(seed: 5)
        let tokens = Array("{}[]\":,0123456789-eE.truefalsnl ".utf8)
        var (accepted, refused) = (0, 0)
        for _ in 0..<3000 {
            var body = good
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = Int(random.next() % UInt64(body.count))
                if random.next() % 2 == 0 { body[at] = tokens[Int(random.next() % UInt64(tokens.count))] } else { body.remove(at: at) }
                if body.isEmpty { break }
            }
            let isJSON = (try? JSONSerialization.jsonObject(with: Data(body))) != nil
            let request = Result { () throws(BodyError) in try InferenceProtocol.request(body) }
            let images = Result { () throws(BodyError) in try ClassifyJSON.images(body) }
            #expect(request == Result { () throws(BodyError) in try InferenceProtocol.request(body) }, "two answers to one request")
            #expect(images == Result { () throws(BodyError) in try ClassifyJSON.images(body) }, "two answers to one body")
            for answer in [request.map(\.images), images] {
                switch answer {
                case .success(let payloads):
                    accepted += 1
                    #expect(isJSON, "accepted a body that is not JSON: \(String(decoding: body, as: UTF8.self))")
                    #expect(!payloads.isEmpty)
                    for case .base64(_, let text) in payloads {
                        #expect(occurrences(of: Array("\"\(text)\"".utf8), in: body) > 0, "an image string not in the body: \(text)")
                    }
                case .failure(let refusal):
                    refused += 1
                    #expect(isJSON != refusal.description.contains("not valid JSON"), "\(refusal)")
                }
            }
        }
        #expect(accepted > 100 && refused > 100, "accepted \(accepted), refused \(refused)")
    }
}
