import Foundation

/// Softmax cross-entropy over logits [N, K] against class indices, with label smoothing (the target puts
/// 1 - smoothing on the true class and spreads smoothing evenly over all K) and optional per-class weights
/// (Keras's `class_weight`: each item's loss is multiplied by its class's weight; the mean is over items).
public struct SoftmaxCrossEntropy {
    public var smoothing: Float = 0
    public var classWeights: [Float]? = nil

    public init(smoothing: Float = 0, classWeights: [Float]? = nil) {
        self.smoothing = smoothing
        self.classWeights = classWeights
    }

    /// The mean loss, its gradient with respect to the logits, and the probabilities.
    public func evaluate(logits: Tensor, labels: [Int]) -> (loss: Float, gradient: Tensor, probabilities: Tensor) {
        let (n, k) = (logits.shape[0], logits.shape[1])
        precondition(labels.count == n, "\(labels.count) labels for a batch of \(n)")
        let probabilities = softmax(logits)
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        for i in 0..<n {
            let weight = classWeights?[labels[i]] ?? 1
            for j in 0..<k {
                let target = (j == labels[i] ? 1 - smoothing : 0) + smoothing / Float(k)
                let p = probabilities.data[i * k + j]
                if target > 0 { total -= Double(weight * target) * log(Double(max(p, 1e-30))) }
                gradient.data[i * k + j] = weight * (p - target) / Float(n)
            }
        }
        return (Float(total / Double(n)), gradient, probabilities)
    }
}

/// Row-wise softmax of [N, K], stable for large logits.
public func softmax(_ logits: Tensor) -> Tensor {
    let k = logits.shape[1]
    var output = logits
    for row in 0..<logits.shape[0] {
        let values = logits.data[row * k..<(row + 1) * k]
        let highest = values.max() ?? 0
        let exponentials = values.map { Foundation.exp($0 - highest) }
        let sum = exponentials.reduce(0, +)
        for j in 0..<k { output.data[row * k + j] = exponentials[j] / sum }
    }
    return output
}
