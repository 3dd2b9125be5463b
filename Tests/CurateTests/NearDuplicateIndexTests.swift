@testable import Curate
import Files
import Testing

@Suite struct NearDuplicateIndexTests {
    /// Random hashes with planted pairs a few bits apart: the index finds exactly what comparing all pairs
    /// finds.
    @Test(arguments: [0, 3, 8, 10])
    func findsExactlyThePairsBruteForceFinds(threshold: Int) {
        var random = SplitMix64(seed: UInt64(threshold) + 5)
        var hashes = (0..<3000).map { _ in random.next() }
        for k in 0..<200 {
            var copy = hashes[k]
            for _ in 0..<random.next(below: threshold + 2) { copy ^= 1 << UInt64(random.next(below: 64)) }
            hashes.append(copy)
        }
        var found = Set<[Int]>()
        NearDuplicateIndex(hashes: hashes, threshold: threshold).forEachPair { i, j in
            #expect(i < j)
            #expect(found.insert([i, j]).inserted, "pair \(i),\(j) reported twice")
        }
        var expected = Set<[Int]>()
        for i in 0..<hashes.count {
            for j in i + 1..<hashes.count where (hashes[i] ^ hashes[j]).nonzeroBitCount <= threshold { expected.insert([i, j]) }
        }
        #expect(found == expected)
        #expect(!expected.isEmpty)
    }

    @Test func chunkCountAdaptsToTheDataSize() {
        #expect(NearDuplicateIndex.chunkCount(items: 1_000_000, threshold: 8) >= 3)
        #expect(NearDuplicateIndex.chunkCount(items: 100, threshold: 0) >= 3)
    }
}
