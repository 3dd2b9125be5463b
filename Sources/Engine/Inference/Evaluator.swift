import Files
import Foundation

/// The model's answers on a set of samples: probabilities per class, with the true labels and paths.
public struct Predictions: Sendable {
    public let classes: Int
    public var probabilities: [Float] = []   // [count, classes]
    public var labels: [Int] = []
    public var paths: [String] = []

    public var count: Int { labels.count }

    public func row(_ i: Int) -> ArraySlice<Float> { probabilities[i * classes..<(i + 1) * classes] }

    public func predicted(_ i: Int) -> Int { mostProbable(row(i)) }

    public var accuracy: Float {
        count == 0 ? 0 : Float((0..<count).filter { predicted($0) == labels[$0] }.count) / Float(count)
    }

    /// The share of samples whose label is among the `k` most probable classes.
    public func topKAccuracy(_ k: Int) -> Float {
        guard count > 0 else { return 0 }
        let hits = (0..<count).filter { i in
            let truth = row(i)[i * classes + labels[i]]
            return row(i).filter { $0 > truth }.count < k
        }.count
        return Float(hits) / Float(count)
    }

    /// Mean cross-entropy (without label smoothing).
    public var loss: Float {
        guard count > 0 else { return 0 }
        let total = (0..<count).reduce(0.0) { $0 - log(Double(max(row($1)[$1 * classes + labels[$1]], 1e-30))) }
        return Float(total / Double(count))
    }
}

public enum Evaluator {
    /// Runs the model's inference network (`Model.inferenceNetwork`) over `samples`, loading batches on a thread of their own.
    public static func predict(_ model: Model, _ samples: [ImageFolder.Sample], loader: BatchLoader, batchSize: Int,
                               progress: ((Int) -> Void)? = nil) -> Predictions {
        var result = Predictions(classes: model.labels.count)
        let batches = stride(from: 0, to: samples.count, by: batchSize).map { $0..<min($0 + batchSize, samples.count) }
        // Built once per pass from the current weights (training evaluates after each epoch).
        let network = model.inferenceNetwork()
        parallelMap(batches, threads: 1, window: 2, { range in
            loader.batch(samples[range], seed: 0)
        }) { batch in
            if !batch.labels.isEmpty {
                result.probabilities += softmax(network.forward(batch.input, training: false)).data
                result.labels += batch.labels
                result.paths += batch.paths
            }
            progress?(batch.labels.count)
        }
        return result
    }

    /// How many rows of `probabilities` have their highest value at the label.
    package static func correctCount(_ probabilities: Tensor, _ labels: [Int]) -> Int {
        let k = probabilities.shape[1]
        return labels.enumerated().filter { i, label in mostProbable(probabilities.data[i * k..<(i + 1) * k]) == label }.count
    }
}

/// The class index (from 0) of the highest value in one row of probabilities or logits.
func mostProbable(_ row: ArraySlice<Float>) -> Int {
    row.indices.max { row[$0] < row[$1] }! - row.startIndex
}
