internal import CGIF
internal import CPNG
internal import CWebP
import Imaging

/// Encoders for the formats `Imaging` only decodes (GIF, WebP) and for RGBA PNGs: enough to test them.
extension SampleImages {
    /// RGBA pixels: `image` with alpha given per pixel by `alpha(x, y)`.
    public static func rgba(_ image: RGBImage, alpha: (Int, Int) -> UInt8) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(image.width * image.height * 4)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let p = image[x, y]
                out += [p.r, p.g, p.b, alpha(x, y)]
            }
        }
        return out
    }

    /// An 8-bit RGBA PNG from straight-alpha pixels.
    public static func pngRGBA(width: Int, height: Int, rgba: [UInt8]) -> [UInt8] {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(width)
        png.height = UInt32(height)
        png.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        var size: png_alloc_size_t = 0
        return rgba.withUnsafeBytes { raw in
            precondition(png_image_write_to_memory(&png, nil, &size, 0, raw.baseAddress, Int32(width * 4), nil) != 0)
            return [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, count in
                precondition(png_image_write_to_memory(&png, buffer.baseAddress, &size, 0, raw.baseAddress, Int32(width * 4), nil) != 0)
                count = Int(size)
            }
        }
    }

    /// A still WebP, lossy at `quality` or lossless.
    public static func webp(_ image: RGBImage, lossless: Bool = false, quality: Float = 90) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        let size = image.pixels.withUnsafeBufferPointer { p in
            lossless
                ? WebPEncodeLosslessRGB(p.baseAddress, Int32(image.width), Int32(image.height), Int32(image.stride), &output)
                : WebPEncodeRGB(p.baseAddress, Int32(image.width), Int32(image.height), Int32(image.stride), quality, &output)
        }
        precondition(size > 0, "WebP encoding failed")
        defer { WebPFree(output) }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    /// An animated WebP on a `canvasWidth` x `canvasHeight` canvas whose first frame is `first` placed at
    /// (`left`, `top`) (even numbers), followed by a second frame `second` at the origin.
    public static func animatedWebP(canvasWidth: Int, canvasHeight: Int, first: RGBImage, left: Int, top: Int,
                                    second: RGBImage) -> [UInt8] {
        func chunk(_ fourCC: String, _ data: [UInt8]) -> [UInt8] {
            Array(fourCC.utf8) + le32(data.count) + data + (data.count % 2 == 1 ? [0] : [])
        }
        func frame(_ image: RGBImage, _ x: Int, _ y: Int) -> [UInt8] {
            let still = webp(image, lossless: true)
            let bitstream = Array(still[12...])  // the VP8L chunk, after "RIFF" size "WEBP"
            return chunk("ANMF", le24(x / 2) + le24(y / 2) + le24(image.width - 1) + le24(image.height - 1)
                         + le24(100) + [0] + bitstream)
        }
        let vp8x = chunk("VP8X", [0x12] + [0, 0, 0] + le24(canvasWidth - 1) + le24(canvasHeight - 1))  // alpha + animation
        let anim = chunk("ANIM", [0, 0, 0, 0] + le16(0))
        let body = Array("WEBP".utf8) + vp8x + anim + frame(first, left, top) + frame(second, 0, 0)
        return Array("RIFF".utf8) + le32(body.count) + body
    }

    /// A GIF in the 3-3-2 palette; pixels for which `transparent(x, y)` holds use a transparent index.
    /// `interlaced` stores rows in GIF's four-pass order.
    public static func gif(_ image: RGBImage, interlaced: Bool = false, transparent: ((Int, Int) -> Bool)? = nil) -> [UInt8] {
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        var error: Int32 = 0
        let write: OutputFunc = { gif, data, count in
            let sink = Unmanaged<Sink>.fromOpaque(gif!.pointee.UserData).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(count)))
            return count
        }
        let gif = EGifOpen(Unmanaged.passUnretained(sink).toOpaque(), write, &error)!
        EGifSetGifVersion(gif, true)
        var colors = Palette332.colors.map { GifColorType(Red: $0.r, Green: $0.g, Blue: $0.b) }
        // Index 0 (pure black) doubles as the transparent index when one is asked for.
        let map = GifMakeMapObject(256, &colors)
        EGifPutScreenDesc(gif, Int32(image.width), Int32(image.height), 8, 0, map)
        if transparent != nil {
            var control: [GifByteType] = [0x01, 0, 0, 0]
            EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, &control)
        }
        EGifPutImageDesc(gif, 0, 0, Int32(image.width), Int32(image.height), interlaced, nil)
        let rows = interlaced
            ? [(0, 8), (4, 8), (2, 4), (1, 2)].flatMap { start, step in Array(stride(from: start, to: image.height, by: step)) }
            : Array(0..<image.height)
        for y in rows {
            var line = (0..<image.width).map { x -> GifPixelType in
                if let transparent, transparent(x, y) { return 0 }
                return max(1, Palette332.index(image[x, y]))
            }
            EGifPutLine(gif, &line, Int32(image.width))
        }
        EGifCloseFile(gif, &error)
        GifFreeMapObject(map)
        return sink.bytes
    }
}
