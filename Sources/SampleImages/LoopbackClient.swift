import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A raw connection to a server on 127.0.0.1, for tests of what a well-behaved HTTP client would not do (stop in
/// the middle of a request, declare a body it never sends) and of exact bytes on the wire.
public final class LoopbackConnection {
    let socket: Int32

    public init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(socket); throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(socket) }

    public func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    /// What has arrived so far without waiting, and whether the server has closed (its side of) the connection.
    public func poll() -> (text: String, closed: Bool) {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var text = ""
        while true {
            let n = recv(socket, &bytes, bytes.count, Int32(MSG_DONTWAIT))
            if n > 0 { text += String(decoding: bytes[0..<n], as: UTF8.self); continue }
            return (text, n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        }
    }

    /// Everything the server sends until it closes the connection (blocking).
    public func readToEnd() -> String {
        var reply: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(socket, &buffer, buffer.count, 0)
            if n <= 0 { break }
            reply += buffer[0..<n]
        }
        return String(decoding: reply, as: UTF8.self)
    }
}

/// The clients a server must not let hold it, for both servers' stalled-connection tests.
public enum StalledClients {
    /// A POST to `path` that declares a 10 GB body and sends none of it.
    public static func declaringTenGigabytes(port: Int, path: String, contentType: String) throws -> LoopbackConnection {
        let connection = try LoopbackConnection(port: port)
        connection.send("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(contentType)\r\nContent-Length: 10737418240\r\n\r\n")
        return connection
    }

    /// `count` POSTs to `path` that stop: half in their headers, half after a few bytes of a declared body.
    public static func open(_ count: Int, port: Int, path: String, contentType: String) throws -> [LoopbackConnection] {
        try (0..<count).map { i in
            let connection = try LoopbackConnection(port: port)
            connection.send(i % 2 == 0 ? "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"
                                       : "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(contentType)\r\nContent-Length: 1000\r\n\r\n12345")
            return connection
        }
    }

    /// What the server sent on `connection` until it closed it or `seconds` passed, and the time that took.
    public static func answer(_ connection: LoopbackConnection, within seconds: Double) async throws -> (text: String, closed: Bool, seconds: Double) {
        let started = Date()
        var answer = connection.poll()
        while !answer.closed && Date().timeIntervalSince(started) < seconds {
            try await Task.sleep(for: .milliseconds(20))
            let more = connection.poll()
            answer = (answer.text + more.text, more.closed)
        }
        return (answer.text, answer.closed, Date().timeIntervalSince(started))
    }

    /// Waits (up to `seconds`) until every connection is closed; returns how many are still open.
    public static func stillOpen(_ connections: [LoopbackConnection], after seconds: Double) async throws -> Int {
        let started = Date()
        while Date().timeIntervalSince(started) < seconds, !connections.allSatisfy({ $0.poll().closed }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        return connections.filter { !$0.poll().closed }.count
    }
}
