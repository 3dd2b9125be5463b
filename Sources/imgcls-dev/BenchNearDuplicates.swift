import ArgumentParser
import Curate
import Files
import Foundation

/// Near-duplicate search at scale: random 64-bit hashes with planted pairs a few bits apart, searched on one
/// core (the goal: a million in under a minute).
struct BenchNearDuplicates: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-near-duplicates", abstract: "Time the near-duplicate index on random hashes with planted pairs.")

    @Option(help: "Random hashes.") var count = 1_000_000
    @Option(help: "Planted pairs.") var planted = 10_000
    @Option(help: "Hamming threshold.") var threshold = 8
    @OptionGroup var output: MeasuredValues

    func run() {
        var random = SplitMix64(seed: 2024)
        var hashes = (0..<count).map { _ in random.next() }
        var expected = Set<[Int]>()
        for k in 0..<planted {
            var copy = hashes[k]
            var flipped = Set<Int>()
            while flipped.count < random.next(below: threshold + 1) { flipped.insert(random.next(below: 64)) }
            for bit in flipped { copy ^= 1 << UInt64(bit) }
            expected.insert([k, hashes.count])
            hashes.append(copy)
        }
        let start = monotonicSeconds()
        let index = NearDuplicateIndex(hashes: hashes, threshold: threshold)
        let built = monotonicSeconds() - start
        var found = 0, plantedFound = 0
        index.forEachPair { i, j in
            found += 1
            if expected.contains([i, j]) { plantedFound += 1 }
        }
        let total = monotonicSeconds() - start
        output.report([String(format: "%d hashes (%d planted pairs), threshold %d, one thread: index built in %.2f s, search done in %.2f s",
                              hashes.count, planted, threshold, built, total),
                       "pairs found: \(found) (planted pairs found: \(plantedFound) of \(planted); the rest are random pairs that happen to be close)",
                       String(format: "goal: under 60 s — %@", total < 60 ? "met" : "NOT met")].joined(separator: "\n"),
                      ["index_seconds": built, "search_seconds": total, "planted_found": Double(plantedFound)])
    }
}
