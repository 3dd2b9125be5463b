import Files
import Imaging

/// What curate measures about one image file; kept in the catalog so a re-run decodes only new files.
public struct ItemAnalysis: Sendable {
    public let format: ImageFormat
    /// As displayed (after EXIF orientation), at full size.
    public let width: Int
    public let height: Int
    /// SHA-256 of the decoded pixels: the same picture in another encoding, or with other metadata, matches.
    public let pixelSHA256: String
    public let hashes: PerceptualHashes
    public let statistics: ImageStatistics

    /// Decodes the whole file (every byte of compressed data is read, so truncation and damage are found),
    /// JPEGs at the smallest libjpeg scale that keeps 128 pixels on the longer side: the measures and hashes
    /// need no more, and libjpeg then skips most of the IDCT work. Everything is measured on one copy at most
    /// 128 pixels long.
    public static func analyze(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(ImageError) -> ItemAnalysis {
        let (info, decoded) = try decode(bytes, options: options)
        // The same pixels give the same hash whatever the encoding or metadata (the size is part of it).
        let pixelHash = "\(info.orientedWidth)x\(info.orientedHeight):" + SHA256.hex(decoded.pixels)
        let image = decoded.fitting(maxSide: ImageStatistics.analysisSide)
        return ItemAnalysis(format: info.format, width: info.orientedWidth, height: info.orientedHeight,
                            pixelSHA256: pixelHash, hashes: PerceptualHashes(of: image), statistics: ImageStatistics(of: image))
    }

    /// The validating decode that `analyze` starts with (benchmarks time it on its own).
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(ImageError) -> (ImageInfo, RGBImage) {
        let info = try ImageProbe.probe(bytes)
        let side = ImageStatistics.analysisSide
        let scale = max(1, side * min(info.width, info.height) / max(info.width, info.height))
        return (info, try ImageDecoder.decode(bytes, options: DecodeOptions.thumbnail(of: info, minimumSide: scale, base: options)))
    }
}
