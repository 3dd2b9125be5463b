import Engine
import Foundation

/// What `imgcls evaluate` measures. `accuracy` sits at the top level of the JSON document.
public struct EvaluationMetrics: Codable, Sendable {
    public struct ClassScores: Codable, Sendable {
        public var label: String
        public var precision: Float
        public var recall: Float
        public var f1: Float
        public var support: Int
    }

    /// One row of the "below confidence X, answer the fallback label" policy.
    public struct ThresholdRow: Codable, Sendable {
        public var threshold: Float
        /// Share of images whose top probability reaches the threshold (answered with the predicted label).
        public var answered: Float
        /// Accuracy among those.
        public var answeredAccuracy: Float
        /// Accuracy over all images when the others get the fallback label (when one is given).
        public var accuracyWithFallback: Float?
    }

    public struct Miss: Codable, Sendable {
        public var path: String
        public var label: String
        public var predicted: String
        public var confidence: Float
        public var probabilities: [String: Float]
    }

    public var model: String
    public var images: Int
    public var accuracy: Float
    public var topKAccuracy: [String: Float]
    public var loss: Float
    public var macroPrecision: Float
    public var macroRecall: Float
    public var macroF1: Float
    public var labels: [String]
    public var perClass: [ClassScores]
    /// Rows: true label; columns: predicted label (both in `labels` order).
    public var confusionMatrix: [[Int]]
    public var fallbackLabel: String?
    public var thresholds: [ThresholdRow]
    public var misclassified: [Miss]
    public var skippedFiles: [String: String]

    public init(_ p: Predictions, labels: [String], model: String, fallback: String?, skipped: [String: String]) {
        let k = labels.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for i in 0..<p.count { confusion[p.labels[i]][p.predicted(i)] += 1 }
        perClass = (0..<k).map { c in
            let truePositives = Float(confusion[c][c])
            let predicted = Float((0..<k).reduce(0) { $0 + confusion[$1][c] })
            let actual = confusion[c].reduce(0, +)
            let precision = predicted > 0 ? truePositives / predicted : 0
            let recall = actual > 0 ? truePositives / Float(actual) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return ClassScores(label: labels[c], precision: precision, recall: recall, f1: f1, support: actual)
        }
        // Macro averages over the classes present in the data.
        let present = perClass.filter { $0.support > 0 }
        let mean = { (values: [Float]) in values.isEmpty ? 0 : values.reduce(0, +) / Float(values.count) }
        (macroPrecision, macroRecall, macroF1) = (mean(present.map(\.precision)), mean(present.map(\.recall)), mean(present.map(\.f1)))
        self.model = model
        self.labels = labels
        images = p.count
        accuracy = p.accuracy
        topKAccuracy = Dictionary(uniqueKeysWithValues: Set([1, min(3, k), min(5, k)]).map { ("top\($0)", p.topKAccuracy($0)) })
        loss = p.loss
        confusionMatrix = confusion
        fallbackLabel = fallback
        let fallbackIndex = fallback.flatMap { labels.firstIndex(of: $0) }
        thresholds = stride(from: Float(0.5), through: 0.951, by: 0.05).map { threshold in
            let answered = (0..<p.count).filter { p.row($0).max()! >= threshold }
            let right = answered.filter { p.predicted($0) == p.labels[$0] }.count
            var row = ThresholdRow(threshold: (threshold * 100).rounded() / 100,
                                   answered: p.count == 0 ? 0 : Float(answered.count) / Float(p.count),
                                   answeredAccuracy: answered.isEmpty ? 0 : Float(right) / Float(answered.count))
            if let fallbackIndex {
                let answeredSet = Set(answered)
                let fallbackRight = (0..<p.count).filter { !answeredSet.contains($0) && p.labels[$0] == fallbackIndex }.count
                row.accuracyWithFallback = p.count == 0 ? 0 : Float(right + fallbackRight) / Float(p.count)
            }
            return row
        }
        misclassified = (0..<p.count).filter { p.predicted($0) != p.labels[$0] }.map { i in
            let probabilities = Dictionary(uniqueKeysWithValues: zip(labels, p.row(i)))
            return Miss(path: p.paths[i], label: labels[p.labels[i]], predicted: labels[p.predicted(i)],
                        confidence: p.row(i).max()!, probabilities: probabilities)
        }.sorted { $0.confidence > $1.confidence }
        skippedFiles = skipped
    }
}
