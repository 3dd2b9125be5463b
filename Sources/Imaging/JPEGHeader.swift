/// Walks a JPEG's marker segments up to the frame header: size, precision, and the EXIF orientation.
enum JPEGHeader {
    static func parse(_ r: inout ByteReader) throws(ImageError) -> ImageInfo {
        try r.skip(2)  // SOI
        var orientation = 1
        while true {
            // libjpeg tolerates stray bytes before a marker (with a warning), so skip to the next 0xFF too.
            while try r.uint8() != 0xFF {}
            var marker = try r.uint8()
            while marker == 0xFF { marker = try r.uint8() }
            switch marker {
            case 0x00, 0x01, 0xD0...0xD7:
                continue  // stuffed byte, TEM and restart markers carry no length
            case 0xD8, 0xD9, 0xDA:
                throw ImageError(.corrupt, "the JPEG has no frame header before its image data")
            default:
                break
            }
            let length = Int(try r.uint16BE())
            guard length >= 2 else { throw ImageError(.corrupt, "a JPEG segment has an invalid length") }
            let segmentEnd = r.offset + length - 2
            if let kind = frameKind(marker) {
                let precision = try r.uint8()
                let height = Int(try r.uint16BE()), width = Int(try r.uint16BE())
                let components = Int(try r.uint8())
                if let unsupported = kind.unsupportedReason {
                    throw ImageError(.unsupportedFormat, unsupported)
                }
                guard precision == 8 else {
                    throw ImageError(.unsupportedFormat, "a \(precision)-bit JPEG (only 8-bit JPEG is decoded)")
                }
                guard height > 0 else {
                    throw ImageError(.unsupportedFormat, "a JPEG whose height is given by a DNL marker")
                }
                guard [1, 3, 4].contains(components) else {
                    throw ImageError(.unsupportedFormat, "a JPEG with \(components) colour components")
                }
                return ImageInfo(format: .jpeg, width: width, height: height, orientation: orientation)
            }
            if marker == 0xE1, length > 8 {
                let segment = try r.bytes(length - 2)
                if segment.starts(with: Array("Exif".utf8) + [0, 0]) {
                    orientation = EXIF.orientation(in: segment[6...]) ?? orientation
                }
            }
            try r.skip(segmentEnd - r.offset)
        }
    }

    private enum FrameKind {
        case supported, lossless, hierarchical

        var unsupportedReason: String? {
            switch self {
            case .supported: nil
            case .lossless: "a lossless JPEG (libjpeg-turbo 2 decodes lossy JPEG only)"
            case .hierarchical: "a hierarchical JPEG"
            }
        }
    }

    private static func frameKind(_ marker: UInt8) -> FrameKind? {
        switch marker {
        case 0xC0, 0xC1, 0xC2, 0xC9, 0xCA: .supported
        case 0xC3, 0xCB: .lossless
        case 0xC5, 0xC6, 0xC7, 0xCD, 0xCE, 0xCF: .hierarchical
        default: nil
        }
    }
}

/// The one EXIF tag the decoder needs: orientation (0x0112) in IFD0.
enum EXIF {
    static func orientation(in tiff: ArraySlice<UInt8>) -> Int? {
        let t = Array(tiff)
        guard t.count >= 8 else { return nil }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= t.count else { return nil }
            return little ? Int(t[at]) | Int(t[at + 1]) << 8 : Int(t[at]) << 8 | Int(t[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for i in 0..<count {
            let entry = ifd + 2 + i * 12
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112 {
                guard u16(entry + 2) == 3, let value = u16(entry + 8), (1...8).contains(value) else { return nil }
                return value
            }
        }
        return nil
    }
}
