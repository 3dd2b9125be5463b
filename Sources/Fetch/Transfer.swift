internal import CCurl
import Foundation

/// The state of one libcurl transfer: the growing body and the headers of the current response. libcurl calls
/// back into it (through `CURLOPT_PRIVATE`-style user data) on the engine thread only.
final class Transfer {
    let job: FetchJob
    let handle: UnsafeMutableRawPointer
    let maxBytes: Int
    let respectOptOut: Bool
    let started = monotonicSeconds()
    var body: [UInt8] = []
    var tooLarge = false
    var optedOut = false
    /// Headers of the response being received; reset at each status line (redirects have their own).
    private var headers: [(name: String, value: String)] = []

    init(job: FetchJob, handle: UnsafeMutableRawPointer, maxBytes: Int, respectOptOut: Bool) {
        self.job = job
        self.handle = handle
        self.maxBytes = maxBytes
        self.respectOptOut = respectOptOut
    }

    func header(_ name: String) -> String? {
        headers.last { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    fileprivate func receiveHeader(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingWhitespace()
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        headers.append((name, value))
    }

    /// Called for each block of body bytes of the final response; false aborts the transfer.
    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if body.isEmpty && respectOptOut && job.kind != .robots && OptOut.forbidsAI(headers.filter {
            $0.name.caseInsensitiveCompare("X-Robots-Tag") == .orderedSame
        }.map(\.value)) {
            optedOut = true
            return false
        }
        guard body.count + bytes.count <= maxBytes else {
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// The opt-out check for responses with no body (so `receiveBody` never ran).
    func checkOptOut() {
        if respectOptOut && !optedOut && job.kind != .robots {
            optedOut = OptOut.forbidsAI(headers.filter { $0.name.caseInsensitiveCompare("X-Robots-Tag") == .orderedSame }.map(\.value))
        }
    }

    /// libcurl's C callbacks: they find the transfer through the user-data pointer.
    static let writeCallback: curl_write_callback = { data, size, count, user in
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        let length = size * count
        return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    static let headerCallback: curl_write_callback = { data, size, count, user in
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        let length = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        transfer.receiveHeader(line)
        return length
    }
}

/// `X-Robots-Tag` directives that opt an image out of AI use. A value may name a user agent first
/// ("otherbot: noai"); those for other agents do not apply to us.
enum OptOut {
    static func forbidsAI(_ values: [String], userAgentToken: String = "imgcls") -> Bool {
        for value in values {
            var directives = value.lowercased()
            if let colon = directives.firstIndex(of: ":") {
                let agent = directives[..<colon].trimmingWhitespace()
                // "name: directives" names an agent unless the part before the colon is itself a directive.
                if !agent.contains(","), !["noai", "noimageai", "none", "noindex", "nofollow", "unavailable_after"].contains(agent) {
                    guard agent == userAgentToken.lowercased() || agent == "*" else { continue }
                    directives = String(directives[directives.index(after: colon)...])
                }
            }
            let tokens = directives.split(separator: ",").map { $0.trimmingWhitespace() }
            if tokens.contains("noai") || tokens.contains("noimageai") { return true }
        }
        return false
    }
}
