import Files
import Foundation

// HTTPBodies: the server's request bodies, from untrusted clients, read into values before anything else sees them.
// No server here (Serve and Review own HTTP), so each reader is tested on crafted and mutated bodies alone. Entry:
// `MultipartForm` and `ClassifyJSON` (RequestBodies.swift), `InferenceProtocol`. Files in reading order:
//   RequestBodies.swift      the errors, content types, multipart forms, /v1/classify's JSON (this file)
//   InferenceProtocol.swift  the Open Inference Protocol v2 JSON
//   ReviewDecisionBody.swift the review app's decisions (`imgcls review`)

/// A body that cannot be read, with the field or part at fault and what to send instead: the server answers it
/// with a 4xx status.
public typealias BodyError = ErrorMessage

/// An image as a client sent it: bytes (a raw body or an uploaded file) or base64 text (a form field, JSON).
public enum ImagePayload: Sendable, Equatable {
    case bytes(name: String, [UInt8])
    case base64(name: String, String)
}

/// A Content-Type value: `type/subtype` in lower case, and its parameters (names in lower case, quotes removed).
public struct ContentType: Sendable, Equatable {
    public let mediaType: String
    public let parameters: [String: String]

    public init(_ header: String) {
        let pieces = header.split(separator: ";", omittingEmptySubsequences: false)
        mediaType = pieces.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[name] = value
        }
        self.parameters = parameters
    }

    public var isImage: Bool { mediaType.hasPrefix("image/") }
}

/// One part of a multipart/form-data body.
public struct FormPart: Sendable, Equatable {
    /// From Content-Disposition: the field name and, for a file, its file name.
    public let name: String?
    public let filename: String?
    public let contentType: String?
    public let body: [UInt8]
}

/// multipart/form-data (RFC 7578), split here: MultipartKit 4.7.1, the package mirror's version, traps on a header
/// byte of 0x80 or more (an index out of range in `isAllowedHeaderFieldNameCharacter`), which this target's fuzz
/// test found, so one request could end the server.
public enum MultipartForm {
    /// More parts than this is not an image upload.
    public static let partLimit = 256

    /// The parts of a multipart/form-data body; the boundary comes from the Content-Type.
    public static func parts(_ body: [UInt8], contentType: ContentType) throws(BodyError) -> [FormPart] {
        guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 70 else {
            throw BodyError("the multipart Content-Type has no boundary (or one longer than 70 characters); send multipart/form-data; boundary=...")
        }
        let delimiter = Array("--\(boundary)".utf8), crlf: [UInt8] = [13, 10]
        // The first delimiter starts the body or a line (what comes before it is a preamble).
        guard var at = body.starts(with: delimiter) ? 0 : find(crlf + delimiter, in: body, from: 0).map({ $0 + 2 }) else {
            throw BodyError("the multipart body has no boundary line --\(boundary); send the boundary its Content-Type names")
        }
        var parts: [FormPart] = []
        while true {
            at += delimiter.count
            if body[at...].starts(with: [45, 45]) { break }  // "--": the closing delimiter
            while at < body.count, body[at] == 32 || body[at] == 9 { at += 1 }  // transport padding
            guard body[at...].starts(with: crlf) else { throw BodyError("part \(parts.count + 1): no line break after the boundary") }
            at += 2
            guard parts.count < partLimit else { throw BodyError("more than \(partLimit) parts in the multipart body") }
            let headersEnd: Int
            if body[at...].starts(with: crlf) { headersEnd = at } else {
                guard let end = find(crlf + crlf, in: body, from: at) else { throw BodyError("part \(parts.count + 1): its headers never end (truncated body?)") }
                headersEnd = end + 2
            }
            let headers = try self.headers(body[at..<headersEnd], part: parts.count + 1)
            let start = headersEnd + 2
            guard let end = find(crlf + delimiter, in: body, from: start) else {
                throw BodyError("part \(parts.count + 1) has no closing boundary (truncated body?)")
            }
            let disposition = headers["content-disposition"].map(ContentType.init)
            parts.append(FormPart(name: disposition?.parameters["name"], filename: disposition?.parameters["filename"],
                                  contentType: headers["content-type"], body: Array(body[start..<end])))
            at = end + 2
        }
        guard !parts.isEmpty else { throw BodyError("the multipart body has no part") }
        return parts
    }

    /// "Name: value" lines; names are RFC 7230 tokens (ASCII), values any text.
    private static func headers(_ block: ArraySlice<UInt8>, part: Int) throws(BodyError) -> [String: String] {
        var headers: [String: String] = [:]
        for line in block.split(separator: 10) {
            let line = line.last == 13 ? line.dropLast() : line
            guard !line.isEmpty else { continue }
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                  line[..<colon].allSatisfy({ $0 > 32 && $0 < 127 && !Array("()<>@,;:\\\"/[]?={}".utf8).contains($0) }) else {
                throw BodyError("part \(part): a header line is not \"Name: value\"")
            }
            headers[String(decoding: line[..<colon], as: UTF8.self).lowercased()] =
                String(decoding: line[line.index(after: colon)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// Where `needle` first starts in `haystack` at or after `from`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// `/v1/classify`'s JSON: `{"image_base64": "..."}`, `{"image_base64": ["...", ...]}` or a list of such objects,
/// each optionally with `"name"`.
public enum ClassifyJSON {
    public static func images(_ body: [UInt8]) throws(BodyError) -> [ImagePayload] {
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(body)) } catch {
            throw BodyError("the body is not valid JSON; send {\"image_base64\": \"...\"} or a list of such objects")
        }
        let objects: [Any] = (value as? [Any]) ?? [value]
        var images: [ImagePayload] = []
        for (i, element) in objects.enumerated() {
            guard let object = element as? [String: Any] else {
                throw BodyError("item \(i + 1) of the JSON list is not an object; send {\"image_base64\": \"...\"}")
            }
            let name = object["name"] as? String
            switch object["image_base64"] {
            case let text as String: images.append(.base64(name: name ?? "image \(images.count + 1)", text))
            case let texts as [Any]:
                for (j, text) in texts.enumerated() {
                    guard let text = text as? String else { throw BodyError("image_base64[\(j)] is not a string of base64") }
                    images.append(.base64(name: name.map { "\($0)[\(j)]" } ?? "image \(images.count + 1)", text))
                }
            case nil: throw BodyError("the JSON has no image_base64 field; send {\"image_base64\": \"...\"}")
            default: throw BodyError("image_base64 must be a string of base64 or a list of them")
            }
        }
        guard !images.isEmpty else { throw BodyError("the JSON holds no image") }
        return images
    }
}
