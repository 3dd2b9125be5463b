import Engine
import Files
import Foundation

/// The pairs of unit-length rows whose cosine similarity reaches a threshold. Up to `exactLimit` rows every pair
/// is compared (blocks of matrix products on OpenBLAS); above, as SemDeDup does, spherical k-means cuts the rows
/// into about sqrt(n) partitions and each row is compared with the rows of its `probes` nearest partitions, which
/// finds nearly every close pair (a close pair's rows sit in the same or neighbouring partitions) at a cost of
/// about probes * n * sqrt(n) products instead of n^2.
public struct SemanticIndex {
    /// Pairs at or above this cosine (as they are, or one turned a quarter) are candidates that
    /// `PairVerification` checks with local features. Measured on planted crops, rotations, flips and re-framings
    /// of 1,988 real pictures (bench-assist.sh part 2): at 0.70 98.9% of the copies are candidates (re-framings
    /// 93.7%, at 0.80 only 66%), with 38,862 pairs of distinct pictures to check (20 per picture, 1.6 ms each).
    public static let defaultThreshold: Float = 0.70
    /// Cosine alone, for pairs too plain or small for the check and for `--semantic-inliers 0`: at 0.95 about as
    /// many distinct files merge as with curate's pHash rule (45 against 37), but 51% of the copies are found.
    public static let unverifiedThreshold: Float = 0.95
    public static let exactLimit = 20_000

    public struct Pair: Sendable, Equatable {
        public let a: Int, b: Int
        public let similarity: Float
    }

    /// The images' rows, then (with a second view) their quarter-turned rows: `count` rows in all.
    let rows: [Float]
    let count: Int
    let width: Int
    /// Rows per image: 2 when each image also has its quarter-turned view.
    let views: Int
    public var probes = 3
    public var seed: UInt64 = 1
    /// k-means on at most this many rows per partition (a sample), for `iterations` rounds.
    public var samplePerPartition = 40
    public var iterations = 8
    public var partitionCount: Int?

    public init(unitRows: [Float], count: Int, width: Int) {
        rows = unitRows
        self.count = count
        self.width = width
        views = 1
    }

    /// Images with a second view each, turned a quarter (`Augmentation.quarterTurned`): an image and its copy
    /// turned 90° either way meet where one's turned view meets the other as it is. The search is over both
    /// views (about 2.8 times the partitioned work, 4 times the exact); pairs name images.
    public init(unitRows: [Float], quarterTurnedRows: [Float], count: Int, width: Int) {
        precondition(unitRows.count == quarterTurnedRows.count, "one turned row per row")
        rows = unitRows + quarterTurnedRows
        self.count = 2 * count
        self.width = width
        views = 2
    }

    /// Rows scaled to unit length, as the index wants them.
    public static func unitRows(_ rows: [Float], width: Int) -> [Float] { FeatureMatrix.unitRows(rows, width: width) }

    public var isPartitioned: Bool { partitionCount.map { $0 > 1 } ?? (count > Self.exactLimit) }

    /// Every pair (a < b) at or above `threshold`, ordered by a then b.
    public func pairs(threshold: Float) -> [Pair] {
        guard count > 1 else { return [] }
        var found: [Pair]
        if isPartitioned {
            found = partitionedPairs(threshold)
        } else {
            found = rows.withUnsafeBufferPointer { exactPairs(threshold, $0) }
        }
        if views > 1 { found = Self.folded(found, images: count / views) }
        found.sort { ($0.a, $0.b) < ($1.a, $1.b) }
        return found
    }

    /// Pairs of rows as pairs of images: an image with its own turned view is no pair, and a pair met in
    /// several views keeps its highest similarity.
    static func folded(_ pairs: [Pair], images: Int) -> [Pair] {
        var best: [Int64: Float] = [:]
        for pair in pairs {
            let (a, b) = (pair.a % images, pair.b % images)
            guard a != b else { continue }
            let key = Int64(min(a, b)) * Int64(images) + Int64(max(a, b))
            best[key] = max(best[key] ?? -1, pair.similarity)
        }
        return best.map { Pair(a: Int($0.key / Int64(images)), b: Int($0.key % Int64(images)), similarity: $0.value) }
    }

    /// Every pair, block by block of the upper triangle.
    private func exactPairs(_ threshold: Float, _ x: UnsafeBufferPointer<Float>) -> [Pair] {
        let block = 1024
        var found: [Pair] = []
        var left = [Float](), right = [Float]()
        for q0 in stride(from: 0, to: count, by: block) {
            let q = Array(q0..<min(count, q0 + block))
            gather(q, into: &left, x)
            for c0 in stride(from: q0, to: count, by: block) {
                let c = Array(c0..<min(count, c0 + block))
                gather(c, into: &right, x)
                let products = product(left, right, q.count, c.count)
                for i in 0..<q.count {
                    for j in 0..<c.count where q[i] < c[j] && products[i * c.count + j] >= threshold {
                        found.append(Pair(a: q[i], b: c[j], similarity: min(1, products[i * c.count + j])))
                    }
                }
            }
        }
        return found
    }

    /// left (m rows) times right (n rows) transposed.
    private func product(_ left: [Float], _ right: [Float], _ m: Int, _ n: Int) -> [Float] {
        var products = [Float](repeating: 0, count: m * n)
        left.withUnsafeBufferPointer { l in
            right.withUnsafeBufferPointer { r in
                products.withUnsafeMutableBufferPointer { p in
                    BLAS.gemm(l.baseAddress!, r.baseAddress!, transposeB: true, into: p.baseAddress!, m: m, n: n, k: width)
                }
            }
        }
        return products
    }

    private func gather(_ indices: [Int], into buffer: inout [Float], _ x: UnsafeBufferPointer<Float>) {
        buffer.removeAll(keepingCapacity: true)
        for i in indices { buffer.append(contentsOf: x[(i * width)..<((i + 1) * width)]) }
    }

    private func partitionedPairs(_ threshold: Float) -> [Pair] {
        let k = partitionCount ?? max(2, Int(Double(count).squareRoot()))
        return rows.withUnsafeBufferPointer { x -> [Pair] in
            let centroids = kMeans(k, x)
            // Each row's nearest partitions: the first is its home.
            let nearest = nearestPartitions(centroids, k, min(probes, k), x)
            var members = [[Int]](repeating: [], count: k), queries = [[Int]](repeating: [], count: k)
            for i in 0..<count {
                members[nearest[i][0]].append(i)
                for p in nearest[i] { queries[p].append(i) }
            }
            // A pair is compared where either row's probes reach the other's home: keep the first sighting.
            var seen = Set<Int64>()
            var found: [Pair] = []
            for p in 0..<k where !members[p].isEmpty {
                for pair in pairsBothWays(queries: queries[p], members: members[p], threshold, x) {
                    if seen.insert(Int64(pair.a) * Int64(count) + Int64(pair.b)).inserted { found.append(pair) }
                }
            }
            return found
        }
    }

    /// Pairs between a partition's queries and its members, whichever of the two rows is smaller.
    private func pairsBothWays(queries: [Int], members: [Int], _ threshold: Float, _ x: UnsafeBufferPointer<Float>) -> [Pair] {
        let block = 1024
        var found: [Pair] = []
        var left = [Float](), right = [Float]()
        gather(members, into: &right, x)
        for q0 in stride(from: 0, to: queries.count, by: block) {
            let q = Array(queries[q0..<min(queries.count, q0 + block)])
            gather(q, into: &left, x)
            let products = product(left, right, q.count, members.count)
            for i in 0..<q.count {
                for j in 0..<members.count where q[i] != members[j] && products[i * members.count + j] >= threshold {
                    let (a, b) = (min(q[i], members[j]), max(q[i], members[j]))
                    found.append(Pair(a: a, b: b, similarity: min(1, products[i * members.count + j])))
                }
            }
        }
        return found
    }

    /// Spherical k-means (unit-length centroids, similarity by dot product) on a seeded sample of the rows,
    /// started from k distinct sampled rows; an emptied partition takes a sampled row again.
    private func kMeans(_ k: Int, _ x: UnsafeBufferPointer<Float>) -> [Float] {
        var random = SplitMix64(seed: seed)
        var order = Array(0..<count)
        order.stableShuffle(using: &random)
        let sample = Array(order.prefix(max(k, min(count, k * samplePerPartition))))
        var centroids = [Float]()
        gather(Array(sample.prefix(k)), into: &centroids, x)
        for round in 0..<iterations {
            let assignment = nearestPartitions(centroids, k, 1, x, rows: sample).map { $0[0] }
            var sums = [Float](repeating: 0, count: k * width), sizes = [Int](repeating: 0, count: k)
            for (s, p) in zip(sample, assignment) {
                sizes[p] += 1
                for j in 0..<width { sums[p * width + j] += x[s * width + j] }
            }
            for p in 0..<k where sizes[p] == 0 {
                let s = sample[(p * 7919 + round) % sample.count]
                for j in 0..<width { sums[p * width + j] = x[s * width + j] }
            }
            centroids = FeatureMatrix.unitRows(sums, width: width)
        }
        return centroids
    }

    /// For each row (all, or `rows`), the indices of its `probes` most similar centroids, most similar first.
    private func nearestPartitions(_ centroids: [Float], _ k: Int, _ probes: Int, _ x: UnsafeBufferPointer<Float>,
                                   rows subset: [Int]? = nil) -> [[Int]] {
        let indices = subset ?? Array(0..<count)
        var result = [[Int]](repeating: [], count: indices.count)
        var block = [Float]()
        for start in stride(from: 0, to: indices.count, by: 4096) {
            let part = Array(indices[start..<min(indices.count, start + 4096)])
            gather(part, into: &block, x)
            let products = product(block, centroids, part.count, k)
            for i in 0..<part.count {
                var best: [(Float, Int)] = []
                for p in 0..<k {
                    let s = products[i * k + p]
                    if best.count < probes || s > best[best.count - 1].0 {
                        best.append((s, p))
                        best.sort { $0.0 > $1.0 }
                        if best.count > probes { best.removeLast() }
                    }
                }
                result[start + i] = best.map(\.1)
            }
        }
        return result
    }
}
