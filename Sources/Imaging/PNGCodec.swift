internal import CImageCodecs
internal import CPNG

/// PNG through libpng: every colour type and bit depth, palette + tRNS, 16-bit (scaled to 8), interlaced.
/// No gamma or colour-profile conversion is applied (as in PIL), so training sees the stored values.
enum PNGCodec {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> DecodedPixels {
        var info = icc_png_info()
        var status = icc_status()
        guard let decoder = icc_png_open(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                                         &info, &status)
        else { throw ImageError(status) }
        defer { icc_png_close(decoder) }
        let width = Int(info.width), height = Int(info.height), channels = Int(info.channels)
        var failed = false
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
            failed = icc_png_read(decoder, buffer.baseAddress, width * channels, &status) != 0
            count = failed ? 0 : width * height * channels
        }
        if failed { throw ImageError(status) }
        return DecodedPixels(width: width, height: height, channels: channels, bytes: pixels)
    }

    /// Encodes 8-bit RGB with libpng's simplified writer (which handles its own errors).
    static func encode(_ image: RGBImage) throws(ImageError) -> [UInt8] {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        var size: png_alloc_size_t = 0
        let stride = Int32(image.stride)
        let output: [UInt8]? = image.pixels.withUnsafeBytes { raw in
            guard png_image_write_to_memory(&png, nil, &size, 0, raw.baseAddress, stride, nil) != 0 else { return nil }
            var ok = false
            let bytes = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, count in
                ok = png_image_write_to_memory(&png, buffer.baseAddress, &size, 0, raw.baseAddress, stride, nil) != 0
                count = ok ? Int(size) : 0
            }
            return ok ? bytes : nil
        }
        guard let output else {
            let message = withUnsafeBytes(of: png.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            png_image_free(&png)
            throw ImageError(.corrupt, "PNG encoding failed: \(message)")
        }
        return output
    }
}
