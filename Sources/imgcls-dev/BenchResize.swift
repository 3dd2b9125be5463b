import ArgumentParser
import Curate
import Files
import Foundation
import Imaging

/// Where the time of fetch's resize path and of curate's analysis goes, per image: decode (full and scaled),
/// resize, encode, hashes, measures. Each step runs `repeats` times over the files and the fastest pass counts
/// (robust on a busy machine).
struct BenchResize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-resize", abstract: "Time the steps of fetch's resize path and of curate's analysis.")

    @Argument(help: "A folder of JPEG and PNG files.") var folder: String
    @Option(help: "Files to use (0: all).") var limit = 300
    @Option(help: "Passes per step; the fastest counts.") var repeats = 5
    @Flag(help: "Only curate's decode and whole analysis (no full-size copies kept: any number of files).")
    var analysisOnly = false
    @OptionGroup var output: MeasuredValues

    func run() throws {
        let files = Array(DirectoryWalker(root: folder).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".png") }.prefix(limit > 0 ? limit : Int.max))
        let bytes = try files.map { try FileIO.read($0) }
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = monotonicSeconds()
                try body()
                best = min(best, (monotonicSeconds() - start) * 1000 / Double(files.count))
            }
            // "decode for analysis" -> decode_for_analysis_ms
            let key = name.lowercased().split { !$0.isLetter && !$0.isNumber }.joined(separator: "_") + "_ms"
            output.report("\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%.3f", best)) ms/image", [key: best])
        }
        output.report("\(files.count) files", ["files": Double(files.count)])
        if analysisOnly { return try timeAnalysis(bytes, time) }
        var full: [RGBImage] = []
        try time("full decode") { full = try bytes.map { try ImageDecoder.decode($0) } }
        var scaled: [RGBImage] = []
        try time("scaled decode (256)") {
            scaled = try bytes.map { try ImageDecoder.decode($0, options: .thumbnail(of: try ImageProbe.probe($0), minimumSide: 256)) }
        }
        var small: [RGBImage] = []
        time("resize to 256") { small = scaled.map { $0.resized(mode: .keepRatio, size: 256) } }
        try time("encode 256") { _ = try small.map { try $0.jpegData(quality: 95) } }
        time("sha256 of the file") { _ = bytes.map { SHA256.hex($0) } }
        // Curate's analysis steps (ItemAnalysis.analyze), the resize from the full decode as PNGs need it.
        var analysed: [RGBImage] = []
        time("full to 128 (analysis)") { analysed = full.map { $0.fitting(maxSide: ImageStatistics.analysisSide) } }
        time("perceptual hashes") { _ = analysed.map { PerceptualHashes(of: $0) } }
        time("statistics") { _ = analysed.map { ImageStatistics(of: $0) } }
        try timeAnalysis(bytes, time)
    }

    private func timeAnalysis(_ bytes: [[UInt8]], _ time: (String, () throws -> Void) throws -> Void) throws {
        try time("decode for analysis") { for file in bytes { _ = try? ItemAnalysis.decode(file) } }
        try time("analyze (whole)") { for file in bytes { _ = try? ItemAnalysis.analyze(file) } }
    }
}
