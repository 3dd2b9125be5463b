import Foundation
import MultipartKit

// HTTPBodies: the server's request bodies, from untrusted clients, read into values before anything else sees them.
// No server here (Serve owns HTTP), so each reader is tested on crafted and mutated bodies alone. Files in reading
// order: RequestBodies.swift (the errors, content types, multipart forms, /v1/classify's JSON);
// InferenceProtocol.swift (the Open Inference Protocol v2 JSON).

/// A body that cannot be read, with the field or part at fault and what to send instead: the server answers it
/// with a 4xx status.
public struct BodyError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

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

public enum MultipartForm {
    /// More parts than this is not an image upload.
    public static let partLimit = 256

    /// The parts of a multipart/form-data body; the boundary comes from the Content-Type.
    public static func parts(_ body: [UInt8], contentType: ContentType) throws(BodyError) -> [FormPart] {
        guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 70 else {
            throw BodyError("the multipart Content-Type has no boundary (or one longer than 70 characters); send multipart/form-data; boundary=...")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [FormPart] = []
        var headers: [(String, String)] = []
        var current: [UInt8] = []
        var tooMany = false
        parser.onHeader = { name, value in headers.append((name.lowercased(), value)) }
        parser.onBody = { buffer in current += buffer.readBytes(length: buffer.readableBytes) ?? [] }
        parser.onPartComplete = {
            guard parts.count < partLimit else { tooMany = true; return }
            let disposition = headers.first { $0.0 == "content-disposition" }.map { ContentType($0.1) }
            parts.append(FormPart(name: disposition?.parameters["name"], filename: disposition?.parameters["filename"],
                                  contentType: headers.first { $0.0 == "content-type" }?.1, body: current))
            (headers, current) = ([], [])
        }
        do { try parser.execute(body) } catch {
            throw BodyError("the multipart body cannot be read (\(error)); send multipart/form-data with the boundary its Content-Type names")
        }
        guard !tooMany else { throw BodyError("more than \(partLimit) parts in the multipart body") }
        guard !parts.isEmpty else { throw BodyError("the multipart body has no complete part (is its closing boundary missing?)") }
        return parts
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
