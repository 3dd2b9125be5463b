// SampleImages: synthetic images, valid and broken, for tests, the demo and benchmarks. Entry: `SampleImages`.
// Files in reading order:
//   SampleImages.swift     pictures and every encoding (this file); AlphaSamples.swift GIF, WebP and RGBA encoders
//   SampleFolder.swift     files with what `inspect` should say of each; ClassFolders.swift labelled folders
//   Transformations.swift  a picture cropped, turned, mirrored, re-framed
//   TestSupport.swift      the real test files in ../shared/data, when present; temporary folders
//   LoopbackClient.swift   a raw connection to a test's server on 127.0.0.1 (requests a real client would not send)

import Files
import Foundation
import Imaging

/// Deterministic synthetic images for tests, the demo and benchmarks: pictures, every supported encoding, and
/// the broken files real suites lack (zero bytes, HTML saved as .jpg, cut in half, bits flipped, a header
/// that claims 60000x60000 pixels).
public enum SampleImages {
    /// Smooth gradients, a bright block in the top-left corner (so orientation is visible) and
    /// seeded noise (so different seeds give different pictures).
    public static func picture(width: Int, height: Int, seed: UInt64 = 1) -> RGBImage {
        var image = RGBImage(width: width, height: height)
        var random = SplitMix64(seed: seed)
        let phase = Int(random.next() % 64)
        for y in 0..<height {
            for x in 0..<width {
                let noise = UInt8(random.next() % 24)
                var pixel = RGB(UInt8((x * 255 / max(1, width - 1) + phase) % 256) / 2 + noise,
                                UInt8(y * 200 / max(1, height - 1)) &+ noise / 2,
                                UInt8(((x + y) * 128 / max(1, width + height) + phase * 2) % 256))
                if x < width / 4 && y < height / 4 { pixel = RGB(250, 240, 30) }
                image[x, y] = pixel
            }
        }
        return image
    }

    /// A seeded scene: a gradient in a random direction and several random rectangles and ellipses, so
    /// different seeds give pictures that differ in structure (unlike `picture`, which varies only in detail).
    public static func scene(width: Int, height: Int, seed: UInt64, noise: Int = 6) -> RGBImage {
        var random = SplitMix64(seed: seed &* 0x9E37_79B9 &+ 17)
        func byte() -> UInt8 { UInt8(truncatingIfNeeded: random.next()) }
        func unit() -> Double { Double(random.next() % 10_000) / 10_000 }
        let from = RGB(byte(), byte(), byte()), to = RGB(byte(), byte(), byte())
        let angle = unit() * 2 * Double.pi
        let (dx, dy) = (cos(angle), sin(angle))
        var image = RGBImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let t = max(0, min(1, 0.5 + (Double(x) / Double(width) - 0.5) * dx + (Double(y) / Double(height) - 0.5) * dy))
                image[x, y] = RGB(UInt8(Double(from.r) * (1 - t) + Double(to.r) * t),
                                  UInt8(Double(from.g) * (1 - t) + Double(to.g) * t),
                                  UInt8(Double(from.b) * (1 - t) + Double(to.b) * t))
            }
        }
        for _ in 0..<(3 + Int(random.next() % 6)) {
            let color = RGB(byte(), byte(), byte())
            let cx = unit() * Double(width), cy = unit() * Double(height)
            let rx = (0.05 + unit() * 0.3) * Double(width), ry = (0.05 + unit() * 0.3) * Double(height)
            let ellipse = random.next() % 2 == 0
            for y in max(0, Int(cy - ry))..<min(height, Int(cy + ry) + 1) {
                for x in max(0, Int(cx - rx))..<min(width, Int(cx + rx) + 1) {
                    let nx = (Double(x) - cx) / rx, ny = (Double(y) - cy) / ry
                    if !ellipse || nx * nx + ny * ny <= 1 { image[x, y] = color }
                }
            }
        }
        // A little noise, as in photographs.
        for i in 0..<image.pixels.count { image.pixels[i] = image.pixels[i] &+ UInt8(random.next() % UInt64(noise)) }
        return image
    }

    public static func jpeg(_ image: RGBImage, quality: Int = 90) -> [UInt8] {
        try! image.jpegData(quality: quality)
    }

    public static func png(_ image: RGBImage) -> [UInt8] {
        try! image.pngData()
    }

    /// A JPEG with an EXIF APP1 segment carrying `orientation` (1–8), inserted right after SOI.
    public static func jpeg(_ image: RGBImage, orientation: Int, quality: Int = 90) -> [UInt8] {
        let encoded = jpeg(image, quality: quality)
        // Big-endian TIFF header, IFD0 at offset 8 with one SHORT entry (0x0112 = orientation), no next IFD.
        var tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1]
        tiff += [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, UInt8(orientation), 0, 0]
        tiff += [0, 0, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        let segment: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
        return Array(encoded[0..<2]) + segment + Array(encoded[2...])
    }

    /// An uncompressed 24-bit bottom-up BMP, or (with `palette8`) an 8-bit palette one in 3-3-2 colours.
    public static func bmp(_ image: RGBImage, palette8: Bool = false) -> [UInt8] {
        let bits = palette8 ? 8 : 24
        let rowBytes = (image.width * bits + 31) / 32 * 4
        let paletteBytes = palette8 ? 256 * 4 : 0
        let pixelOffset = 14 + 40 + paletteBytes
        var out = Array("BM".utf8)
        out += le32(pixelOffset + rowBytes * image.height) + le32(0) + le32(pixelOffset)
        out += le32(40) + le32(image.width) + le32(image.height) + le16(1) + le16(bits) + le32(0)
        out += le32(rowBytes * image.height) + le32(2835) + le32(2835) + le32(palette8 ? 256 : 0) + le32(0)
        if palette8 { for c in Palette332.colors { out += [c.b, c.g, c.r, 0] } }
        for y in (0..<image.height).reversed() {
            var row = [UInt8]()
            for x in 0..<image.width {
                let p = image[x, y]
                row += palette8 ? [Palette332.index(p)] : [p.b, p.g, p.r]
            }
            out += row + [UInt8](repeating: 0, count: rowBytes - row.count)
        }
        return out
    }

    /// Binary PPM (P6).
    public static func ppm(_ image: RGBImage) -> [UInt8] {
        Array("P6\n# imgcls sample\n\(image.width) \(image.height)\n255\n".utf8) + image.pixels
    }

    // MARK: broken files

    public static let htmlPage = Array("""
        <!DOCTYPE html>
        <html><head><title>404 Not Found</title></head>
        <body><h1>Not Found</h1><p>The requested image was removed.</p></body></html>
        """.utf8)

    /// The first `fraction` of the bytes, as an interrupted download leaves them.
    public static func truncated(_ bytes: [UInt8], keeping fraction: Double = 0.5) -> [UInt8] {
        Array(bytes.prefix(max(1, Int(Double(bytes.count) * fraction))))
    }

    /// The bytes with one bit inverted at `offset`.
    public static func bitFlipped(_ bytes: [UInt8], at offset: Int, bit: Int = 0) -> [UInt8] {
        var copy = bytes
        copy[offset] ^= UInt8(1 << bit)
        return copy
    }

    /// A well-formed PNG signature and IHDR (valid CRC) claiming `width` x `height`, followed by IEND: a
    /// decoder that allocates before checking the size would need gigabytes.
    public static func pngHeader(width: Int, height: Int, colorType: UInt8 = 2) -> [UInt8] {
        let ihdr = be32(width) + be32(height) + [8, colorType, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + pngChunk("IHDR", ihdr) + pngChunk("IEND", [])
    }

    /// `png` with a chunk inserted right after IHDR (with a correct CRC).
    public static func inserting(chunk type: String, data: [UInt8], into png: [UInt8]) -> [UInt8] {
        Array(png[0..<33]) + pngChunk(type, data) + Array(png[33...])
    }

    static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(CRC32.checksum(body)))
    }
}

/// A fixed 256-colour palette (3 bits red, 3 green, 2 blue) for GIF and 8-bit BMP samples.
enum Palette332 {
    static let colors: [RGB] = (0..<256).map { (i: Int) -> RGB in
        let r = (i >> 5) * 255 / 7, g = (i >> 2 & 7) * 255 / 7, b = (i & 3) * 255 / 3
        return RGB(UInt8(r), UInt8(g), UInt8(b))
    }

    static func index(_ p: RGB) -> UInt8 {
        let r = (Int(p.r) * 7 + 127) / 255, g = (Int(p.g) * 7 + 127) / 255, b = (Int(p.b) * 3 + 127) / 255
        return UInt8(r << 5 | g << 2 | b)
    }
}


func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
func le24(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF)] }
func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }
func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
