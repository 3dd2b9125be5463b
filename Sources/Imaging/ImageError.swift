/// Why an image was rejected. The raw values are stable: they are stored in the catalog, printed by
/// `--json` and counted in reports, so they never change meaning.
public enum RejectReason: String, Sendable, Codable, CaseIterable, Comparable {
    case empty
    case notAnImage = "not_an_image"
    case unsupportedFormat = "unsupported_format"
    case truncated
    case corrupt
    case tooManyPixels = "too_many_pixels"
    case tooSmall = "too_small"
    /// The file could not be read at all (missing, a folder, no permission).
    case unreadable

    public static func < (a: RejectReason, b: RejectReason) -> Bool { a.rawValue < b.rawValue }
}

/// A decode or probe failure: a stable reason code and a message for people. `file` is filled in by whoever
/// knows where the bytes came from, so the message can name it.
public struct ImageError: Error, Sendable, CustomStringConvertible, Equatable {
    public let reason: RejectReason
    public let detail: String
    public var file: String?

    public init(_ reason: RejectReason, _ detail: String, file: String? = nil) {
        self.reason = reason
        self.detail = detail
        self.file = file
    }

    public func naming(_ file: String) -> ImageError {
        var copy = self
        copy.file = file
        return copy
    }

    /// "photo.jpg: truncated: file ends early (...); fetch it again".
    public var description: String {
        let advice: String
        switch reason {
        case .empty: advice = "the download or copy probably failed; fetch it again"
        case .notAnImage: advice = "if it came from a URL, the server sent something else (an error page?)"
        case .unsupportedFormat: advice = "convert it to JPEG or PNG to use it"
        case .truncated: advice = "the download or copy was cut short; fetch it again"
        case .corrupt: advice = "the file is damaged; fetch it again or leave it out"
        case .tooManyPixels: advice = "raise the pixel limit (--max-pixels) if you trust this file"
        case .tooSmall: advice = "lower the minimum side (--min-side) to keep it"
        case .unreadable: advice = "check that it exists and that you may read it"
        }
        let subject = file.map { "\($0): " } ?? ""
        return "\(subject)\(reason.rawValue): \(detail); \(advice)"
    }
}

/// `Array.withUnsafeBytes` rethrows untyped errors; this keeps `ImageError` typed through it.
func withBytes<T>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ImageError) -> T) throws(ImageError) -> T {
    let result = bytes.withUnsafeBytes { raw in Result { () throws(ImageError) in try body(raw) } }
    return try result.get()
}
