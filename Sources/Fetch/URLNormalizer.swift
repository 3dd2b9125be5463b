internal import CCurl

/// Checks and normalises URLs with libcurl's own parser (so what is stored is exactly what curl fetches):
/// http and https only, scheme and host in lower case, no default port, no fragment, dot segments
/// resolved, spaces and other unsafe bytes percent-encoded.
enum URLNormalizer {
    enum Failure: Error, Equatable {
        case invalid(String)
    }

    static func normalize(_ text: String) -> Result<String, Failure> {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { return .failure(.invalid("the URL is empty")) }
        if isAlreadyNormal(trimmed) { return .success(trimmed) }
        guard let handle = curl_url() else { return .failure(.invalid("out of memory")) }
        defer { curl_url_cleanup(handle) }
        return parse(trimmed, into: handle)
    }

    /// True for URLs libcurl would give back unchanged: lower-case http(s) scheme and host, no default port,
    /// no fragment, no dot segments, only characters that need no encoding. Most URLs in real lists are
    /// like this, and checking is far cheaper than parsing (a 1.5M-line manifest spends its time here).
    static func isAlreadyNormal(_ url: String) -> Bool {
        var bytes = url.utf8[...]
        let https = bytes.starts(with: "https://".utf8)
        guard https || bytes.starts(with: "http://".utf8) else { return false }
        bytes = bytes.dropFirst(https ? 8 : 7)
        // Host: lower-case letters, digits, dots and hyphens; then an optional non-default port.
        var hostLength = 0
        while let c = bytes.first, (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2D {
            hostLength += 1
            bytes = bytes.dropFirst()
        }
        guard hostLength > 0 else { return false }
        // A host whose last label starts with a digit may be an IPv4 address in a form libcurl rewrites
        // ("127.1", "0x7f000001"): leave those to libcurl.
        let host = url.utf8.dropFirst(https ? 8 : 7).prefix(hostLength)
        if let lastLabel = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).last,
           let first = lastLabel.first, first >= 0x30 && first <= 0x39 {
            return false
        }
        if bytes.first == UInt8(ascii: ":") {
            let port = bytes.dropFirst().prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard !port.isEmpty, port.first != 0x30, let value = Int(String(decoding: port, as: UTF8.self)),
                  value < 65536, value != (https ? 443 : 80) else { return false }
            bytes = bytes.dropFirst(1 + port.count)
        }
        guard bytes.first == UInt8(ascii: "/") else { return false }
        // Path and query: characters that need no encoding, well-formed percent escapes, no "." or ".."
        // path segments.
        var inQuery = false
        var segment = 0  // bytes in the current path segment; -1 once it holds anything but dots
        for (offset, c) in zip(0..., bytes) {
            if c == UInt8(ascii: "%") {
                let escape = bytes.dropFirst(offset + 1).prefix(2)
                guard escape.count == 2, escape.allSatisfy(isHex) else { return false }
            } else if !plainURLBytes[Int(c)] {
                return false
            }
            guard !inQuery else { continue }
            switch c {
            case UInt8(ascii: "?"):
                if segment == 1 || segment == 2 { return false }
                inQuery = true
            case UInt8(ascii: "/"):
                if segment == 1 || segment == 2 { return false }
                segment = 0
            case UInt8(ascii: "."):
                if segment >= 0 { segment += 1 }
            default:
                segment = -1
            }
        }
        return inQuery || !(segment == 1 || segment == 2)
    }

    /// Printable ASCII that URLs carry unencoded (so not `#`, quotes, angle brackets, braces, `^`, `` ` ``,
    /// `|`, backslash or square brackets).
    private static let plainURLBytes: [Bool] = (0..<256).map { c in
        c >= 0x21 && c <= 0x7E && !"#\\\"<>^`{}|[]".utf8.contains(UInt8(c))
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    /// Resolves `reference` (absolute, or relative to `base`) and normalises the result.
    static func resolve(_ reference: String, against base: String) -> Result<String, Failure> {
        guard let handle = curl_url() else { return .failure(.invalid("out of memory")) }
        defer { curl_url_cleanup(handle) }
        guard curl_url_set(handle, CURLUPART_URL, base, UInt32(CURLU_URLENCODE | CURLU_ALLOW_SPACE)) == CURLUE_OK else {
            return .failure(.invalid("the base URL \(base) is malformed"))
        }
        return parse(reference.trimmingWhitespace(), into: handle)
    }

    private static func parse(_ text: String, into handle: OpaquePointer) -> Result<String, Failure> {
        let status = curl_url_set(handle, CURLUPART_URL, text, UInt32(CURLU_URLENCODE | CURLU_ALLOW_SPACE))
        guard status == CURLUE_OK else {
            return .failure(.invalid(String(cString: curl_url_strerror(status)).lowercased()))
        }
        guard let scheme = part(handle, CURLUPART_SCHEME)?.lowercased(), scheme == "http" || scheme == "https" else {
            return .failure(.invalid("only http and https URLs are fetched"))
        }
        guard let host = part(handle, CURLUPART_HOST), !host.isEmpty else {
            return .failure(.invalid("the URL has no host"))
        }
        curl_url_set(handle, CURLUPART_HOST, host.lowercased(), 0)
        curl_url_set(handle, CURLUPART_FRAGMENT, nil, 0)
        guard let url = part(handle, CURLUPART_URL, flags: UInt32(CURLU_NO_DEFAULT_PORT)) else {
            return .failure(.invalid("the URL cannot be rebuilt"))
        }
        return .success(url)
    }

    private static func part(_ handle: OpaquePointer, _ which: CURLUPart, flags: UInt32 = 0) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, which, &value, flags) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }

    /// The host (lower case, with port when not the default) that politeness limits apply to: what lies
    /// between "//" and the next "/", "?" or "#", without user information.
    static func hostKey(_ url: String) -> String {
        let bytes = Array(url.utf8)
        var start = 0
        while start + 1 < bytes.count && !(bytes[start] == UInt8(ascii: "/") && bytes[start + 1] == UInt8(ascii: "/")) {
            start += 1
        }
        guard start + 1 < bytes.count else { return url }
        start += 2
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") {
            if bytes[end] == UInt8(ascii: "@") { start = end + 1 }
            end += 1
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        // Most text is ASCII: trim bytes first, and only look at Unicode properties when needed.
        let utf8 = Array(self.utf8)
        var lower = 0, upper = utf8.count
        while lower < upper, utf8[lower] == 0x20 || (0x09...0x0D).contains(utf8[lower]) { lower += 1 }
        while upper > lower, utf8[upper - 1] == 0x20 || (0x09...0x0D).contains(utf8[upper - 1]) { upper -= 1 }
        let trimmed = String(decoding: utf8[lower..<upper], as: UTF8.self)
        guard trimmed.utf8.contains(where: { $0 >= 0x80 }) else { return trimmed }
        let scalars = trimmed.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
