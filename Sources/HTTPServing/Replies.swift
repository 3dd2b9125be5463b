import Foundation
import HTTPBodies
import Hummingbird
import NIOCore

/// JSON replies and request bodies, the same way for every route.
public enum Replies {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let bytes = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `{"error": "..."}`: the shape of the Open Inference Protocol's errors, used by every modern route.
    public static func error(_ message: String, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        json(["error": message], status: status, headers: headers)
    }

    /// A failure a client can act on, with its status; each route words it in its own reply shape.
    public struct Failure: Error {
        public let status: HTTPResponse.Status
        public let message: String
        public var headers: HTTPFields = [:]

        public init(status: HTTPResponse.Status, message: String, headers: HTTPFields = [:]) {
            (self.status, self.message, self.headers) = (status, message, headers)
        }
    }

    /// The request body, at most `limit` bytes (413 beyond).
    public static func body(_ request: Request, limit: Int, limitOption: String = "--max-body-mb") async throws(Failure) -> [UInt8] {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw Failure(status: .contentTooLarge, message: "the body is larger than the limit of \(limit) bytes (\(limitOption))")
        } catch {
            throw Failure(status: .badRequest, message: "the body could not be read: \(error)")
        }
    }

    public static func contentType(_ request: Request) -> ContentType {
        ContentType(request.headers[.contentType] ?? "")
    }
}

/// The server's API key on the routes it guards, when the server has one: `Authorization: Bearer KEY` (programs), or
/// for a browser (`browser`) HTTP Basic with the key as the password (the browser asks for it once and sends it with
/// every request, pictures included).
public struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String?
    let browser: Bool

    public init(key: String?, browser: Bool = false) { (self.key, self.browser) = (key, browser) }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key else { return try await next(request, context) }
        let given = request.headers[.authorization] ?? ""
        var accepted = Self.same(given, "Bearer \(key)")
        if browser, given.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(given.dropFirst(6))),
           let password = String(decoding: decoded, as: UTF8.self).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last {
            accepted = accepted || Self.same(String(password), key)
        }
        guard accepted else {
            return Replies.error(given.isEmpty ? "an API key is required: send Authorization: Bearer KEY" : "the API key is wrong",
                                 status: .unauthorized, headers: [.wwwAuthenticate: browser ? "Basic realm=\"imgcls\", charset=\"UTF-8\"" : "Bearer"])
        }
        return try await next(request, context)
    }

    /// Equal, in the same time whatever the first wrong byte.
    public static func same(_ given: String, _ expected: String) -> Bool {
        let expected = Array(expected.utf8), sent = Array(given.utf8)
        var difference = UInt8(expected.count == sent.count ? 0 : 1)
        for i in 0..<min(expected.count, sent.count) { difference |= expected[i] ^ sent[i] }
        return difference == 0
    }
}
