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
        guard let handle = curl_url() else { return .failure(.invalid("out of memory")) }
        defer { curl_url_cleanup(handle) }
        return parse(trimmed, into: handle)
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

    /// The host (lower case, with port when not the default) that politeness limits apply to.
    static func hostKey(_ url: String) -> String {
        // Normalised URLs look like scheme://host[:port]/...: take what sits between "//" and the next "/".
        guard let start = url.range(of: "//")?.upperBound else { return url }
        let rest = url[start...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<end]
        return String(authority.split(separator: "@").last ?? authority)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
