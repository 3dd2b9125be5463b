/// Finds every pair of 64-bit hashes within a Hamming distance, without comparing all pairs: multi-index
/// hashing. The hash is cut into `m` chunks; two hashes within distance `t` agree within `t / m` bits on
/// at least one chunk (pigeonhole), so each hash only meets the hashes in the buckets near its own chunks.
/// `m` is chosen for the data size to balance bucket probes against bucket sizes.
public struct NearDuplicateIndex {
    public let threshold: Int
    private let hashes: [UInt64]
    private let chunks: [Chunk]
    /// Per chunk, the largest differing bits a pair may have there and still be found through it.
    private let radius: Int

    private struct Chunk {
        let shift: UInt64
        let bits: Int
        let offsets: [UInt32]     // bucket b holds entries offsets[b]..<offsets[b + 1]
        let entries: [UInt32]     // hash indexes, grouped by bucket
        let entryHashes: [UInt64] // the hashes in the same order, for a linear scan

        func key(_ hash: UInt64) -> Int { Int((hash >> shift) & ((1 << UInt64(bits)) - 1)) }
    }

    public init(hashes: [UInt64], threshold: Int) {
        precondition(threshold >= 0 && threshold < 64)
        self.hashes = hashes
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

    /// Estimated work per query: buckets probed plus hashes met in them; chunks of at most 24 bits (tables).
    static func chunkCount(items: Int, threshold: Int) -> Int {
        var best = (m: 1, cost: Double.infinity)
        for m in 3...16 {  // any m works (pigeonhole); from 3 on, chunks fit a 24-bit table
            let bits = 64 / m
            guard bits <= 24 else { continue }
            let r = threshold / m
            var probes = 0.0, term = 1.0
            for k in 0...r {  // sum of C(bits, k)
                if k > 0 { term = term * Double(bits - k + 1) / Double(k) }
                probes += term
            }
            let cost = Double(m) * probes * (1 + Double(items) / Double(1 << bits))
            if cost < best.cost { best = (m, cost) }
        }
        return best.m
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
        for i in 0..<hashes.count {
            let h = hashes[i]
            for (c, chunk) in chunks.enumerated() {
                let key = chunk.key(h)
                forEachKey(near: key, bits: chunk.bits, radius: radius) { probe in
                    let lower = Int(chunk.offsets[probe]), upper = Int(chunk.offsets[probe + 1])
                    for e in lower..<upper {
                        let other = chunk.entryHashes[e]
                        guard (h ^ other).nonzeroBitCount <= threshold else { continue }
                        let j = Int(chunk.entries[e])
                        guard j > i, firstChunkFinding(h, other) == c else { continue }  // each pair once
                        body(i, j)
                    }
                }
            }
        }
    }

    /// The first chunk through which a pair is found (where its chunks differ in at most `radius` bits).
    private func firstChunkFinding(_ a: UInt64, _ b: UInt64) -> Int {
        for (c, chunk) in chunks.enumerated() where (chunk.key(a) ^ chunk.key(b)).nonzeroBitCount <= radius { return c }
        return -1
    }

    /// Every key within `radius` flipped bits of `key`.
    private func forEachKey(near key: Int, bits: Int, radius: Int, _ body: (Int) -> Void) {
        func flip(_ value: Int, from bit: Int, left: Int) {
            body(value)
            guard left > 0 else { return }
            for b in bit..<bits { flip(value ^ (1 << b), from: b + 1, left: left - 1) }
        }
        flip(key, from: 0, left: radius)
    }
}
