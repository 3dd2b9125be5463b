internal import CWebP

/// WebP through libwebp; animated files give their first frame (through libwebpdemux).
enum WebPCodec {
    static func decode(_ bytes: UnsafeRawBufferPointer, info: ImageInfo) throws(ImageError) -> DecodedPixels {
        if info.isAnimated { return try decodeFirstFrame(bytes) }
        return try decodeStill(bytes, width: info.width, height: info.height, alpha: info.hasAlpha)
    }

    private static func decodeStill(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, alpha: Bool) throws(ImageError) -> DecodedPixels {
        let channels = alpha ? 4 : 3
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else { throw ImageError(.corrupt, "libwebp version mismatch") }
        var status = VP8_STATUS_OK
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
            config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB
            config.output.is_external_memory = 1
            config.output.width = Int32(width)
            config.output.height = Int32(height)
            config.output.u.RGBA.rgba = buffer.baseAddress
            config.output.u.RGBA.stride = Int32(width * channels)
            config.output.u.RGBA.size = width * height * channels
            status = WebPDecode(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &config)
            count = status == VP8_STATUS_OK ? width * height * channels : 0
        }
        WebPFreeDecBuffer(&config.output)
        switch status {
        case VP8_STATUS_OK: return DecodedPixels(width: width, height: height, channels: channels, bytes: pixels)
        case VP8_STATUS_NOT_ENOUGH_DATA: throw ImageError(.truncated, "the WebP data ends early")
        case VP8_STATUS_UNSUPPORTED_FEATURE: throw ImageError(.unsupportedFormat, "a WebP feature libwebp does not support")
        default: throw ImageError(.corrupt, "libwebp could not decode the data (status \(status.rawValue))")
        }
    }

    private static func decodeFirstFrame(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> DecodedPixels {
        var data = WebPData(bytes: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), size: bytes.count)
        guard let demux = WebPDemux(&data) else { throw ImageError(.corrupt, "the animated WebP container is invalid") }
        defer { WebPDemuxDelete(demux) }
        let width = Int(WebPDemuxGetI(demux, WEBP_FF_CANVAS_WIDTH))
        let height = Int(WebPDemuxGetI(demux, WEBP_FF_CANVAS_HEIGHT))
        var iterator = WebPIterator()
        guard WebPDemuxGetFrame(demux, 1, &iterator) != 0 else {
            throw ImageError(.truncated, "the animated WebP has no complete first frame")
        }
        defer { WebPDemuxReleaseIterator(&iterator) }
        let fragment = UnsafeRawBufferPointer(start: iterator.fragment.bytes, count: iterator.fragment.size)
        let frame = try decodeStill(fragment, width: Int(iterator.width), height: Int(iterator.height), alpha: true)
        // Place the frame on a transparent canvas at its offset; parts outside the canvas are clipped.
        var canvas = [UInt8](repeating: 0, count: width * height * 4)
        let left = Int(iterator.x_offset), top = Int(iterator.y_offset)
        let rowBytes = max(0, min(frame.width, width - left)) * 4
        if rowBytes > 0 {
            for y in 0..<min(frame.height, height - top) {
                let source = y * frame.width * 4, target = ((top + y) * width + left) * 4
                canvas.replaceSubrange(target..<target + rowBytes, with: frame.bytes[source..<source + rowBytes])
            }
        }
        return DecodedPixels(width: width, height: height, channels: 4, bytes: canvas)
    }
}
