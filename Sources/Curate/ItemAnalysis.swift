import Files
import Imaging

/// What curate measures about one image file; kept in the catalog so a re-run decodes only new files.
struct ItemAnalysis: Sendable {
    var format: ImageFormat
    /// As displayed (after EXIF orientation), at full size.
    var width: Int
    var height: Int
    /// SHA-256 of the decoded pixels: the same picture in another encoding, or with other metadata, matches.
    var pixelSHA256: String
    var hashes: PerceptualHashes
    var statistics: ImageStatistics

    /// Decodes the whole file (every byte of compressed data is read, so truncation and damage are found),
    /// JPEGs at the smallest libjpeg scale that keeps 256 pixels on the shorter side: the measures and hashes
    /// need no more, and libjpeg then skips most of the IDCT work.
    static func analyze(_ bytes: [UInt8], options: DecodeOptions) throws(ImageError) -> ItemAnalysis {
        let info = try ImageProbe.probe(bytes)
        let decodeOptions = DecodeOptions.thumbnail(of: info, minimumSide: ImageStatistics.analysisSide, base: options)
        let image = try ImageDecoder.decode(bytes, options: decodeOptions)
        var pixelBytes = Array("\(info.orientedWidth)x\(info.orientedHeight):".utf8)
        pixelBytes += image.pixels
        return ItemAnalysis(format: info.format, width: info.orientedWidth, height: info.orientedHeight,
                            pixelSHA256: SHA256.hex(pixelBytes), hashes: PerceptualHashes(of: image),
                            statistics: ImageStatistics(of: image))
    }
}
