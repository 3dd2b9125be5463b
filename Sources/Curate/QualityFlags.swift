import Imaging
import StageContract

/// How curate sets the quality flags (the catalog's `QualityFlag`): thresholds on `ImageStatistics`, measured at
/// 128 pixels on the longer side; see the README for how they were chosen.
extension QualityFlag {
    /// Variance of the Laplacian below this: little edge detail at 128 px.
    public static let blurryBelow = 30.0
    /// Mean luma below / above these (0–255).
    public static let darkBelow = 40.0
    public static let lightAbove = 220.0
    /// Luma histogram entropy below this many bits (8 at most): near-flat pictures.
    public static let lowInformationBelow = 2.5
    /// Mean RGB channel spread below this (0–255): grayscale pictures.
    public static let grayscaleBelow = 4.0
    /// Longer side over shorter side above this.
    public static let oddAspectAbove = 2.5
    /// Pixel count more than this many times below or above the dataset's median.
    public static let oddSizeFactor = 16.0

    /// The flags of one image; `medianPixels` is the dataset's median pixel count (for odd_size).
    static func flags(width: Int, height: Int, statistics s: ImageStatistics, medianPixels: Double) -> [QualityFlag] {
        var flags: [QualityFlag] = []
        if s.sharpness < blurryBelow { flags.append(.blurry) }
        if s.brightness < darkBelow { flags.append(.dark) }
        if s.brightness > lightAbove { flags.append(.light) }
        if s.entropy < lowInformationBelow { flags.append(.lowInformation) }
        if s.colorfulness < grayscaleBelow { flags.append(.grayscale) }
        if Double(max(width, height)) / Double(max(1, min(width, height))) > oddAspectAbove { flags.append(.oddAspect) }
        let pixels = Double(width * height)
        if medianPixels > 0 && (pixels * oddSizeFactor < medianPixels || pixels > medianPixels * oddSizeFactor) {
            flags.append(.oddSize)
        }
        return flags
    }
}
