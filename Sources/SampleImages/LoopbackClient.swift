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
