import Files
import Foundation
import Imaging

extension SampleImages {
    /// A training folder of two easy classes, dark/ and light/ (textured pictures, 20x16 PNGs), plus one HTML
    /// page saved as dark/broken.jpg, for tests of training on folders.
    public static func writeTwoClassFolder(_ root: String, perClass: Int, seed: UInt64 = 1) throws {
        for (label, offset) in [("dark", 0), ("light", 150)] {
            try FileManager.default.createDirectory(atPath: root + "/" + label, withIntermediateDirectories: true)
            for i in 0..<perClass {
                let picture = scene(width: 20, height: 16, seed: seed &* 1000 &+ UInt64(i + offset), noise: 6)
                let shifted = RGBImage(width: 20, height: 16, pixels: picture.pixels.map { UInt8(Int($0) / 3 + offset) })
                try FileIO.writeAtomically(png(shifted), to: "\(root)/\(label)/\(i).png")
            }
        }
        try FileIO.writeAtomically(Array("<html>not a picture</html>".utf8), to: root + "/dark/broken.jpg")
    }
}
