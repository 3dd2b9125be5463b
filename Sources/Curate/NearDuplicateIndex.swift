/// Finds every pair of 64-bit hashes within a Hamming distance, without comparing all pairs: multi-index
/// hashing. The hash is cut into `m` chunks; two hashes within distance `t` differ in at most `t / m` bits
/// of at least one chunk (pigeonhole). Per chunk, hashes are grouped into buckets by that chunk's value, and
/// only buckets whose values are that close are compared, bucket against bucket (contiguous memory, so the
/// comparisons stream). `m` is chosen for the data size.
public struct NearDuplicateIndex {
    public let threshold: Int
    private let chunks: [Chunk]
    /// Per chunk, the most bits in which a pair's chunk values may differ for the pair to be found there.
    private let radius: Int

    private struct Chunk {
        let shift: UInt64
        let bits: Int
        let offsets: [UInt32]     // bucket b holds entries offsets[b]..<offsets[b + 1]
        let entries: [UInt32]     // hash indexes, grouped by bucket
        let entryHashes: [UInt64] // the hashes in the same order

        func key(_ hash: UInt64) -> Int { Int((hash >> shift) & ((1 << UInt64(bits)) - 1)) }
    }

    public init(hashes: [UInt64], threshold: Int) {
        precondition(threshold >= 0 && threshold < 64)
        self.threshold = threshold
        let m = NearDuplicateIndex.chunkCount(items: hashes.count, threshold: threshold)
        radius = threshold / m
        var chunks: [Chunk] = []
        var start = 0
        for c in 0..<m {
            let bits = (64 - start) / (m - c)
            chunks.append(NearDuplicateIndex.makeChunk(hashes, shift: UInt64(64 - start - bits), bits: bits))
            start += bits
        }
        self.chunks = chunks
    }

    /// The chunk count with the least estimated work: bucket pairs visited (scattered reads, ~10 ns each)
    /// plus hash pairs compared (streamed, ~0.5 ns each). Chunks of up to 24 bits keep the tables small.
    static func chunkCount(items: Int, threshold: Int) -> Int {
        var best = (m: 3, cost: Double.infinity)
        for m in 3...16 {  // any m is correct (pigeonhole); from 3 on, chunks fit a 24-bit table
            let bits = 64 / m
            let neighbours = maskCount(bits: bits, radius: threshold / m)
            let buckets = Double(1 << bits), perBucket = Double(items) / buckets
            let cost = Double(m) * buckets * neighbours * (10 + 0.5 * perBucket * perBucket / 2)
            if cost < best.cost { best = (m, cost) }
        }
        return best.m
    }

    /// Every XOR mask of `bits` bits with at most `radius` bits set (0 first).
    /// How many `masks(bits:radius:)` returns, without making them: the sum of binomials C(bits, r), r ≤ radius.
    static func maskCount(bits: Int, radius: Int) -> Double {
        var (count, term) = (0.0, 1.0)
        for r in 0...min(radius, bits) {
            count += term
            term = term * Double(bits - r) / Double(r + 1)
        }
        return count
    }

    static func masks(bits: Int, radius: Int) -> [Int] {
        var out: [Int] = []
        func extend(_ mask: Int, from bit: Int, left: Int) {
            out.append(mask)
            guard left > 0 else { return }
            for b in bit..<bits { extend(mask | 1 << b, from: b + 1, left: left - 1) }
        }
        extend(0, from: 0, left: radius)
        return out
    }

    private static func makeChunk(_ hashes: [UInt64], shift: UInt64, bits: Int) -> Chunk {
        let mask = (UInt64(1) << UInt64(bits)) - 1
        var offsets = [UInt32](repeating: 0, count: (1 << bits) + 1)
        for h in hashes { offsets[Int((h >> shift) & mask) + 1] += 1 }
        for b in 0..<(1 << bits) { offsets[b + 1] += offsets[b] }
        var fill = offsets
        var entries = [UInt32](repeating: 0, count: hashes.count)
        var entryHashes = [UInt64](repeating: 0, count: hashes.count)
        for (i, h) in hashes.enumerated() {
            let b = Int((h >> shift) & mask)
            entries[Int(fill[b])] = UInt32(i)
            entryHashes[Int(fill[b])] = h
            fill[b] += 1
        }
        return Chunk(shift: shift, bits: bits, offsets: offsets, entries: entries, entryHashes: entryHashes)
    }

    /// Calls `body(i, j)` once for every pair of indexes i < j whose hashes are within the threshold.
    public func forEachPair(_ body: (Int, Int) -> Void) {
        for (c, chunk) in chunks.enumerated() {
            let masks = NearDuplicateIndex.masks(bits: chunk.bits, radius: radius)
            chunk.entryHashes.withUnsafeBufferPointer { hashes in
                chunk.entries.withUnsafeBufferPointer { entries in
                    chunk.offsets.withUnsafeBufferPointer { offsets in
                        // A pair within the threshold (the callers check) is reported through the first chunk that
                        // finds it, so once in all.
                        func report(_ a: Int, _ b: Int) {
                            guard firstChunkFinding(hashes[a], hashes[b]) == c else { return }
                            let i = Int(entries[a]), j = Int(entries[b])
                            body(min(i, j), max(i, j))
                        }
                        for key in 0..<(1 << chunk.bits) {
                            let lower = Int(offsets[key]), upper = Int(offsets[key + 1])
                            guard lower < upper else { continue }
                            for a in lower..<upper {
                                for b in a + 1..<upper where (hashes[a] ^ hashes[b]).nonzeroBitCount <= threshold { report(a, b) }
                            }
                            for mask in masks.dropFirst() {
                                let other = key ^ mask
                                guard other > key else { continue }  // each bucket pair once
                                let otherLower = Int(offsets[other]), otherUpper = Int(offsets[other + 1])
                                guard otherLower < otherUpper else { continue }
                                for a in lower..<upper {
                                    let h = hashes[a]
                                    for b in otherLower..<otherUpper where (h ^ hashes[b]).nonzeroBitCount <= threshold { report(a, b) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The first chunk through which a pair is found.
    private func firstChunkFinding(_ a: UInt64, _ b: UInt64) -> Int {
        for (c, chunk) in chunks.enumerated() where (chunk.key(a) ^ chunk.key(b)).nonzeroBitCount <= radius { return c }
        return -1
    }
}
