// Imaging: pixels from untrusted bytes. Entry: `ImageDecoder` (sniff, check the header, decode safely).
// Files in reading order:
//   ImageDecoder.swift   options and the decode (this file); ImageFormat.swift sniffing from bytes
//   ImageInfo.swift      the header without pixels; JPEGHeader.swift JPEG's markers and EXIF orientation
//   ImageError.swift     why an image was rejected (stable reasons)
//   JPEGCodec.swift, PNGCodec.swift, GIFCodec.swift, WebPCodec.swift, BMPCodec.swift, PNMCodec.swift  the formats
//   RGBImage.swift       the pixel buffer; Orientation.swift turning upright; Resize.swift resampling
//   PerceptualHash.swift pHash and the detail hash; ImageStatistics.swift measures for quality flags
//   PDQ.swift            PDQ (ThreatExchange's hash for moderation lists), as the reference computes it
//   Inspection.swift     one file's verdict for `imgcls inspect`
//   ThumbnailGrid.swift  thumbnails in coloured frames, for contact sheets

import Files

/// What a decode may cost and how its result looks.
public struct DecodeOptions: Sendable, Equatable {
    /// Checked against the header before any pixel buffer is allocated.
    public var maxPixels = 100_000_000
    /// Images whose shorter side (after orientation) is below this are `too_small`.
    public var minSide = 1
    /// What transparent pixels become.
    public var background = RGB.white
    /// Turn JPEGs upright from their EXIF orientation.
    public var applyOrientation = true
    /// JPEG only: decode at 1/2, 1/4 or 1/8 size (libjpeg-turbo's scaled IDCT). 1 = full size.
    public var jpegScaleDenominator = 1
    /// JPEG only: a faster, slightly less exact IDCT and upsampling, for hashes and thumbnails.
    public var fastJPEG = false

    public init() {}

    /// Options for a cheap thumbnail: JPEGs decode at the smallest libjpeg scale whose shorter side is
    /// still at least `minimumSide` pixels, with the fast IDCT; the other settings come from `base`.
    public static func thumbnail(of info: ImageInfo, minimumSide: Int, base: DecodeOptions = DecodeOptions()) -> DecodeOptions {
        var options = base
        if info.format == .jpeg {
            options.jpegScaleDenominator = JPEGCodec.scaleDenominator(width: info.width, height: info.height,
                                                                     minimumSide: minimumSide)
            options.fastJPEG = true
        }
        return options
    }
}

/// Decodes any supported format to `RGBImage`, defensively: the format comes from the bytes, limits are
/// checked from the header first, and every failure is an `ImageError` with a reason code.
public enum ImageDecoder {
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(ImageError) -> RGBImage {
        try withBytes(bytes) { raw throws(ImageError) in try decode(raw, options: options) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()) throws(ImageError) -> RGBImage {
        let info = try checkedInfo(bytes, options: options)
        let decoded: DecodedPixels
        switch info.format {
        case .jpeg: decoded = try JPEGCodec.decode(bytes, scaleDenominator: options.jpegScaleDenominator, fast: options.fastJPEG)
        case .png: decoded = try PNGCodec.decode(bytes)
        case .gif: decoded = try GIFCodec.decode(bytes)
        case .webp: decoded = try WebPCodec.decode(bytes, info: info)
        case .bmp: decoded = try BMPCodec.decode(bytes)
        case .pnm: decoded = try PNMCodec.decode(bytes)
        }
        let image = decoded.composited(over: options.background)
        return options.applyOrientation ? image.oriented(info.orientation) : image
    }

    /// Reads a file and decodes it; errors name the file.
    public static func decode(file path: String, options: DecodeOptions = DecodeOptions()) throws(ImageError) -> RGBImage {
        let bytes = try readFile(path)
        do throws(ImageError) { return try decode(bytes, options: options) } catch { throw error.naming(path) }
    }

    /// The header, with the limits of `options` applied (pixel count, minimum side).
    public static func checkedInfo(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImageError) -> ImageInfo {
        let info = try ImageProbe.probe(bytes)
        guard info.pixelCount <= options.maxPixels else {
            throw ImageError(.tooManyPixels, "\(info.width)x\(info.height) is \(megapixels(info.pixelCount)) megapixels, over the limit of \(megapixels(options.maxPixels))")
        }
        let shortSide = min(info.width, info.height)
        guard shortSide >= options.minSide else {
            throw ImageError(.tooSmall, "\(info.orientedWidth)x\(info.orientedHeight) has a side shorter than the minimum of \(options.minSide)")
        }
        return info
    }

    /// Reads a file to decode; a file that cannot be read is `unreadable`, naming it.
    public static func readFile(_ path: String) throws(ImageError) -> [UInt8] {
        do throws(FileError) {
            return try FileIO.read(path)
        } catch {
            throw ImageError(.unreadable, error.detail, file: path)
        }
    }

    private static func megapixels(_ count: Int) -> String {
        let value = Double(count) / 1_000_000
        return value >= 10 ? String(Int(value.rounded())) : String((value * 10).rounded() / 10)
    }
}

extension RGBImage {
    /// Baseline JPEG at `quality` (1–100).
    public func jpegData(quality: Int = 90) throws(ImageError) -> [UInt8] {
        try JPEGCodec.encode(self, quality: quality)
    }

    /// Lossless 8-bit RGB PNG.
    public func pngData() throws(ImageError) -> [UInt8] {
        try PNGCodec.encode(self)
    }
}

extension ImageDecoder {
    /// A small picture of the file, its longer side `side` pixels (a JPEG decodes at a reduced scale), or nil
    /// when the file cannot be read as an image: for contact sheets and reports.
    public static func thumbnail(file path: String, side: Int) -> RGBImage? {
        guard let bytes = try? readFile(path), let info = try? ImageProbe.probe(bytes),
              let image = try? decode(bytes, options: .thumbnail(of: info, minimumSide: side)) else { return nil }
        return image.resized(mode: .keepRatioLargest, size: side)
    }
}
