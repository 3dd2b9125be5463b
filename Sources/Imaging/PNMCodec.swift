/// Netpbm images: P1/P4 bitmaps, P2/P5 graymaps, P3/P6 pixmaps, 8 or 16 bits per sample.
struct PNMHeader {
    var kind: UInt8          // the digit after "P"
    var width: Int
    var height: Int
    var maxValue: Int

    var info: ImageInfo { ImageInfo(format: .pnm, width: width, height: height) }
    var channels: Int { kind == 3 || kind == 6 ? 3 : 1 }
    var isBitmap: Bool { kind == 1 || kind == 4 }

    /// Leaves the reader at the first byte of pixel data.
    static func parse(_ r: inout ByteReader) throws(ImageError) -> PNMHeader {
        try r.skip(1)
        let kind = try r.uint8() - UInt8(ascii: "0")
        let width = try number(&r), height = try number(&r)
        let maxValue = kind == 1 || kind == 4 ? 1 : try number(&r)
        guard (1...65535).contains(maxValue) else { throw ImageError(.corrupt, "the PNM maximum value \(maxValue) is invalid") }
        try r.skip(1)  // the single whitespace byte that ends the header
        return PNMHeader(kind: kind, width: width, height: height, maxValue: maxValue)
    }

    /// A decimal field after whitespace and `#` comments (also the samples of the ASCII variants).
    static func number(_ r: inout ByteReader) throws(ImageError) -> Int {
        try skipSpaceAndComments(&r)
        var value = 0, digits = 0
        while r.remaining > 0, case let c = r.bytes[r.offset], (0x30...0x39).contains(c) {
            r.offset += 1
            value = value * 10 + Int(c - 0x30)
            digits += 1
            guard value < 1 << 30 else { throw ImageError(.corrupt, "a PNM field is too large") }
        }
        guard digits > 0 else { throw ImageError(.corrupt, "a PNM field is not a number") }
        return value
    }

    static func skipSpaceAndComments(_ r: inout ByteReader) throws(ImageError) {
        while true {
            guard r.remaining > 0 else { throw ImageError(.truncated, "the PNM data ends early") }
            let c = r.bytes[r.offset]
            if c == UInt8(ascii: "#") {
                while try r.uint8() != 0x0A {}
            } else if isSpace(c) {
                r.offset += 1
            } else {
                return
            }
        }
    }
}

enum PNMCodec {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> DecodedPixels {
        var r = ByteReader(bytes)
        let h = try PNMHeader.parse(&r)
        let pixelCount = h.width * h.height
        let start = r.offset
        let wide = h.maxValue > 255
        switch h.kind {
        case 4:
            guard r.remaining >= (h.width + 7) / 8 * h.height else { throw ImageError(.truncated, "the PBM data ends early") }
        case 5, 6:
            guard r.remaining >= pixelCount * h.channels * (wide ? 2 : 1) else {
                throw ImageError(.truncated, "the PNM data ends early")
            }
        default:
            // ASCII: at least one character per bitmap pixel, a digit and a separator per other sample. Checked
            // before allocating, so a tiny file cannot claim a huge image.
            let minimum = h.kind == 1 ? pixelCount : 2 * pixelCount * h.channels - 1
            guard r.remaining >= minimum else { throw ImageError(.truncated, "the PNM data ends early") }
        }
        var out = [UInt8](repeating: 0, count: pixelCount * 3)
        for i in 0..<pixelCount {
            for c in 0..<h.channels {
                let v: Int
                switch h.kind {
                case 1:
                    try PNMHeader.skipSpaceAndComments(&r)  // plain PBM digits may run together: one per pixel
                    let digit = try r.uint8()
                    guard digit == 0x30 || digit == 0x31 else { throw ImageError(.corrupt, "a PBM pixel is not 0 or 1") }
                    v = Int(digit - 0x30)
                case 2, 3:
                    v = try PNMHeader.number(&r)
                case 4:
                    let x = i % h.width, y = i / h.width
                    v = Int(bytes[start + y * ((h.width + 7) / 8) + x / 8] >> (7 - x % 8)) & 1
                default:
                    let s = i * h.channels + c
                    v = wide ? Int(bytes[start + 2 * s]) << 8 | Int(bytes[start + 2 * s + 1]) : Int(bytes[start + s])
                }
                // In a bitmap 1 is black; elsewhere samples scale from 0...maxValue.
                let value = h.isBitmap ? (v == 0 ? 255 : 0) : (min(v, h.maxValue) * 255 + h.maxValue / 2) / h.maxValue
                if h.channels == 3 {
                    out[3 * i + c] = UInt8(value)
                } else {
                    out[3 * i] = UInt8(value)
                    out[3 * i + 1] = UInt8(value)
                    out[3 * i + 2] = UInt8(value)
                }
            }
        }
        return DecodedPixels(width: h.width, height: h.height, channels: 3, bytes: out)
    }
}
