import ArgumentParser
import Files
import Foundation
import Imaging
import SampleImages

/// A folder of distinct pictures (JPEG and PNG, two labels) with planted near duplicates, and the list of
/// planted pairs: the input of scripts/bench-curate.sh.
struct CurateCorpus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curate-corpus", abstract: "Write distinct pictures plus planted near duplicates, and planted.csv.")

    @Argument(help: "The folder to write.") var folder: String
    @Option(help: "Distinct pictures.") var count = 2500
    @Option(help: "Of which this many get a planted near duplicate.") var planted = 500

    func run() throws {
        let sizes = [(320, 240), (480, 360), (640, 480), (800, 600), (1024, 768)]
        var rows = ["first,second,kind"]
        for label in ["a", "b"] { try FileIO.createDirectory(folder + "/" + label) }
        for i in 0..<count {
            let label = i % 2 == 0 ? "a" : "b"
            let (w, h) = sizes[i % sizes.count]
            // Photo-like texture, so JPEGs weigh what web photos weigh; one file in five a PNG.
            let picture = SampleImages.scene(width: w, height: h, seed: UInt64(i) + 7_000, noise: 24)
            let png = i % 5 == 0
            let name = "\(label)/\(String(format: "%05d", i)).\(png ? "png" : "jpg")"
            try FileIO.writeAtomically(png ? SampleImages.png(picture) : SampleImages.jpeg(picture, quality: 85), to: folder + "/" + name)
            guard i < planted else { continue }
            // Only the kind this picture gets is encoded.
            let (kind, bytes, ext): (String, [UInt8], String)
            switch i % 4 {
            case 0: (kind, bytes, ext) = ("re-encoded", SampleImages.jpeg(picture, quality: 55), "jpg")
            case 1: (kind, bytes, ext) = ("half-size", SampleImages.jpeg(picture.resized(width: w / 2, height: h / 2), quality: 90), "jpg")
            case 2: (kind, bytes, ext) = ("cropped", SampleImages.png(picture.cropped(x: w / 100, y: h / 100, width: w - 2 * (w / 100), height: h - 2 * (h / 100))), "png")
            default: (kind, bytes, ext) = ("metadata", SampleImages.jpeg(picture, orientation: 1, quality: 85), "jpg")
            }
            let copy = "\(label)/\(String(format: "%05d", i))-\(kind).\(ext)"
            try FileIO.writeAtomically(bytes, to: folder + "/" + copy)
            rows.append("\(name),\(copy),\(kind)")
        }
        try FileIO.writeAtomically(Array((rows.joined(separator: "\n") + "\n").utf8), to: folder + "/planted.csv")
        print("wrote \(count + planted) files (\(planted) planted near duplicates) to \(folder)")
    }
}
