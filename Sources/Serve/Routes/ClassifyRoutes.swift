import Files
import HTTPBodies
import HTTPServing
import Hummingbird
import NIOCore
import Predict

/// The modern API: `POST /v1/classify` (a raw `image/*` body, a multipart upload of one or more files, or JSON
/// `{"image_base64": ...}`, one or a list), answering per image the top-k labels, whether the fallback rule fired,
/// the model's name and version and the time taken; `GET /healthz`, `GET /readyz`, `GET /metrics`.
struct ClassifyRoutes {
    let server: ImageServer

    func add(to router: Router<BasicRequestContext>) {
        router.get("healthz") { _, _ in Replies.json(["status": "alive"]) }
        router.get("readyz") { _, _ in
            guard let predictor = server.queue.predictor else { return Replies.json(["status": "loading"], status: .serviceUnavailable) }
            return Replies.json(["status": "ready", "model": predictor.modelName, "model_version": predictor.modelVersion])
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: ServerMetrics.text())))
        }
        router.group("v1").add(middleware: APIKeyMiddleware(key: server.options.apiKey)).post("classify") { request, _ in
            do throws(Replies.Failure) {
                return try await classify(request)
            } catch {
                return Replies.error(error.message, status: error.status, headers: error.headers)
            }
        }
    }

    private func classify(_ request: Request) async throws(Replies.Failure) -> Response {
        let started = monotonicSeconds()
        var topK = server.options.topK
        if let value = request.uri.queryParameters["top_k"] {
            guard let k = Int(String(value)), k >= 1 else {
                throw Replies.Failure(status: .badRequest, message: "top_k must be a positive integer, not \(value)")
            }
            topK = k
        }
        let body = try await Replies.body(request, limit: server.options.maxBodyBytes)
        let images = try Replies.images(try payloads(body, Replies.contentType(request)))
        let answer = try await server.inference(images)
        let predictor = answer.predictor
        let records = zip(images, answer.probabilities).map { image, outcome in
            PredictionRecord(ImageResult(name: image.name, outcome: outcome.map {
                Classification($0, labels: predictor.labels, topK: topK, fallback: server.options.fallback)
            }))
        }
        let reply = AnswerDocument(predictor, results: records, timeMs: ((monotonicSeconds() - started) * 1e5).rounded() / 100)
        // All refused: the request's images are unusable, a client error; some refused: each result says which.
        if let refusal = answer.probabilities.compactMap({ if case let .failure(e) = $0 { e } else { nil } }).first,
           records.allSatisfy({ $0.error != nil }) {
            return Replies.json(reply, status: Replies.status(for: refusal))
        }
        return Replies.json(reply)
    }

    /// The images of a body, by its Content-Type.
    private func payloads(_ body: [UInt8], _ type: ContentType) throws(Replies.Failure) -> [ImagePayload] {
        guard type.isImage || type.mediaType == "application/json" || type.mediaType == "multipart/form-data" else {
            throw Replies.Failure(status: .unsupportedMediaType,
                                  message: "send an image (image/*), a multipart upload or JSON {\"image_base64\": ...}, not \(type.mediaType.isEmpty ? "no Content-Type" : type.mediaType)")
        }
        do throws(BodyError) {
            if type.isImage {
                guard !body.isEmpty else { throw BodyError("the body is empty; send the image's bytes") }
                return [.bytes(name: "body", body)]
            }
            if type.mediaType == "application/json" { return try ClassifyJSON.images(body) }
            let parts = try MultipartForm.parts(body, contentType: type)
            let images: [ImagePayload] = parts.enumerated().compactMap { i, part in
                if part.filename != nil || part.contentType.map({ ContentType($0).isImage }) == true {
                    return .bytes(name: part.filename ?? part.name ?? "part \(i + 1)", part.body)
                }
                return part.name == "image_base64" ? .base64(name: "image_base64", String(decoding: part.body, as: UTF8.self)) : nil
            }
            guard !images.isEmpty else { throw BodyError("the multipart body has no file part (one with a filename or an image/* Content-Type)") }
            return images
        } catch {
            throw Replies.Failure(status: .badRequest, message: error.description)
        }
    }
}
