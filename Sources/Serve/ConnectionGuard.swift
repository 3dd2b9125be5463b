import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// What keeps clients that never finish a request from holding the server (with Hummingbird's idle timeout, which
/// closes a connection whose headers or body stop arriving, or that sits idle between requests): a cap on open
/// connections, logged when reached, and an immediate 413 for a body declared larger than the limit (the body is
/// never kept; the connection closes after the answer). One guard per connection, sharing one `ConnectionCount`.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let count: ConnectionCount
    private let maxBodyBytes: Int
    private var counted = false
    /// After a refusal, the rest of the request is dropped until the connection closes.
    private var refused = false

    init(count: ConnectionCount, maxBodyBytes: Int) {
        (self.count, self.maxBodyBytes) = (count, maxBodyBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = count.open()
        if !counted { context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted { count.close() }
        counted = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else {
            // The refused request's body is read and dropped until it ends (or the linger runs out).
            if case .end = unwrapInboundIn(data) { context.close(promise: nil) }
            return
        }
        if case let .head(request) = unwrapInboundIn(data),
           let declared = request.headerFields[.contentLength].flatMap({ Int($0) }), declared > maxBodyBytes {
            refused = true
            let body = ByteBuffer(string: #"{"error": "the request body declares \#(declared) bytes; the limit is \#(maxBodyBytes) (--max-body-mb)"}"#)
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
final class ConnectionCount: @unchecked Sendable {
    let limit: Int
    private let logger: Logger
    private let lock = NSLock()
    private var openCount = 0
    private var refusing = false

    init(limit: Int, logger: Logger) {
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
