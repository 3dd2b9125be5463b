#if canImport(Glibc)
import Glibc
#endif
internal import CImageCodecs

/// JPEG through libjpeg-turbo (via CImageCodecs, which keeps its longjmp error handling in C).
enum JPEGCodec {
    /// Decodes to RGB at 1/`scaleDenominator` size (1, 2, 4 or 8): libjpeg-turbo skips the DCT work it would
    /// throw away, so thumbnails cost a fraction of a full decode.
    static func decode(_ bytes: UnsafeRawBufferPointer, scaleDenominator: Int, fast: Bool) throws(ImageError) -> DecodedPixels {
        var info = icc_jpeg_info()
        var status = icc_status()
        guard let decoder = icc_jpeg_open(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                                          Int32(scaleDenominator), fast ? 1 : 0, &info, &status)
        else { throw ImageError(status) }
        defer { icc_jpeg_close(decoder) }
        let width = Int(info.output_width), height = Int(info.output_height)
        var failed = false
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, count in
            failed = icc_jpeg_read_rgb(decoder, buffer.baseAddress, width * 3, &status) != 0
            count = failed ? 0 : width * height * 3
        }
        if failed { throw ImageError(status) }
        return DecodedPixels(width: width, height: height, channels: 3, bytes: pixels)
    }

    static func encode(_ image: RGBImage, quality: Int) throws(ImageError) -> [UInt8] {
        var status = icc_status()
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let result = image.pixels.withUnsafeBufferPointer { p in
            icc_jpeg_encode(p.baseAddress, UInt32(image.width), UInt32(image.height), image.stride, 3,
                            Int32(max(1, min(100, quality))), &output, &length, &status)
        }
        guard result == 0, let output else { throw ImageError(status) }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }

    /// The largest libjpeg scale denominator (8, 4, 2, 1) that keeps both sides at least `minimumSide`.
    static func scaleDenominator(width: Int, height: Int, minimumSide: Int) -> Int {
        for denominator in [8, 4, 2] where (min(width, height) + denominator - 1) / denominator >= minimumSide {
            return denominator
        }
        return 1
    }
}

extension ImageError {
    /// Maps a CImageCodecs status to a reason code, keeping the library's words as the detail.
    init(_ status: icc_status) {
        let message = withUnsafeBytes(of: status.message) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        switch icc_code(UInt32(status.code)) {
        case ICC_TRUNCATED: self.init(.truncated, message)
        case ICC_UNSUPPORTED: self.init(.unsupportedFormat, message)
        case ICC_NO_MEMORY: self.init(.tooManyPixels, "out of memory while decoding")
        default: self.init(.corrupt, message.isEmpty ? "the decoder rejected the data" : message)
        }
    }
}
