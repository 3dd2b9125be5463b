import ArgumentParser
import Curate
import Files
import Foundation
import Imaging
import SampleImages

/// The measurement behind curate's default thresholds: how far apart the hashes of planted near duplicates
/// land (re-encoded, resized, cropped, metadata changed), and how many distinct pictures each threshold
/// would merge (generated scenes, and optionally a folder of real images).
struct NearDuplicateStudy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "near-duplicate-study", abstract: "Measure pHash and detail-hash distances to choose thresholds.")

    @Option(help: "Generated scenes.") var scenes = 300
    @Option(help: "A folder of real images for distinct pairs (e.g. ../shared/data/animal_mnist).") var real: String?

    func run() throws {
        var planted: [String: [(phash: Int, detail: Int)]] = [:]
        var sceneHashes: [PerceptualHashes] = []
        for seed in 0..<scenes {
            let original = SampleImages.scene(width: 320, height: 240, seed: UInt64(seed))
            // Measured exactly as curate measures files.
            let base = try ItemAnalysis.analyze(SampleImages.png(original)).hashes
            sceneHashes.append(base)
            let variants: [(String, [UInt8])] = [
                ("re-encoded q50", SampleImages.jpeg(original, quality: 50)),
                ("re-encoded q90", SampleImages.jpeg(original, quality: 90)),
                ("resized 50%", SampleImages.png(original.resized(width: 160, height: 120))),
                ("resized 200%", SampleImages.jpeg(original.resized(width: 640, height: 480), quality: 85)),
                ("cropped 1%", SampleImages.png(original.cropped(x: 3, y: 2, width: 314, height: 236))),
                ("cropped 2%", SampleImages.png(original.cropped(x: 6, y: 5, width: 307, height: 230))),
                ("cropped 3%", SampleImages.png(original.cropped(x: 10, y: 7, width: 300, height: 226))),
                ("metadata", SampleImages.jpeg(original, orientation: 1)),
            ]
            for (name, bytes) in variants {
                let h = try ItemAnalysis.analyze(bytes).hashes
                planted[name, default: []].append((hammingDistance(base.phash, h.phash), base.detail.distance(to: h.detail)))
            }
        }
        let defaults = CurateRequest()
        print("Planted near duplicates of \(scenes) generated scenes (distances: median / 95th percentile / max)")
        print("variant          pHash (64 bits)   detail (256 bits)   found at --near \(defaults.near) --verify \(defaults.verify)")
        for (name, d) in planted.sorted(by: { $0.key < $1.key }) {
            let p = d.map(\.phash).sorted(), q = d.map(\.detail).sorted()
            let found = d.filter { $0.phash <= defaults.near && $0.detail <= defaults.verify }.count * 100 / d.count
            print("\(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(p[p.count / 2]) / \(p[p.count * 95 / 100]) / \(p.last!)"
                  .padding(toLength: 34, withPad: " ", startingAt: 0) + "\(q[q.count / 2]) / \(q[q.count * 95 / 100]) / \(q.last!)"
                  .padding(toLength: 20, withPad: " ", startingAt: 0) + "\(found)%")
        }
        report("distinct generated scenes", sceneHashes)
        if let real {
            var seen = Set<String>(), hashes: [PerceptualHashes] = []
            for file in DirectoryWalker(root: real) where file.hasSuffix(".png") || file.hasSuffix(".jpg") {
                let bytes = try FileIO.read(file)
                guard seen.insert(SHA256.hex(bytes)).inserted else { continue }  // exact duplicates are not the question
                hashes.append(try ItemAnalysis.analyze(bytes).hashes)
            }
            report("distinct real images in \(real)", hashes)
        }
    }

    /// Pairs of distinct pictures each threshold pair would merge.
    private func report(_ title: String, _ hashes: [PerceptualHashes]) {
        print("\n\(title): \(hashes.count) pictures, \(hashes.count * (hashes.count - 1) / 2) pairs; pairs merged by")
        let nears = [4, 6, 8, 10, 12], verifies = [24, 32, 40, 256]
        print("--near".padding(toLength: 8, withPad: " ", startingAt: 0) + verifies.map { "--verify \($0)".padding(toLength: 14, withPad: " ", startingAt: 0) }.joined())
        let index = NearDuplicateIndex(hashes: hashes.map(\.phash), threshold: nears.last!)
        var pairs: [(Int, Int)] = []
        index.forEachPair { a, b in pairs.append((hammingDistance(hashes[a].phash, hashes[b].phash), hashes[a].detail.distance(to: hashes[b].detail))) }
        for near in nears {
            let row = verifies.map { verify in String(pairs.filter { $0.0 <= near && $0.1 <= verify }.count).padding(toLength: 14, withPad: " ", startingAt: 0) }
            print(String(near).padding(toLength: 8, withPad: " ", startingAt: 0) + row.joined())
        }
    }
}
