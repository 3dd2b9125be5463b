internal import CCurl
import Files
import Foundation

/// The state of one libcurl transfer: the growing body and the headers of the current response. libcurl calls
/// back into it (through `CURLOPT_PRIVATE`-style user data) on the engine thread only.
final class Transfer {
    let job: FetchJob
    let handle: UnsafeMutableRawPointer
    let maxBytes: Int
    let respectOptOut: Bool
    let started = monotonicSeconds()
    /// When the first response header arrived (nil: the server has said nothing yet).
    var firstByteAt: Double?
    /// Past its first-byte deadline with nothing received: no longer counted against its host's limit.
    var releasedFromHost = false
    var body: [UInt8] = []
    var tooLarge = false
    var optedOut = false
    /// X-Robots-Tag values of the response being received; reset at each status line (redirects have their
    /// own headers).
    private var robotsTags: [String] = []

    init(job: FetchJob, handle: UnsafeMutableRawPointer, maxBytes: Int, respectOptOut: Bool, buffer: [UInt8]) {
        self.job = job
        self.handle = handle
        self.maxBytes = maxBytes
        self.respectOptOut = respectOptOut
        body = buffer
    }

    /// Keeps only what the engine reads itself (libcurl reports status, type and Retry-After): the
    /// X-Robots-Tag values of the current response.
    fileprivate func receiveHeader(_ line: UnsafeRawBufferPointer) {
        if firstByteAt == nil { firstByteAt = monotonicSeconds() }
        if line.starts(with: "HTTP/".utf8) {
            robotsTags.removeAll()
            return
        }
        let name = "x-robots-tag:".utf8
        guard line.count > name.count, zip(line, name).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { return }
        robotsTags.append(String(decoding: line[name.count...], as: UTF8.self).trimmingWhitespace())
    }

    /// Called for each block of body bytes of the final response; false aborts the transfer.
    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if body.isEmpty {
            if respectOptOut && job.kind != .robots && OptOut.forbidsAI(robotsTags) && isSuccessStatus {
                optedOut = true
                return false
            }
            // Reserve what the server announced (within the cap), so the body grows without copies.
            var announced: curl_off_t = -1
            imgcls_curl_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced)
            if announced > 0 { body.reserveCapacity(min(Int(announced), maxBytes)) }
        }
        guard body.count + bytes.count <= maxBytes else {
            if job.kind == .robots {
                // RFC 9309: parse the first 500 KiB; the rest is read and dropped.
                body.append(contentsOf: bytes.prefix(maxBytes - body.count))
                return true
            }
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// The opt-out check for responses with no body (so `receiveBody` never ran).
    func checkOptOut() {
        if respectOptOut && !optedOut && job.kind != .robots && isSuccessStatus {
            optedOut = OptOut.forbidsAI(robotsTags)
        }
    }

    /// Opt-out applies to images served, not to error pages (a 503 must be retried, a 404 reported as such).
    private var isSuccessStatus: Bool {
        var status = 0
        imgcls_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return (200..<300).contains(status)
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
        transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: length))
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
