// HTTPServing: what both servers (`imgcls serve`, `imgcls review`) share, so each holds only honest clients the same
// way and answers in one shape. Files in reading order:
// - ConnectionGuard.swift: the cap on open connections, the immediate 413, and the HTTP/1 configuration with the idle
//   timeout (this file);
// - Replies.swift: JSON replies and errors, request bodies read within limits, the API key middleware.

import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// What keeps clients that never finish a request from holding the server (with Hummingbird's idle timeout, which
/// closes a connection whose headers or body stop arriving, or that sits idle between requests): a cap on open
/// connections, logged when reached, and an immediate 413 for a body declared larger than the limit (the body is
/// never kept; the connection closes after the answer). One guard per connection, sharing one `ConnectionCount`.
public final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundOut = HTTPResponsePart

    private let count: ConnectionCount
    private let maxBodyBytes: Int
    /// The option that sets the limit, named in the refusal.
    private let limitOption: String
    private var counted = false
    /// After a refusal, the rest of the request is dropped until the connection closes.
    private var refused = false

    public init(count: ConnectionCount, maxBodyBytes: Int, limitOption: String) {
        (self.count, self.maxBodyBytes, self.limitOption) = (count, maxBodyBytes, limitOption)
    }

    /// A server's HTTP/1 configuration: this guard on every connection, and the idle timeout (the time allowed for
    /// the headers, between body bytes, and between requests).
    public static func http1(maxConnections: Int, maxBodyBytes: Int, limitOption: String, idleTimeoutSeconds: Double,
                             logger: Logger) -> HTTP1Channel.Configuration {
        let connections = ConnectionCount(limit: maxConnections, logger: logger)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(count: connections, maxBodyBytes: maxBodyBytes, limitOption: limitOption)],
            idleTimeout: .nanoseconds(Int64(idleTimeoutSeconds * 1e9)))
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        counted = count.open()
        if !counted { context.close(promise: nil) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        if counted { count.close() }
        counted = false
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else {
            // The refused request's body is read and dropped until it ends (or the linger runs out).
            if case .end = unwrapInboundIn(data) { context.close(promise: nil) }
            return
        }
        if case let .head(request) = unwrapInboundIn(data),
           let declared = request.headerFields[.contentLength].flatMap({ Int($0) }), declared > maxBodyBytes {
            refused = true
            let body = ByteBuffer(string: #"{"error": "the request body declares \#(declared) bytes; the limit is \#(maxBodyBytes) (\#(limitOption))"}"#)
            var response = HTTPResponse(status: .contentTooLarge)
            response.headerFields[.contentType] = "application/json"
            response.headerFields[.contentLength] = String(body.readableBytes)
            response.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            // A lingering close, as nginx does: the answer and our end of the connection go first, then what the
            // client still sends is read and dropped for a while, so that closing with unread bytes (a reset) does
            // not destroy the answer before the client reads it.
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                context.close(mode: .output, promise: nil)
                context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
            }
            return
        }
        context.fireChannelRead(data)
    }
}

/// The server's open connections against its cap; the first refusal of a burst is logged.
public final class ConnectionCount: @unchecked Sendable {
    public let limit: Int
    private let logger: Logger
    private let lock = NSLock()
    private var openCount = 0
    private var refusing = false

    public init(limit: Int, logger: Logger) {
        (self.limit, self.logger) = (limit, logger)
    }

    /// Counts a new connection; false (and a log line when refusals start) when the cap is reached.
    func open() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard openCount < limit else {
            if !refusing {
                refusing = true
                logger.warning("\(limit) connections open (--max-connections): closing new ones until some end")
            }
            return false
        }
        openCount += 1
        refusing = false
        return true
    }

    func close() {
        lock.lock()
        openCount -= 1
        lock.unlock()
    }
}
