import Foundation
import HTTPBodies
import HTTPServing
import Hummingbird
import Imaging
import NIOCore
import Predict

/// The model service's own replies (the shared ones are HTTPServing's `Replies`).
extension Replies {
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

