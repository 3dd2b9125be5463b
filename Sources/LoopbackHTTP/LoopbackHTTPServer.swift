// LoopbackHTTP: a small HTTP server on 127.0.0.1 for tests and the demo (never the product's server: Serve is).
// Entry: `LoopbackHTTPServer`. Files in reading order: LoopbackHTTPServer.swift (this file).

internal import CLibz
import Files
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A request as the server read it.
public struct LoopbackRequest: Sendable {
    public let method: String
    /// Path and query, as sent.
    public let target: String
    /// Header names in lower case.
    public let headers: [String: String]
    /// When the request arrived.
    public let receivedAt: Date

    public var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
}

/// What the handler answers, and how the server misbehaves when a test asks it to.
public struct LoopbackResponse: Sendable {
    public enum Behavior: Sendable {
        case normal
        /// Send the headers and the first `afterBytes` of the body, then go silent for `seconds`.
        case stall(afterBytes: Int, seconds: Double)
        /// Announce the whole length, send only `afterBytes`, and close.
        case cutOff(afterBytes: Int)
        /// Wait before answering.
        case delay(seconds: Double)
        /// Send no Content-Length: the body ends when the connection closes.
        case closeDelimited
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var behavior: Behavior = .normal
    /// Send the body gzip-compressed with `Content-Encoding: gzip` when the client accepts it.
    public var gzip = false

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], behavior: Behavior = .normal, gzip: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.behavior = behavior
        self.gzip = gzip
    }

    public static func ok(_ body: [UInt8], contentType: String) -> LoopbackResponse {
        LoopbackResponse(status: 200, headers: [("Content-Type", contentType)], body: body)
    }

    public static func status(_ code: Int, _ text: String = "") -> LoopbackResponse {
        LoopbackResponse(status: code, headers: [("Content-Type", "text/plain")], body: Array(text.utf8))
    }

    public static func redirect(to location: String, status: Int = 302) -> LoopbackResponse {
        LoopbackResponse(status: status, headers: [("Location", location)])
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 for tests and the demo: a thread per connection, keep-alive, and the
/// failure modes a downloader must survive (stalls, cut-off bodies, delays). Not for production traffic.
public final class LoopbackHTTPServer: @unchecked Sendable {
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let listener: Int32
    private let handler: @Sendable (LoopbackRequest) -> LoopbackResponse
    private let lock = NSLock()
    private var stopped = false
    private var log: [LoopbackRequest] = []

    public init(port requestedPort: Int = 0, handler: @escaping @Sendable (LoopbackRequest) -> LoopbackResponse) throws {
        self.handler = handler
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(requestedPort).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 256) == 0 else {
            close(listener)
            throw ServerError("cannot listen on 127.0.0.1:\(requestedPort): \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let accepter = Thread { [self] in acceptLoop() }
        accepter.name = "loopback-http accept"
        accepter.start()
    }

    deinit { stop() }

    /// Every request so far, in arrival order.
    public var requests: [LoopbackRequest] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.unlock()
        if !wasStopped {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        while !isStopped {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            let thread = Thread { [self] in serve(connection) }
            thread.name = "loopback-http connection"
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)  // idle keep-alive connections end
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        while !isStopped {
            guard let (request, consumed) = readRequest(fd, &buffer) else { return }
            buffer.removeFirst(consumed)
            lock.lock()
            log.append(request)
            lock.unlock()
            let response = handler(request)
            let keepAlive = request.headers["connection"]?.lowercased() != "close"
            guard send(response, to: fd, request: request, keepAlive: keepAlive), keepAlive else { return }
        }
    }

    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> (LoopbackRequest, Int)? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        while true {
            if let end = buffer.firstRange(of: terminator) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let requestLine = lines.removeFirst().split(separator: " ")
                guard requestLine.count >= 2 else { return nil }
                var headers: [String: String] = [:]
                for line in lines {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let bodyLength = Int(headers["content-length"] ?? "0") ?? 0
                var consumed = end.upperBound
                while buffer.count < consumed + bodyLength {
                    guard readMore(fd, &buffer) else { return nil }
                }
                consumed += bodyLength
                return (LoopbackRequest(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers,
                                     receivedAt: Date()), consumed)
            }
            guard readMore(fd, &buffer), buffer.count < 1 << 20 else { return nil }
        }
    }

    private func readMore(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    private func send(_ response: LoopbackResponse, to fd: Int32, request: LoopbackRequest, keepAlive: Bool) -> Bool {
        if case .delay(let seconds) = response.behavior { pause(seconds) }
        var body = response.body
        var headers = response.headers
        if response.gzip, request.headers["accept-encoding"]?.contains("gzip") == true {
            body = Gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        }
        var closeAfter = !keepAlive
        if case .normal = response.behavior {} else if case .delay = response.behavior {} else { closeAfter = true }
        var head = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if case .closeDelimited = response.behavior {} else { head += "Content-Length: \(body.count)\r\n" }
        head += closeAfter ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n"
        if request.method == "HEAD" { return write(fd, Array(head.utf8)) && !closeAfter }
        if case .normal = response.behavior {
            // One write for head and body: two small writes meet Nagle and delayed ACKs (40 ms each).
            return write(fd, Array(head.utf8) + body) && !closeAfter
        }
        guard write(fd, Array(head.utf8)) else { return false }
        switch response.behavior {
        case .stall(let after, let seconds):
            _ = write(fd, Array(body.prefix(after)))
            pause(seconds)
            return false
        case .cutOff(let after):
            _ = write(fd, Array(body.prefix(after)))
            return false
        case .closeDelimited:
            _ = write(fd, body)
            return false
        case .normal, .delay:
            return write(fd, body) && !closeAfter
        }
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Sleeps in short steps so `stop()` is not held up by a stalling response.
    private func pause(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end && !isStopped { usleep(20_000) }
    }

    private func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 404: "Not Found"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

public typealias ServerError = ErrorMessage

/// gzip compression with zlib (for `Content-Encoding: gzip` responses and gzip manifests in tests).
public enum Gzip {
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard imgcls_deflate_init2(&stream, Z_DEFAULT_COMPRESSION, 15 + 16) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                _ = deflate(&stream, Z_FINISH)
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<produced])
    }
}
