import Foundation
import HTTPBodies
import Hummingbird
import Imaging
import NIOCore
import Predict

/// JSON replies and request bodies, the same way for every route.
enum Replies {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let bytes = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"error": "..."}`: the shape of the Open Inference Protocol's errors, used by every modern route.
    static func error(_ message: String, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        json(["error": message], status: status, headers: headers)
    }

    /// A failure a client can act on, with its status; each route words it in its own reply shape.
    struct Failure: Error {
        let status: HTTPResponse.Status
        let message: String
        var headers: HTTPFields = [:]
    }

    /// The request body, at most `limit` bytes (413 beyond).
    static func body(_ request: Request, limit: Int) async throws(Failure) -> [UInt8] {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw Failure(status: .contentTooLarge, message: "the body is larger than the limit of \(limit) bytes (--max-body-mb)")
        } catch {
            throw Failure(status: .badRequest, message: "the body could not be read: \(error)")
        }
    }

    static func contentType(_ request: Request) -> ContentType {
        ContentType(request.headers[.contentType] ?? "")
    }

    /// Payloads to images: base64 decoded here, where the name of the field is known.
    static func images(_ payloads: [ImagePayload]) throws(Failure) -> [ImageInput] {
        var images: [ImageInput] = []
        for payload in payloads {
            switch payload {
            case let .bytes(name, bytes): images.append(ImageInput(name: name, bytes: bytes))
            case let .base64(name, text):
                do { images.append(try ImageInput.base64(text, name: name)) } catch {
                    throw Failure(status: .badRequest, message: error.description)
                }
            }
        }
        return images
    }

    /// Why the queue refused, as a status and message.
    static func failure(_ refusal: InferenceQueue.Refusal) -> Failure {
        switch refusal {
        case .full: Failure(status: .serviceUnavailable, message: "the server is at capacity (its queue is full); retry shortly",
                            headers: [.retryAfter: "1"])
        case .timedOut: Failure(status: .serviceUnavailable, message: "the request waited longer than the server's timeout; retry",
                                headers: [.retryAfter: "1"])
        case .notReady: Failure(status: .serviceUnavailable, message: "the model is still loading; retry shortly", headers: [.retryAfter: "1"])
        }
    }

    /// The status for an image that was refused: too many pixels is a limit (413), the rest unusable input (422).
    static func status(for error: ImageError) -> HTTPResponse.Status {
        error.reason == .tooManyPixels ? .contentTooLarge : .unprocessableContent
    }
}

extension ImageServer {
    /// The images' batch answer from the queue, or the failure to reply with (too many images, queue full,
    /// timed out, no model yet).
    func inference(_ images: [ImageInput]) async throws(Replies.Failure) -> InferenceQueue.Answer {
        guard images.count <= options.maxQueue else {
            throw Replies.Failure(status: .contentTooLarge, message: "\(images.count) images in one request; the server takes at most \(options.maxQueue) (--max-queue)")
        }
        switch await queue.probabilities(images) {
        case let .success(answer): return answer
        case let .failure(refusal): throw Replies.failure(refusal)
        }
    }
}

/// `Authorization: Bearer KEY` on the routes it guards (the /v1 and /v2 groups) when the server has a key.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key else { return try await next(request, context) }
        let given = request.headers[.authorization] ?? ""
        // The same time whatever the key's first wrong byte.
        let expected = Array("Bearer \(key)".utf8), sent = Array(given.utf8)
        var difference = UInt8(expected.count == sent.count ? 0 : 1)
        for i in 0..<min(expected.count, sent.count) { difference |= expected[i] ^ sent[i] }
        guard difference == 0 else {
            return Replies.error(given.isEmpty ? "an API key is required: send Authorization: Bearer KEY" : "the API key is wrong",
                                 status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        }
        return try await next(request, context)
    }
}
