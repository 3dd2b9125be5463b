import ArgumentParser
import Dispatch
import Files
import Foundation
import Imaging

/// PDQ hashes as imgcls computes them, in the reference script's line format (scripts/pdq-reference.sh compares
/// the two): HEX QUALITY DIHEDRAL-HEX*7 FILE. EXIF orientation is not applied, as the reference tools read files.
struct PDQHashes: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pdq", abstract: "Print the PDQ hashes of image files, as the reference script does.")

    @Argument(help: "Image files.") var files: [String]
    @Option(help: "Instead of printing hashes: decode the files once, then hash them this many rounds and print `name value` lines (images/s, hashing only).") var benchRounds: Int?
    @Option(help: "With --bench-rounds: threads hashing at once.") var threads = 1

    func run() throws {
        if let benchRounds { return try bench(rounds: benchRounds) }
        var options = DecodeOptions()
        options.applyOrientation = false
        for file in files {
            do {
                let image = try ImageDecoder.decode(file: file, options: options)
                let (hashes, quality) = PDQ.dihedral(image)
                print(([hashes[0].hex, String(quality)] + hashes.dropFirst().map(\.hex) + [file]).joined(separator: " "))
            } catch {
                print("- - - \(file) (\(error))")
            }
        }
    }

    /// Hashing alone (the decode is done before the clock starts), best round of `rounds`.
    func bench(rounds: Int) throws {
        var options = DecodeOptions()
        options.applyOrientation = false
        let images = try files.map { try ImageDecoder.decode(file: $0, options: options) }
        var best = Double.infinity
        for _ in 0..<max(1, rounds) {
            let started = monotonicSeconds()
            DispatchQueue.concurrentPerform(iterations: threads) { worker in
                for i in stride(from: worker, to: images.count, by: threads) { _ = PDQ.dihedral(images[i]) }
            }
            best = min(best, monotonicSeconds() - started)
        }
        let pixels = images.reduce(0) { $0 + $1.width * $1.height }
        print("images_per_second \(Double(images.count) / best)")
        print("megapixels_per_second \(Double(pixels) / best / 1e6)")
    }
}
