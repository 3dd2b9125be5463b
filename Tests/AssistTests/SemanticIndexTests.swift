@testable import Assist
import Files
import Testing

/// The pair search against the simplest reference, every pair compared one by one: the exact search returns
/// the same pairs, the partitioned one (k-means, then exact search in the nearest partitions) a subset with
/// nearly every planted pair.
@Suite struct SemanticIndexTests {
    /// Unit rows around a few centres, with `planted` near copies of random rows appended.
    static func rows(count: Int, width: Int, planted: Int, seed: UInt64) -> (rows: [Float], pairs: Set<[Int]>) {
        var random = SplitMix64(seed: seed)
        let centres = (0..<20).map { _ in (0..<width).map { _ in Float(random.nextGaussian()) } }
        var rows: [Float] = []
        for _ in 0..<count {
            let centre = centres[random.next(below: centres.count)]
            rows += centre.map { $0 + Float(random.nextGaussian()) * 1.5 }
        }
        var pairs = Set<[Int]>()
        for p in 0..<planted {
            let original = random.next(below: count)
            rows += (0..<width).map { rows[original * width + $0] + Float(random.nextGaussian()) * 0.15 }
            pairs.insert([original, count + p])
        }
        return (FeatureMatrix.unitRows(rows, width: width), pairs)
    }

    static func reference(_ rows: [Float], width: Int, threshold: Float) -> [SemanticIndex.Pair] {
        let n = rows.count / width
        var pairs: [SemanticIndex.Pair] = []
        for a in 0..<n {
            for b in (a + 1)..<n {
                var dot: Float = 0
                for j in 0..<width { dot += rows[a * width + j] * rows[b * width + j] }
                if dot >= threshold { pairs.append(.init(a: a, b: b, similarity: min(1, dot))) }
            }
        }
        return pairs
    }

    @Test func exactSearchEqualsThePairByPairReference() {
        let (rows, planted) = Self.rows(count: 1500, width: 48, planted: 60, seed: 5)
        let n = rows.count / 48
        let expected = Self.reference(rows, width: 48, threshold: 0.95)
        let found = SemanticIndex(unitRows: rows, count: n, width: 48).pairs(threshold: 0.95)
        #expect(found.map { [$0.a, $0.b] } == expected.map { [$0.a, $0.b] })
        for (f, e) in zip(found, expected) { #expect(abs(f.similarity - e.similarity) < 1e-4) }
        #expect(planted.isSubset(of: Set(found.map { [$0.a, $0.b] })), "every planted copy is within 0.95")
    }

    @Test func partitionedSearchFindsNearlyEveryPairAndNothingElse() {
        let (rows, planted) = Self.rows(count: 4000, width: 48, planted: 200, seed: 9)
        let n = rows.count / 48
        var index = SemanticIndex(unitRows: rows, count: n, width: 48)
        index.partitionCount = 64
        #expect(index.isPartitioned)
        let found = Set(index.pairs(threshold: 0.95).map { [$0.a, $0.b] })
        let expected = Set(Self.reference(rows, width: 48, threshold: 0.95).map { [$0.a, $0.b] })
        #expect(found.isSubset(of: expected))
        let recall = Double(found.intersection(planted).count) / Double(planted.count)
        #expect(recall >= 0.97, "recall of planted pairs \(recall)")
    }

    /// With a second view per image: pairs are images, met as they are or with one's turned view, at the higher
    /// similarity; an image and its own turned view are no pair. Checked against the reference over all rows,
    /// folded by hand.
    @Test func quarterTurnedViewsPairImagesNotRows() {
        let width = 48
        let (plain, planted) = Self.rows(count: 300, width: width, planted: 20, seed: 3)
        let n = plain.count / width
        // A turned view: some unrelated direction, except that copy p's is its original (a copy turned 90°), and
        // image 0's is itself (a symmetric picture).
        var (turned, _) = Self.rows(count: n, width: width, planted: 0, seed: 4)
        for pair in planted { turned.replaceSubrange(pair[1] * width..<(pair[1] + 1) * width, with: plain[pair[0] * width..<(pair[0] + 1) * width]) }
        turned.replaceSubrange(0..<width, with: plain[0..<width])
        var expected: [[Int]: Float] = [:]
        for pair in Self.reference(plain + turned, width: width, threshold: 0.95) where pair.a % n != pair.b % n {
            let key = [min(pair.a % n, pair.b % n), max(pair.a % n, pair.b % n)]
            expected[key] = max(expected[key] ?? -1, pair.similarity)
        }
        let found = SemanticIndex(unitRows: plain, quarterTurnedRows: turned, count: n, width: width).pairs(threshold: 0.95)
        #expect(Set(found.map { [$0.a, $0.b] }) == Set(expected.keys))
        for pair in found { #expect(abs(pair.similarity - expected[[pair.a, pair.b]]!) < 1e-4) }
        #expect(planted.isSubset(of: Set(found.map { [$0.a, $0.b] })))
        #expect(!found.contains { $0.a == $0.b })
    }
}

/// Off-topic images: rows far from every class centre rank first.
@Suite struct OffTopicTests {
    @Test func plantedForeignRowsRankFirst() {
        var random = SplitMix64(seed: 11)
        let (classes, perClass, width) = (3, 80, 32)
        let centres = (0..<classes).map { _ in (0..<width).map { _ in Float(random.nextGaussian()) * 2 } }
        var rows: [[Float]] = [], labels: [Int] = []
        for k in 0..<classes {
            for _ in 0..<perClass {
                rows.append(centres[k].map { $0 + Float(random.nextGaussian()) })
                labels.append(k)
            }
        }
        // Five foreign rows, each given some class's label: in no class's direction.
        for f in 0..<5 {
            rows.append((0..<width).map { _ in Float(random.nextGaussian()) * 2 })
            labels.append(f % classes)
        }
        let features = FeatureMatrix(rows: rows, labels: labels, classes: classes)
        let probabilities = labels.map { label in (0..<classes).map { $0 == label ? 0.9 : 0.05 } }
        let found = OffTopic(features: features, probabilities: probabilities).ranked(by: OffTopic.Rule())
        #expect(Set(found.prefix(5).map(\.index)) == Set(classes * perClass..<(classes * perClass + 5)), "\(found.map(\.index))")
        #expect(found.count <= 10)
        // A probability limit leaves out what the held-out model was sure of.
        var strict = OffTopic.Rule()
        strict.maximumProbability = 0.5
        #expect(OffTopic(features: features, probabilities: probabilities).ranked(by: strict).isEmpty)
    }
}
