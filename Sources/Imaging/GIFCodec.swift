internal import CImageCodecs

/// The first frame of a GIF, composited onto a transparent canvas the size of the logical screen (grown to
/// hold the frame when a file's screen is too small, as browsers do).
enum GIFCodec {
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> DecodedPixels {
        var info = icc_gif_info()
        var status = icc_status()
        guard let decoder = icc_gif_open(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count,
                                         &info, &status)
        else { throw ImageError(status) }
        defer { icc_gif_close(decoder) }
        let width = max(Int(info.screen_width), Int(info.left + info.width))
        let height = max(Int(info.screen_height), Int(info.top + info.height))
        var canvas = [UInt8](repeating: 0, count: width * height * 4)
        let result = canvas.withUnsafeMutableBufferPointer { p in
            icc_gif_read_first_frame(decoder, p.baseAddress, UInt32(width), UInt32(height), width * 4, &status)
        }
        if result != 0 { throw ImageError(status) }
        return DecodedPixels(width: width, height: height, channels: 4, bytes: canvas)
    }
}
