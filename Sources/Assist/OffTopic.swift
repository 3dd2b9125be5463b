import Foundation

/// Images far from every class: banners, logos, text and "image removed" pictures that differ byte-wise from
/// host to host. For each class, the similarity of its own images to its centroid (cosine of unit features)
/// has a median and a spread (the median absolute deviation, scaled to a standard deviation); an image's score
/// is how many such deviations it falls below the median of the class it is closest to in those terms. The
/// images at or above `minimumScore` whose best held-out probability is at most `maximumProbability` are
/// off-topic, ranked by score.
public struct OffTopic {
    public struct Rule: Sendable, Codable, Equatable {
        /// Chosen on Tux Paint's stamps with 36 planted photographs (bench-assist.sh part 4): the 13 highest scores
        /// (2.17 and up) are all planted ones, 20 of the top 26; on landscape and astronomy photographs with 18 flags
        /// and 18 stamps planted, every kept one scores above it, 17 of the top 20.
        public var minimumScore = 2.0
        public var maximumProbability = 1.0
        public init() {}
    }

    public struct Found: Sendable {
        public let index: Int
        public let score: Double
        /// The cosine similarity to the nearest class centroid.
        public let centroidSimilarity: Double
        public let bestProbability: Double
    }

    let scores: [Double]
    let similarities: [Double]
    let bestProbabilities: [Double]

    init(features: FeatureMatrix, probabilities: [[Double]]) {
        let (n, k, d) = (features.count, features.classes, features.width)
        let centroids = features.centroids()
        var similarity = [[Double]](repeating: [Double](repeating: 0, count: k), count: n)
        for i in 0..<n {
            for c in 0..<k {
                var dot: Float = 0
                for j in 0..<d { dot += features.unit[i * d + j] * centroids[c * d + j] }
                similarity[i][c] = Double(dot)
            }
        }
        var median = [Double](repeating: 0, count: k), spread = [Double](repeating: 1, count: k)
        for c in 0..<k {
            let own = (0..<n).filter { features.labels[$0] == c }.map { similarity[$0][c] }
            guard !own.isEmpty else { continue }
            median[c] = Self.median(own)
            // A floor, so a class of near-identical pictures does not call everything else off-topic.
            spread[c] = max(1.4826 * Self.median(own.map { abs($0 - median[c]) }), 0.01)
        }
        scores = similarity.map { row in (0..<k).map { (median[$0] - row[$0]) / spread[$0] }.min() ?? 0 }
        similarities = similarity.map { $0.max() ?? 0 }
        bestProbabilities = probabilities.map { $0.max() ?? 1 }
    }

    /// The off-topic images, highest score first (ties by index).
    func ranked(by rule: Rule) -> [Found] {
        scores.indices
            .filter { scores[$0] >= rule.minimumScore && bestProbabilities[$0] <= rule.maximumProbability }
            .sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
            .map { Found(index: $0, score: scores[$0], centroidSimilarity: similarities[$0], bestProbability: bestProbabilities[$0]) }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
