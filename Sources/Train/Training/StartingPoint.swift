import Engine
import Foundation
import Imaging
import StageContract

/// Where `imgcls train` starts when it is not told: on a pretrained backbone's features (the good path: on a real
/// 4-class clip-art set of 1,194 pictures, the EfficientNet-Lite0 head reached 87.8% validation accuracy where 20
/// epochs from scratch reached 57.6%, in less time), unless the pictures are too small for one.
public enum StartingPoint {
    /// Pictures whose shorter side is under this many pixels (the median of the training set) train from scratch:
    /// blown up to a backbone's 224 pixels they carry little an ImageNet network knows (28-pixel silhouettes,
    /// icons), and the small network trains on them at their own size.
    public static let smallestSideForBackbone = 64

    /// The median shorter side (as displayed) of up to `sample` pictures spread evenly over the training folder,
    /// read from their headers; nil when none can be read.
    public static func medianShorterSide(workspace: Workspace, trainFolder: String?, sample: Int = 101) -> Int? {
        guard let folder = try? ImageFolder(trainFolder ?? workspace.folder(of: .train)), !folder.samples.isEmpty else { return nil }
        let step = max(1, folder.samples.count / sample)
        let sides = stride(from: 0, to: folder.samples.count, by: step).compactMap { index -> Int? in
            guard let bytes = try? ImageDecoder.readFile(folder.samples[index].path), let info = try? ImageProbe.probe(bytes) else { return nil }
            return min(info.orientedWidth, info.orientedHeight)
        }.sorted()
        return sides.isEmpty ? nil : sides[sides.count / 2]
    }

    /// The rule as one line, for the run to print: whether pictures of `side` pixels go on a backbone.
    public static func picturesFitABackbone(_ side: Int?) -> (fits: Bool, reason: String) {
        guard let side else { return (false, "no picture in the training folder could be read") }
        if side < smallestSideForBackbone {
            return (false, "the pictures are small (median shorter side \(side) px, under \(smallestSideForBackbone))")
        }
        return (true, "the pictures are large enough for a pretrained backbone (median shorter side \(side) px)")
    }
}
