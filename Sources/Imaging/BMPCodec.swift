/// Windows and OS/2 bitmaps: 1/2/4/8-bit palettes (plain, RLE8, RLE4), 16/24/32-bit (plain and bit fields),
/// bottom-up and top-down. Embedded JPEG/PNG payloads are `unsupported_format`.
struct BMPHeader {
    var width: Int
    var height: Int
    var topDown: Bool
    var bitsPerPixel: Int
    var compression: Int
    var masks: [UInt32]          // red, green, blue, alpha (alpha 0 = none)
    var paletteOffset: Int
    var paletteCount: Int
    var paletteEntrySize: Int
    var pixelOffset: Int

    var info: ImageInfo {
        ImageInfo(format: .bmp, width: width, height: height, hasAlpha: masks[3] != 0)
    }

    static func parse(_ r: inout ByteReader) throws(ImageError) -> BMPHeader {
        try r.skip(10)
        let pixelOffset = Int(try r.uint32LE())
        let headerSize = Int(try r.uint32LE())
        var header = BMPHeader(width: 0, height: 0, topDown: false, bitsPerPixel: 0, compression: 0,
                               masks: [0, 0, 0, 0], paletteOffset: 14 + headerSize, paletteCount: 0,
                               paletteEntrySize: 4, pixelOffset: pixelOffset)
        var colorsUsed = 0
        if headerSize == 12 {
            header.width = Int(try r.uint16LE())
            header.height = Int(try r.uint16LE())
            try r.skip(2)
            header.bitsPerPixel = Int(try r.uint16LE())
            header.paletteEntrySize = 3
        } else {
            header.width = Int(Int32(bitPattern: try r.uint32LE()))
            let rawHeight = Int(Int32(bitPattern: try r.uint32LE()))
            header.topDown = rawHeight < 0
            header.height = abs(rawHeight)
            try r.skip(2)
            header.bitsPerPixel = Int(try r.uint16LE())
            if headerSize >= 20 { header.compression = Int(try r.uint32LE()) }
            if headerSize >= 36 {
                try r.skip(12)
                colorsUsed = Int(try r.uint32LE())
            }
            if header.compression == 3 || header.compression == 6 {
                // Bit fields live inside v2+ headers, or right after a 40-byte header.
                try r.skip(14 + 40 - r.offset)
                let maskCount = header.compression == 6 || headerSize >= 56 ? 4 : 3
                for i in 0..<maskCount { header.masks[i] = try r.uint32LE() }
                if headerSize == 40 { header.paletteOffset += maskCount * 4 }
            }
        }
        guard header.width > 0, header.height > 0 else {
            throw ImageError(.corrupt, "the BMP header gives a size of \(header.width)x\(header.height)")
        }
        switch (header.compression, header.bitsPerPixel) {
        case (0, 1), (0, 2), (0, 4), (0, 8), (1, 8), (2, 4):
            header.paletteCount = colorsUsed > 0 ? min(colorsUsed, 256) : 1 << header.bitsPerPixel
        case (0, 16):
            header.masks = [0x7C00, 0x03E0, 0x001F, 0]
        case (0, 24), (0, 32):
            break
        case (3, 16), (3, 32), (6, 16), (6, 32):
            guard header.masks[0] != 0 || header.masks[1] != 0 || header.masks[2] != 0 else {
                throw ImageError(.corrupt, "the BMP bit fields are all zero")
            }
        case (4, _), (5, _):
            throw ImageError(.unsupportedFormat, "a BMP holding an embedded \(header.compression == 4 ? "JPEG" : "PNG")")
        default:
            throw ImageError(.unsupportedFormat, "a BMP with compression \(header.compression) at \(header.bitsPerPixel) bits")
        }
        return header
    }
}

enum BMPCodec {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> DecodedPixels {
        var reader = ByteReader(bytes)
        let h = try BMPHeader.parse(&reader)
        let palette = try readPalette(bytes, h)
        guard h.pixelOffset < bytes.count else { throw ImageError(.truncated, "the BMP ends before its pixels") }
        let data = UnsafeRawBufferPointer(rebasing: bytes[h.pixelOffset...])
        let rle = h.compression == 1 || h.compression == 2
        // Check the data is all there before allocating the image (RLE data may legitimately be tiny).
        let rowBytes = (h.width * h.bitsPerPixel + 31) / 32 * 4
        guard rle || data.count >= rowBytes * (h.height - 1) + (h.width * h.bitsPerPixel + 7) / 8 else {
            throw ImageError(.truncated, "the BMP pixel data ends early")
        }
        var out = [UInt8](repeating: 0, count: h.width * h.height * 4)
        if rle {
            try decodeRLE(data, h, palette, &out)
        } else {
            decodePlain(data, h, palette, &out)
        }
        return DecodedPixels(width: h.width, height: h.height, channels: 4, bytes: out)
    }

    private static func readPalette(_ bytes: UnsafeRawBufferPointer, _ h: BMPHeader) throws(ImageError) -> [RGB] {
        guard h.paletteCount > 0 else { return [] }
        let available = max(0, min(h.pixelOffset, bytes.count) - h.paletteOffset) / h.paletteEntrySize
        guard available > 0 else { throw ImageError(.corrupt, "the BMP palette is missing") }
        return (0..<min(h.paletteCount, available)).map { i in
            let at = h.paletteOffset + i * h.paletteEntrySize
            return RGB(bytes[at + 2], bytes[at + 1], bytes[at])
        }
    }

    /// Output row for stored row `y` (bitmaps are stored bottom-up unless the height was negative).
    private static func outputRow(_ y: Int, _ h: BMPHeader) -> Int { h.topDown ? y : h.height - 1 - y }

    private static func put(_ out: inout [UInt8], _ at: Int, _ c: RGB, _ a: UInt8 = 255) {
        out[at] = c.r
        out[at + 1] = c.g
        out[at + 2] = c.b
        out[at + 3] = a
    }

    /// The caller has checked that `data` holds every row.
    private static func decodePlain(_ data: UnsafeRawBufferPointer, _ h: BMPHeader, _ palette: [RGB], _ out: inout [UInt8]) {
        let rowBytes = (h.width * h.bitsPerPixel + 31) / 32 * 4
        let fields = h.masks.map(BitField.init)
        var sawAlpha = false
        for y in 0..<h.height {
            let row = y * rowBytes, target = outputRow(y, h) * h.width * 4
            for x in 0..<h.width {
                let at = target + x * 4
                switch h.bitsPerPixel {
                case 1, 2, 4, 8:
                    let bit = x * h.bitsPerPixel
                    let byte = Int(data[row + bit / 8])
                    let index = (byte >> (8 - h.bitsPerPixel - bit % 8)) & ((1 << h.bitsPerPixel) - 1)
                    put(&out, at, index < palette.count ? palette[index] : .black)
                case 24:
                    let p = row + x * 3
                    put(&out, at, RGB(data[p + 2], data[p + 1], data[p]))
                default:  // 16 or 32 bits
                    let p = row + x * h.bitsPerPixel / 8
                    var value = UInt32(data[p]) | UInt32(data[p + 1]) << 8
                    if h.bitsPerPixel == 32 { value |= UInt32(data[p + 2]) << 16 | UInt32(data[p + 3]) << 24 }
                    if h.compression == 0 && h.bitsPerPixel == 32 {
                        put(&out, at, RGB(data[p + 2], data[p + 1], data[p]))
                    } else {
                        let alpha = fields[3].mask == 0 ? 255 : fields[3].value(value)
                        sawAlpha = sawAlpha || alpha != 0
                        put(&out, at, RGB(fields[0].value(value), fields[1].value(value), fields[2].value(value)), alpha)
                    }
                }
            }
        }
        // Many writers declare an alpha mask and leave it zero: such a bitmap is opaque, not invisible.
        if fields[3].mask != 0 && !sawAlpha {
            for i in 0..<h.width * h.height { out[4 * i + 3] = 255 }
        }
    }

    /// RLE8/RLE4: runs and literal groups; pixels the stream skips stay transparent.
    private static func decodeRLE(_ data: UnsafeRawBufferPointer, _ h: BMPHeader, _ palette: [RGB],
                                  _ out: inout [UInt8]) throws(ImageError) {
        let four = h.compression == 2
        var i = 0, x = 0, y = 0
        func next() throws(ImageError) -> Int {
            guard i < data.count else { throw ImageError(.truncated, "the BMP RLE data ends early") }
            defer { i += 1 }
            return Int(data[i])
        }
        func plot(_ index: Int) {
            guard x < h.width, y < h.height else { return }
            put(&out, (outputRow(y, h) * h.width + x) * 4, index < palette.count ? palette[index] : .black)
            x += 1
        }
        while y < h.height {
            let count = try next(), value = try next()
            if count > 0 {
                for k in 0..<count { plot(four ? (k % 2 == 0 ? value >> 4 : value & 15) : value) }
                continue
            }
            switch value {
            case 0: x = 0; y += 1                          // end of line
            case 1: return                                 // end of bitmap
            case 2: x += try next(); y += try next()       // delta
            default:                                       // a literal group of `value` pixels
                var byte = 0
                for k in 0..<value {
                    if four {
                        if k % 2 == 0 { byte = try next() }
                        plot(k % 2 == 0 ? byte >> 4 : byte & 15)
                    } else {
                        plot(try next())
                    }
                }
                let used = four ? (value + 1) / 2 : value
                if used % 2 == 1 { _ = try next() }        // groups are padded to 16 bits
            }
        }
    }
}

/// One channel of a bit-field pixel: shifted down and scaled to 0...255.
private struct BitField {
    let mask: UInt32
    let shift: UInt32
    let maximum: UInt32

    init(_ mask: UInt32) {
        self.mask = mask
        shift = mask == 0 ? 0 : UInt32(mask.trailingZeroBitCount)
        maximum = mask == 0 ? 0 : mask >> shift
    }

    func value(_ pixel: UInt32) -> UInt8 {
        guard maximum > 0 else { return 0 }
        return UInt8(UInt64((pixel & mask) >> shift) * 255 / UInt64(maximum))  // 64-bit: masks may be 32 bits wide
    }
}
