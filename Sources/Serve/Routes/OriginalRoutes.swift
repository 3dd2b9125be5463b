import HTTPBodies
import HTTPServing
import Hummingbird
import Predict

/// The original Flask service's API, for the clients that call it today: `GET /helloWorld`, and
/// `POST /image/detection` with the form field `imageBase64String` (urlencoded or multipart), answered
/// `{"code": "00", "message", "predictedClass", "probability": "<string>"}` or `{"code": "98", "message"}`.
/// The fallback rule (`--min-confidence`, `--fallback-label`) is the one the original meant to apply.
struct OriginalRoutes {
    let server: ImageServer

    static let field = "imageBase64String"

    struct Answer: Encodable {
        let code: String
        let message: String
        let predictedClass: String?
        let probability: String?
    }

    struct Form: Decodable {
        let imageBase64String: String?
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("helloWorld") { _, _ in "Hello World!" }
        router.post("image/detection") { request, _ in
            do throws(Replies.Failure) {
                return try await detect(request)
            } catch {
                return Replies.json(Answer(code: "98", message: error.message, predictedClass: nil, probability: nil),
                                    status: error.status, headers: error.headers)
            }
        }
    }

    private func detect(_ request: Request) async throws(Replies.Failure) -> Response {
        let body = try await Replies.body(request, limit: server.options.maxBodyBytes)
        let text = try imageText(body, Replies.contentType(request))
        let image = try Replies.images([.base64(name: Self.field, text)])
        let answer = try await server.inference(image)
        let probabilities: [Float]
        switch answer.probabilities[0] {
        case let .success(values): probabilities = values
        case let .failure(error): throw Replies.Failure(status: Replies.status(for: error), message: "\(error)")
        }
        let c = Classification(probabilities, labels: answer.predictor.labels, topK: 1, fallback: server.options.fallback)
        return Replies.json(Answer(code: "00", message: "success", predictedClass: c.label, probability: String(c.confidence)))
    }

    /// The field's text, from an urlencoded or a multipart form.
    private func imageText(_ body: [UInt8], _ type: ContentType) throws(Replies.Failure) -> String {
        let missing = Replies.Failure(status: .badRequest, message: "the form has no \(Self.field) field; send the image as base64 in it")
        switch type.mediaType {
        case "application/x-www-form-urlencoded":
            let form: Form
            do { form = try URLEncodedFormDecoder().decode(Form.self, from: String(decoding: body, as: UTF8.self)) } catch {
                throw Replies.Failure(status: .badRequest, message: "the urlencoded form cannot be read: \(error)")
            }
            guard let text = form.imageBase64String, !text.isEmpty else { throw missing }
            return text
        case "multipart/form-data":
            let parts: [FormPart]
            do { parts = try MultipartForm.parts(body, contentType: type) } catch {
                throw Replies.Failure(status: .badRequest, message: error.description)
            }
            guard let part = parts.first(where: { $0.name == Self.field }), !part.body.isEmpty else { throw missing }
            return String(decoding: part.body, as: UTF8.self)
        default:
            throw Replies.Failure(status: .unsupportedMediaType,
                                  message: "send a form (application/x-www-form-urlencoded or multipart/form-data) with the field \(Self.field), not \(type.mediaType.isEmpty ? "no Content-Type" : type.mediaType)")
        }
    }
}
