import Files
import Foundation
import Imaging

/// Whether two pictures are one picture cropped, scaled, turned, mirrored or re-framed: their corners'
/// descriptors are matched (nearest by Hamming distance, clearly nearer than the second nearest), and the
/// matches must agree on one similarity transform (scale, rotation, shift; mirrored for the mirrored
/// descriptors), found by RANSAC, and nearly all of them must. Two different photographs of one kind of scene
/// match corners by chance, but not dozens in one layout and most of their matches in none.
public struct PairVerification: Sendable {
    /// Matches that agree on the transform, at or above which the pair is one picture.
    public var minimumInliers = 12
    /// A match agrees when the transform puts its corner within this many pixels (at `LocalFeatures.side`).
    public var tolerance: Float = 4
    /// And turns its orientation to within this many radians of the other corner's.
    public var angleTolerance: Float = 0.5
    /// Descriptor distances (of 256 bits) above this are no match.
    public var maximumDistance = 72
    /// The nearest must be at most this share of the second nearest.
    public var ratio: Float = 0.85
    public var iterations = 400
    /// And at least this share of the matches must agree: a copy's matches nearly all do (a re-framed copy's
    /// 300 of 310), while frames of one fixed camera (OpenCV's calibration shots: the board moves, the room
    /// stays), star fields and drawings in one style match a hundred corners of which a few agree by chance
    /// (at most 0.39 of them in bench-assist.sh part 2).
    public var minimumShare: Float = 0.5

    public init() {}

    public struct Result: Sendable {
        /// Matches that agree on the best transform.
        public var inliers: Int
        /// Matches that passed the descriptor tests.
        public var matches: Int
        /// The transform's scale (b's size over a's) and rotation in degrees; whether it mirrors.
        public var scale: Float, degrees: Float
        public var mirrored: Bool

        /// The share of the matches that agree.
        public var share: Float { Float(inliers) / Float(max(1, matches)) }
    }

    /// The better of the plain and the mirrored transform from `a` to `b`.
    public func verify(_ a: LocalFeatures, _ b: LocalFeatures) -> Result {
        let plain = bestTransform(a, b, mirrored: false)
        let flipped = bestTransform(a, b, mirrored: true)
        return flipped.inliers > plain.inliers ? flipped : plain
    }

    public func accepts(_ result: Result) -> Bool {
        result.inliers >= minimumInliers && result.share >= minimumShare
    }

    /// A correspondence: a's corner (mirrored in x when the mirrored descriptors matched) and b's.
    private struct Match {
        let ax: Float, ay: Float, aAngle: Float
        let bx: Float, by: Float, bAngle: Float
    }

    private func bestTransform(_ a: LocalFeatures, _ b: LocalFeatures, mirrored: Bool) -> Result {
        let matches = self.matches(a, b, mirrored: mirrored)
        var best = Result(inliers: 0, matches: matches.count, scale: 1, degrees: 0, mirrored: mirrored)
        guard matches.count >= 2 else { return best }
        // Few matches: every pair is tried, else a seeded sample of pairs.
        var random = SplitMix64(seed: UInt64(matches.count))
        let samples: [(Int, Int)] = matches.count * (matches.count - 1) / 2 <= iterations
            ? (0..<matches.count).flatMap { i in ((i + 1)..<matches.count).map { (i, $0) } }
            : (0..<iterations).map { _ in
                let i = random.next(below: matches.count), j = random.next(below: matches.count - 1)
                return (i, j >= i ? j + 1 : j)
            }
        for (i, j) in samples {
            // b = m * a + t in complex numbers: m is scale and rotation.
            let (p, q) = (matches[i], matches[j])
            let (dax, day) = (q.ax - p.ax, q.ay - p.ay), (dbx, dby) = (q.bx - p.bx, q.by - p.by)
            let norm = dax * dax + day * day
            guard norm > 16 else { continue }
            let mr = (dbx * dax + dby * day) / norm, mi = (dby * dax - dbx * day) / norm
            let scale = (mr * mr + mi * mi).squareRoot()
            guard scale > 0.4 && scale < 2.5 else { continue }
            let rotation = atan2(mi, mr)
            let (tx, ty) = (p.bx - (mr * p.ax - mi * p.ay), p.by - (mi * p.ax + mr * p.ay))
            var inliers = 0
            for m in matches {
                let (ex, ey) = (mr * m.ax - mi * m.ay + tx - m.bx, mi * m.ax + mr * m.ay + ty - m.by)
                guard ex * ex + ey * ey <= tolerance * tolerance, Self.angleGap(m.aAngle + rotation, m.bAngle) <= angleTolerance else { continue }
                inliers += 1
            }
            if inliers > best.inliers {
                best = Result(inliers: inliers, matches: matches.count, scale: scale, degrees: rotation * 180 / .pi, mirrored: mirrored)
            }
        }
        return best
    }

    /// Each of a's corners with its nearest of b's, when near enough and clearly nearer than the second.
    private func matches(_ a: LocalFeatures, _ b: LocalFeatures, mirrored: Bool) -> [Match] {
        let left = mirrored ? a.mirrored : a.descriptors, right = b.descriptors
        var found: [Match] = []
        left.withUnsafeBufferPointer { l in
            right.withUnsafeBufferPointer { r in
                for i in 0..<a.keypoints.count {
                    var first = Int.max, second = Int.max, nearest = -1
                    let (l0, l1, l2, l3) = (l[4 * i], l[4 * i + 1], l[4 * i + 2], l[4 * i + 3])
                    for j in 0..<b.keypoints.count {
                        let d = (l0 ^ r[4 * j]).nonzeroBitCount + (l1 ^ r[4 * j + 1]).nonzeroBitCount
                            + (l2 ^ r[4 * j + 2]).nonzeroBitCount + (l3 ^ r[4 * j + 3]).nonzeroBitCount
                        if d < first { (second, first, nearest) = (first, d, j) } else if d < second { second = d }
                    }
                    guard nearest >= 0, first <= maximumDistance, Float(first) <= ratio * Float(second) else { continue }
                    let (p, q) = (a.keypoints[i], b.keypoints[nearest])
                    // Mirrored: a's x runs the other way and its angle is pi - angle, so the transform stays a rotation.
                    found.append(mirrored
                        ? Match(ax: Float(a.width) - p.x, ay: p.y, aAngle: .pi - p.angle, bx: q.x, by: q.y, bAngle: q.angle)
                        : Match(ax: p.x, ay: p.y, aAngle: p.angle, bx: q.x, by: q.y, bAngle: q.angle))
                }
            }
        }
        return found
    }

    /// The distance between two angles on the circle, 0...pi.
    static func angleGap(_ a: Float, _ b: Float) -> Float {
        abs(remainder(a - b, 2 * .pi))
    }
}

extension PairVerification {
    /// Below this many corners a picture (flat graphics, a logo) cannot be checked, nor below
    /// `smallestCheckedSide` pixels, where the corners are those of the scaling (28-pixel silhouettes of one
    /// animal, scaled up, agree on their outlines): its pairs stand on their cosine alone, at
    /// `SemanticIndex.unverifiedThreshold`.
    var fewestCorners: Int { 2 * minimumInliers }
    static let smallestCheckedSide = 64

    func isCheckable(_ features: LocalFeatures) -> Bool {
        features.keypoints.count >= fewestCorners && features.originalShorterSide >= Self.smallestCheckedSide
    }

    /// The candidate pairs (rows of `files`) that are one picture: checked with local features (computed on
    /// `threads` threads of their own), or too small or plain to check and at least `unverifiedThreshold`.
    /// Each kept pair with its inliers (0 when it stands on its cosine). The pairs go in windows whose pictures
    /// fit `budget`; the features of at most `budget` pictures are held (up to 40 KB each), the least recently
    /// needed dropped first and computed again if a later window needs them.
    public func confirmed(_ candidates: [SemanticIndex.Pair], files: [String], threads: Int,
                          budget: Int = 20_000) -> [(pair: SemanticIndex.Pair, inliers: Int)] {
        var held: [Int: LocalFeatures?] = [:], lastNeeded: [Int: Int] = [:]
        var kept: [(pair: SemanticIndex.Pair, inliers: Int)] = []
        var start = 0, window = 0
        while start < candidates.count {
            var needed = Set<Int>(), end = start
            while end < candidates.count, end == start || needed.count + 2 <= max(2, budget / 2) {
                needed.formUnion([candidates[end].a, candidates[end].b])
                end += 1
            }
            let missing = needed.filter { held[$0] == nil }.sorted()
            var next = 0
            parallelMap(missing, threads: threads, { row in
                (try? ImageDecoder.decode(file: files[row])).map { LocalFeatures(image: $0) }
            }) { features in
                held[missing[next]] = .some(features)
                next += 1
            }
            for row in needed { lastNeeded[row] = window }
            if held.count > budget {
                for row in held.keys.filter({ !needed.contains($0) }).sorted(by: { lastNeeded[$0]! < lastNeeded[$1]! }).prefix(held.count - budget) {
                    held[row] = nil
                }
            }
            let features = held
            let chunks = stride(from: start, to: end, by: 64).map { Array(candidates[$0..<min(end, $0 + 64)]) }
            parallelMap(chunks, threads: threads, { chunk in
                chunk.compactMap { pair -> (pair: SemanticIndex.Pair, inliers: Int)? in
                    guard let a = features[pair.a] ?? nil, let b = features[pair.b] ?? nil, isCheckable(a), isCheckable(b) else {
                        return pair.similarity >= SemanticIndex.unverifiedThreshold ? (pair, 0) : nil
                    }
                    let result = verify(a, b)
                    return accepts(result) ? (pair, result.inliers) : nil
                }
            }) { kept.append(contentsOf: $0) }
            (start, window) = (end, window + 1)
        }
        return kept
    }
}
