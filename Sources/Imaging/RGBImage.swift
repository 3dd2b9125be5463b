/// An 8-bit RGB colour.
public struct RGB: Sendable, Hashable, Codable {
    public var r: UInt8, g: UInt8, b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    public static let white = RGB(255, 255, 255)
    public static let black = RGB(0, 0, 0)

    /// Parses `#rrggbb`, `rrggbb`, `white` or `black` (command-line flags).
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "white": self = .white
        case "black": self = .black
        default:
            let hex = text.hasPrefix("#") ? String(text.dropFirst()) : text
            guard hex.count == 6, let value = UInt32(hex, radix: 16) else { return nil }
            self.init(UInt8(value >> 16), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF))
        }
    }
}

/// A decoded image: 8-bit RGB, interleaved, rows top to bottom with no padding (stride = width * 3).
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "pixel count does not match size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: RGB = .black) {
        self.init(width: width, height: height,
                  pixels: [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
                      for i in 0..<width * height {
                          buffer[3 * i] = fill.r
                          buffer[3 * i + 1] = fill.g
                          buffer[3 * i + 2] = fill.b
                      }
                      count = width * height * 3
                  })
    }

    public var stride: Int { width * 3 }

    public subscript(x: Int, y: Int) -> RGB {
        get {
            let i = (y * width + x) * 3
            return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.r
            pixels[i + 1] = newValue.g
            pixels[i + 2] = newValue.b
        }
    }
}

/// Pixels as a format decoder produced them, before alpha compositing and orientation.
struct DecodedPixels {
    var width: Int
    var height: Int
    /// 3 (RGB) or 4 (RGBA, straight alpha).
    var channels: Int
    var bytes: [UInt8]

    /// Composites RGBA onto `background` in place (the RGB result never outruns the RGBA source), so a large
    /// image needs no second buffer.
    consuming func composited(over background: RGB) -> RGBImage {
        var out: [UInt8] = []
        swap(&out, &bytes)  // leave `out` the only reference, so the writes below don't copy it
        guard channels == 4 else { return RGBImage(width: width, height: height, pixels: out) }
        let count = width * height
        let bg = (Int(background.r), Int(background.g), Int(background.b))
        out.withUnsafeMutableBufferPointer { p in
            for i in 0..<count {
                let a = Int(p[4 * i + 3]), inverse = 255 - a
                let r = Int(p[4 * i]), g = Int(p[4 * i + 1]), b = Int(p[4 * i + 2])
                p[3 * i] = UInt8((r * a + bg.0 * inverse + 127) / 255)
                p[3 * i + 1] = UInt8((g * a + bg.1 * inverse + 127) / 255)
                p[3 * i + 2] = UInt8((b * a + bg.2 * inverse + 127) / 255)
            }
        }
        out.removeLast(count)
        return RGBImage(width: width, height: height, pixels: out)
    }
}
