import Files
import Foundation
import HTTPBodies
import HTTPTypes
import HTTPServing
import Hummingbird
import Predict

/// The Open Inference Protocol's REST routes (KServe v2, Triton), so that model-serving clients work unchanged:
/// health, server and model metadata, readiness, and `infer` with one BYTES input of encoded images (base64 in the
/// JSON, or raw after it with the binary tensor data extension, tritonclient's default), answered with the
/// probability tensor or, with `parameters.classification = k`, the classification extension's "score:index:label"
/// strings, in the JSON or as binary data when asked. Errors are `{"error": "..."}` as the protocol says.
struct InferenceProtocolRoutes {
    let server: ImageServer

    struct ServerMetadata: Encodable {
        let name: String
        let version: String
        let extensions: [String]
    }

    struct TensorMetadata: Encodable {
        let name: String
        let datatype: String
        let shape: [Int]
    }

    struct ModelMetadata: Encodable {
        let name: String
        let versions: [String]
        let platform: String
        let inputs: [TensorMetadata]
        let outputs: [TensorMetadata]
    }

    func add(to router: Router<BasicRequestContext>) {
        let v2 = router.group("v2").add(middleware: APIKeyMiddleware(key: server.options.apiKey))
        v2.get { _, _ in Replies.json(ServerMetadata(name: "imgcls", version: imgclsVersion, extensions: ["classification", "binary_tensor_data"])) }
        v2.get("health/live") { _, _ in Replies.json(["live": true]) }
        v2.get("health/ready") { _, _ in Replies.json(["ready": server.queue.predictor != nil], status: server.queue.predictor == nil ? .serviceUnavailable : .ok) }
        v2.get("models/:name") { _, context in
            do throws(Replies.Failure) {
                let predictor = try model(context)
                return Replies.json(ModelMetadata(
                    name: predictor.modelName, versions: [predictor.modelVersion], platform: "imgcls",
                    inputs: [TensorMetadata(name: "image", datatype: "BYTES", shape: [-1])],
                    outputs: [TensorMetadata(name: "probabilities", datatype: "FP32", shape: [-1, predictor.labels.count])]))
            } catch { return Replies.error(error.message, status: error.status, headers: error.headers) }
        }
        v2.get("models/:name/ready") { _, context in
            do throws(Replies.Failure) {
                _ = try model(context)
                return Replies.json(["ready": true])
            } catch { return Replies.error(error.message, status: error.status, headers: error.headers) }
        }
        for path in ["models/:name/infer", "models/:name/versions/:version/infer"] {
            v2.post(RouterPath(path)) { request, context in
                do throws(Replies.Failure) { return try await infer(request, context) } catch {
                    return Replies.error(error.message, status: error.status, headers: error.headers)
                }
            }
        }
    }

    /// The model a path names: the one serving, by name (and version, when the path has one).
    private func model(_ context: BasicRequestContext) throws(Replies.Failure) -> Predictor {
        guard let predictor = server.queue.predictor else { throw Replies.failure(.notReady) }
        let name = context.parameters.get("name") ?? ""
        guard name == predictor.modelName else {
            throw Replies.Failure(status: .notFound, message: "no model named \(name); this server has \(predictor.modelName)")
        }
        if let version = context.parameters.get("version"), version != predictor.modelVersion {
            throw Replies.Failure(status: .notFound, message: "model \(name) has version \(predictor.modelVersion), not \(version)")
        }
        return predictor
    }

    private func infer(_ request: Request, _ context: BasicRequestContext) async throws(Replies.Failure) -> Response {
        _ = try model(context)
        let headerLength = request.headers[Self.headerLengthField]
        let mediaType = Replies.contentType(request).mediaType
        guard mediaType == "application/json" || request.headers[.contentType] == nil || (headerLength != nil && mediaType == "application/octet-stream") else {
            throw Replies.Failure(status: .unsupportedMediaType,
                                  message: "send the inference request as application/json (or application/octet-stream with \(InferenceProtocol.headerLengthField))")
        }
        let body = try await Replies.body(request, limit: server.options.maxBodyBytes)
        let asked: InferenceProtocol.Request
        do throws(BodyError) { asked = try InferenceProtocol.request(body, headerLength: headerLength) } catch {
            throw Replies.Failure(status: .badRequest, message: error.description)
        }
        let images = try Replies.images(asked.images)
        let answer = try await server.inference(images)
        var rows: [[Float]] = []
        for outcome in answer.probabilities {
            switch outcome {
            case let .success(values): rows.append(values)
            // A tensor has no per-row errors: one unusable image fails the request, naming it.
            case let .failure(error): throw Replies.Failure(status: Replies.status(for: error), message: "\(error)")
            }
        }
        let labels = answer.predictor.labels
        let output: InferenceProtocol.Output
        if let k = asked.classification {
            let strings = rows.flatMap { row in
                Classification(row, labels: labels, topK: min(k, labels.count), fallback: nil).top.map {
                    InferenceProtocol.classificationString(score: $0.probability, index: $0.index, label: $0.label)
                }
            }
            output = .init(name: asked.outputName, datatype: "BYTES", shape: [rows.count, min(k, labels.count)], data: .strings(strings))
        } else {
            output = .init(name: asked.outputName, datatype: "FP32", shape: [rows.count, labels.count], data: .numbers(rows.flatMap { $0 }))
        }
        let response = InferenceProtocol.Response(modelName: answer.predictor.modelName, modelVersion: answer.predictor.modelVersion,
                                                  id: asked.id, outputs: [output])
        guard asked.binaryOutput else { return Replies.json(response) }
        let (bytes, jsonLength) = InferenceProtocol.binaryBody(response) { Array((try? Replies.encoder.encode($0)) ?? Data("{}".utf8)) }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream", Self.headerLengthField: String(jsonLength)],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static let headerLengthField = HTTPField.Name(InferenceProtocol.headerLengthField)!
}
