/// The formats `Imaging` decodes. Detected from the bytes, never from a file name.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, gif, webp, bmp
    /// Netpbm PBM/PGM/PPM (P1–P6), as written by libjpeg-turbo's and netpbm's tools.
    case pnm

    /// The usual file extension, used when the tool names files it stores.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .gif: "gif"
        case .webp: "webp"
        case .bmp: "bmp"
        case .pnm: "pnm"
        }
    }

    /// Identifies the format from the first bytes. Throws `empty`, `truncated` (too short to tell, but the start
    /// of a known signature), `corrupt` (a damaged PNG signature), `unsupported_format` (a known image format
    /// this tool does not decode) or `not_an_image`.
    public static func sniff(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageFormat {
        let b = [UInt8](bytes.prefix(64))
        guard !b.isEmpty else { throw ImageError(.empty, "the file has no bytes") }
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + signature.count && Array(b[offset..<offset + signature.count]) == signature
        }
        for (format, signature) in signatures where b.count < signature.count {
            if Array(signature.prefix(b.count)) == b {
                throw ImageError(.truncated, "only \(b.count) bytes, the start of a \(format.rawValue.uppercased()) file")
            }
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(pngSignature) { return .png }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("BM".utf8)) && b.count >= 18 {
            let headerSize = Int(b[14]) | Int(b[15]) << 8 | Int(b[16]) << 16 | Int(b[17]) << 24
            if [12, 16, 40, 52, 56, 64, 108, 124].contains(headerSize) { return .bmp }
        }
        if b.count >= 3, b[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(b[1]),
           isSpace(b[2]) {
            return .pnm
        }
        if let damage = damagedPNGSignature(b) { throw ImageError(.corrupt, damage) }
        if let name = unsupportedFormatName(b) {
            throw ImageError(.unsupportedFormat, "\(name) format, which imgcls does not decode")
        }
        throw ImageError(.notAnImage, describeNonImage(b))
    }

    public static func sniff(_ bytes: [UInt8]) throws(ImageError) -> ImageFormat {
        try withBytes(bytes) { raw throws(ImageError) in try sniff(raw) }
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    private static let signatures: [(ImageFormat, [UInt8])] = [
        (.jpeg, [0xFF, 0xD8, 0xFF]), (.png, pngSignature), (.gif, Array("GIF8".utf8)),
    ]

    /// PngSuite's x*.png files and text-mode FTP transfers damage the signature in recognisable ways.
    private static func damagedPNGSignature(_ b: [UInt8]) -> String? {
        guard b.count >= 8 else { return nil }
        if Array(b[0..<4]) == Array(pngSignature[0..<4]) {
            return "the PNG signature is damaged (CR/LF bytes changed: a text-mode transfer?)"
        }
        let letters = b[1..<4].map { $0 | 0x20 }  // lower-case
        let matches = zip(letters, Array("png".utf8)).filter { $0 == $1 }.count
        if (b[0] == 0x89 && matches >= 2) || (matches == 3 && b[4..<8].contains(0x0A)) {
            return "the PNG signature is damaged"
        }
        return nil
    }

    private static func unsupportedFormatName(_ b: [UInt8]) -> String? {
        func starts(_ s: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + s.count && Array(b[offset..<offset + s.count]) == s
        }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if starts([0x00, 0x00, 0x01, 0x00]) && b.count > 6 { return "ICO" }
        if starts([0x00, 0x00, 0x02, 0x00]) && b.count > 6 { return "CUR" }
        if starts(Array("ftyp".utf8), at: 4) {
            let brand = String(decoding: b[8..<min(12, b.count)], as: UTF8.self)
            if brand.hasPrefix("avi") { return "AVIF" }
            if ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"].contains(brand) { return "HEIF/HEIC" }
            return nil
        }
        if starts([0xFF, 0x0A]) || starts([0, 0, 0, 0x0C, 0x4A, 0x58, 0x4C, 0x20]) { return "JPEG XL" }
        if starts([0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20]) || starts([0xFF, 0x4F, 0xFF, 0x51]) { return "JPEG 2000" }
        if starts(Array("8BPS".utf8)) { return "Photoshop" }
        if starts(Array("qoif".utf8)) { return "QOI" }
        if starts(Array("P7\n".utf8)) { return "PAM" }
        if starts(Array("Pf\n".utf8)) || starts(Array("PF\n".utf8)) { return "PFM" }
        if starts([0x76, 0x2F, 0x31, 0x01]) { return "OpenEXR" }
        if starts(Array("DDS ".utf8)) { return "DDS" }
        let text = String(decoding: b, as: UTF8.self).lowercased()
        if text.contains("<svg") { return "SVG" }
        return nil
    }

    private static func describeNonImage(_ b: [UInt8]) -> String {
        var text = String(decoding: b, as: UTF8.self).lowercased()
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        if trimmed.hasPrefix("<!doctype html") || trimmed.hasPrefix("<html") || trimmed.hasPrefix("<head")
            || trimmed.hasPrefix("<body") || trimmed.hasPrefix("<!--") || trimmed.hasPrefix("<meta") {
            return "an HTML page"
        }
        if trimmed.hasPrefix("<?xml") || trimmed.hasPrefix("<") { return "an XML or HTML document" }
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") { return "JSON or other text" }
        if b.starts(with: Array("%PDF".utf8)) { return "a PDF document" }
        if b.starts(with: [0x1F, 0x8B]) { return "gzip-compressed data" }
        if b.starts(with: Array("PK".utf8) + [3, 4]) { return "a ZIP archive" }
        let printable = b.allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || (32..<127).contains($0) || $0 >= 0x80 }
        if printable { return "text" }
        let start = b.prefix(4).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }.joined(separator: " ")
        return "unrecognised bytes (starting \(start))"
    }
}

@inline(__always) func isSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C
}
