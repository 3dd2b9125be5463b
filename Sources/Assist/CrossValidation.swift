import Engine
import Files
import Foundation

/// Out-of-sample predicted probabilities for confident learning: the images are dealt into `folds` stratified,
/// seeded folds, and each fold is scored by a linear softmax head trained on the others, so no image is
/// scored by a model that saw its label.
public struct CrossValidation: Sendable {
    public var folds = 5
    public var seed: UInt64 = 1
    /// Full-batch Adam steps per head, and its L2 penalty on the weights.
    public var steps = 300
    public var learningRate: Float = 0.01
    public var l2: Float = 0.1

    public init() {}

    /// `features`: one row of `width` values per image; `labels` in 0..<classes. Rows of probabilities, in order.
    public func probabilities(features: [Float], width: Int, labels: [Int], classes: Int) -> [[Double]] {
        let n = labels.count
        precondition(features.count == n * width, "one row of features per label")
        let fold = stratifiedFolds(labels, classes: classes)
        var result = [[Double]](repeating: [], count: n)
        for held in 0..<folds {
            let train = (0..<n).filter { fold[$0] != held }, test = (0..<n).filter { fold[$0] == held }
            guard !test.isEmpty else { continue }
            let head = LinearHead(features: features, width: width, rows: train, labels: train.map { labels[$0] },
                                  classes: classes, settings: self)
            for (row, probabilities) in zip(test, head.probabilities(features: features, rows: test)) { result[row] = probabilities }
        }
        return result
    }

    /// Each class's images shuffled (seeded) and dealt round-robin, so every fold has each class's share.
    func stratifiedFolds(_ labels: [Int], classes: Int) -> [Int] {
        var random = SplitMix64(seed: seed)
        var fold = [Int](repeating: 0, count: labels.count)
        for k in 0..<classes {
            var members = labels.indices.filter { labels[$0] == k }
            members.stableShuffle(using: &random)
            for (position, row) in members.enumerated() { fold[row] = position % folds }
        }
        return fold
    }
}

/// Multinomial logistic regression on standardised features, trained full-batch with Adam on OpenBLAS.
struct LinearHead {
    let width: Int, classes: Int
    let mean: [Float], scale: [Float]
    var weights: [Float]  // width x classes
    var bias: [Float]

    init(features: [Float], width: Int, rows: [Int], labels: [Int], classes: Int, settings: CrossValidation) {
        self.width = width
        self.classes = classes
        // Standardised with the training rows' statistics only.
        var mean = [Float](repeating: 0, count: width), square = [Float](repeating: 0, count: width)
        for row in rows {
            for j in 0..<width {
                let v = features[row * width + j]
                mean[j] += v
                square[j] += v * v
            }
        }
        let count = Float(max(1, rows.count))
        for j in 0..<width {
            mean[j] /= count
            square[j] = 1 / max(1e-6, (square[j] / count - mean[j] * mean[j]).squareRoot())
        }
        (self.mean, scale) = (mean, square)
        weights = [Float](repeating: 0, count: width * classes)
        bias = [Float](repeating: 0, count: classes)
        let x = standardised(features, rows)
        var momentum = [Float](repeating: 0, count: (width + 1) * classes), velocity = momentum
        var gradient = [Float](repeating: 0, count: width * classes)
        let (beta1, beta2): (Float, Float) = (0.9, 0.999)
        for step in 1...max(1, settings.steps) {
            var p = logits(x, rows.count)
            softmax(&p)
            for (i, label) in labels.enumerated() { p[i * classes + label] -= 1 }  // dLoss/dlogits, times n
            x.withUnsafeBufferPointer { xs in
                p.withUnsafeBufferPointer { ps in
                    gradient.withUnsafeMutableBufferPointer { g in
                        BLAS.gemm(xs.baseAddress!, transposeA: true, ps.baseAddress!, into: g.baseAddress!,
                                  m: width, n: classes, k: rows.count, alpha: 1 / count)
                    }
                }
            }
            var biasGradient = [Float](repeating: 0, count: classes)
            for i in 0..<rows.count { for c in 0..<classes { biasGradient[c] += p[i * classes + c] / count } }
            let correction1 = 1 - Foundation.pow(beta1, Float(step)), correction2 = 1 - Foundation.pow(beta2, Float(step))
            func update(_ value: inout Float, _ g: Float, _ slot: Int) {
                momentum[slot] = beta1 * momentum[slot] + (1 - beta1) * g
                velocity[slot] = beta2 * velocity[slot] + (1 - beta2) * g * g
                value -= settings.learningRate * (momentum[slot] / correction1) / ((velocity[slot] / correction2).squareRoot() + 1e-8)
            }
            for j in 0..<weights.count { update(&weights[j], gradient[j] + settings.l2 * weights[j], j) }
            for c in 0..<classes { update(&bias[c], biasGradient[c], weights.count + c) }
        }
    }

    func probabilities(features: [Float], rows: [Int]) -> [[Double]] {
        var p = logits(standardised(features, rows), rows.count)
        softmax(&p)
        return (0..<rows.count).map { i in (0..<classes).map { Double(p[i * classes + $0]) } }
    }

    private func standardised(_ features: [Float], _ rows: [Int]) -> [Float] {
        var x = [Float](repeating: 0, count: rows.count * width)
        for (i, row) in rows.enumerated() {
            for j in 0..<width { x[i * width + j] = (features[row * width + j] - mean[j]) * scale[j] }
        }
        return x
    }

    private func logits(_ x: [Float], _ n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * classes)
        for i in 0..<n { for c in 0..<classes { out[i * classes + c] = bias[c] } }
        x.withUnsafeBufferPointer { xs in
            weights.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    BLAS.gemm(xs.baseAddress!, w.baseAddress!, into: o.baseAddress!, m: n, n: classes, k: width, beta: 1)
                }
            }
        }
        return out
    }

    private func softmax(_ p: inout [Float]) {
        for i in 0..<(p.count / classes) {
            let row = i * classes
            var largest = -Float.infinity
            for c in 0..<classes { largest = max(largest, p[row + c]) }
            var sum: Float = 0
            for c in 0..<classes {
                p[row + c] = Foundation.exp(p[row + c] - largest)
                sum += p[row + c]
            }
            for c in 0..<classes { p[row + c] /= sum }
        }
    }
}
