internal import CWebP

/// What the header says, read without decoding pixels.
public struct ImageInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    /// Stored size, before any EXIF orientation.
    public var width: Int
    public var height: Int
    /// EXIF orientation 1–8 (1 = as stored). Only JPEG's EXIF is read.
    public var orientation: Int = 1
    public var hasAlpha: Bool = false
    public var isAnimated: Bool = false

    public var pixelCount: Int { width * height }

    /// The size as displayed: orientations 5–8 swap width and height.
    public var orientedWidth: Int { orientation >= 5 ? height : width }
    public var orientedHeight: Int { orientation >= 5 ? width : height }
}

/// Header-only probes: format, size and orientation from the first bytes of the file, no pixel buffers.
public enum ImageProbe {
    public static func probe(_ bytes: [UInt8]) throws(ImageError) -> ImageInfo {
        try withBytes(bytes) { raw throws(ImageError) in try probe(raw) }
    }

    public static func probe(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageInfo {
        let format = try ImageFormat.sniff(bytes)
        var reader = ByteReader(bytes)
        let info: ImageInfo
        switch format {
        case .jpeg: info = try JPEGHeader.parse(&reader)
        case .png: info = try probePNG(&reader)
        case .gif: info = try probeGIF(&reader)
        case .webp: info = try probeWebP(bytes)
        case .bmp: info = try BMPHeader.parse(&reader).info
        case .pnm: info = try PNMHeader.parse(&reader).info
        }
        guard info.width > 0, info.height > 0 else {
            throw ImageError(.corrupt, "the header gives a size of \(info.width)x\(info.height)")
        }
        return info
    }

    private static func probePNG(_ r: inout ByteReader) throws(ImageError) -> ImageInfo {
        try r.skip(8)
        let length = try r.uint32BE()
        guard r.remaining >= 4 + 13 + 4 else { throw ImageError(.truncated, "the file ends inside its header") }
        let chunk = Array(r.bytes[r.offset..<r.offset + 17])
        let type = try r.bytes(4)
        guard type == Array("IHDR".utf8), length == 13 else {
            throw ImageError(.corrupt, "the first PNG chunk is not a valid IHDR")
        }
        // A damaged header must not pass as a huge image: check its CRC before trusting the size.
        let stored = UInt32(r.bytes[r.offset + 13]) << 24 | UInt32(r.bytes[r.offset + 14]) << 16
            | UInt32(r.bytes[r.offset + 15]) << 8 | UInt32(r.bytes[r.offset + 16])
        guard CRC32.checksum(chunk) == stored else { throw ImageError(.corrupt, "IHDR: CRC error") }
        let width = Int(try r.uint32BE()), height = Int(try r.uint32BE())
        guard width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw ImageError(.corrupt, "the PNG header gives an impossible size")
        }
        _ = try r.uint8()  // bit depth
        let colorType = try r.uint8()
        return ImageInfo(format: .png, width: width, height: height, hasAlpha: colorType & 4 != 0)
    }

    private static func probeGIF(_ r: inout ByteReader) throws(ImageError) -> ImageInfo {
        try r.skip(6)
        let screenWidth = Int(try r.uint16LE()), screenHeight = Int(try r.uint16LE())
        let flags = try r.uint8()
        try r.skip(2)
        if flags & 0x80 != 0 { try r.skip(3 << (Int(flags & 7) + 1)) }
        // The canvas grows to hold the first frame when a file's screen is smaller (the decoder does the same).
        while true {
            switch try r.uint8() {
            case 0x21:  // extension: a label, then sub-blocks until a zero length
                try r.skip(1)
                try skipSubBlocks(&r)
            case 0x2C:
                let left = Int(try r.uint16LE()), top = Int(try r.uint16LE())
                let width = Int(try r.uint16LE()), height = Int(try r.uint16LE())
                return ImageInfo(format: .gif, width: max(screenWidth, left + width),
                                 height: max(screenHeight, top + height), hasAlpha: true)
            case 0x3B: throw ImageError(.corrupt, "the GIF holds no image")
            case let byte: throw ImageError(.corrupt, "unexpected GIF block 0x\(String(byte, radix: 16))")
            }
        }
    }

    private static func skipSubBlocks(_ r: inout ByteReader) throws(ImageError) {
        while true {
            let length = Int(try r.uint8())
            if length == 0 { return }
            try r.skip(length)
        }
    }

    private static func probeWebP(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageInfo {
        var features = WebPBitstreamFeatures()
        let status = WebPGetFeatures(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &features)
        switch status {
        case VP8_STATUS_OK:
            return ImageInfo(format: .webp, width: Int(features.width), height: Int(features.height),
                             hasAlpha: features.has_alpha != 0, isAnimated: features.has_animation != 0)
        case VP8_STATUS_NOT_ENOUGH_DATA: throw ImageError(.truncated, "the WebP header is incomplete")
        case VP8_STATUS_UNSUPPORTED_FEATURE: throw ImageError(.unsupportedFormat, "a WebP feature libwebp does not support")
        default: throw ImageError(.corrupt, "the WebP header is invalid")
        }
    }
}

/// Bounds-checked reads over a byte buffer; running off the end is `truncated`.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func skip(_ n: Int) throws(ImageError) {
        guard n >= 0, n <= remaining else { throw ImageError(.truncated, "the file ends inside its header") }
        offset += n
    }

    mutating func uint8() throws(ImageError) -> UInt8 {
        guard remaining >= 1 else { throw ImageError(.truncated, "the file ends inside its header") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bytes(_ n: Int) throws(ImageError) -> [UInt8] {
        guard n >= 0, n <= remaining else { throw ImageError(.truncated, "the file ends inside its header") }
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    mutating func uint16BE() throws(ImageError) -> UInt16 {
        let b = try bytes(2)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    mutating func uint16LE() throws(ImageError) -> UInt16 {
        let b = try bytes(2)
        return UInt16(b[1]) << 8 | UInt16(b[0])
    }

    mutating func uint32BE() throws(ImageError) -> UInt32 {
        let b = try bytes(4)
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }

    mutating func uint32LE() throws(ImageError) -> UInt32 {
        let b = try bytes(4)
        return UInt32(b[3]) << 24 | UInt32(b[2]) << 16 | UInt32(b[1]) << 8 | UInt32(b[0])
    }
}

/// The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320).
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

