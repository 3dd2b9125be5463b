/// Batch normalisation over the last axis (channels of NHWC, features of [N, F]). Training normalises with the
/// batch's statistics and updates the running ones; evaluation, and training while frozen (Keras's rule for
/// fine-tuning), uses the running ones.
public final class BatchNorm: Layer {
    public let scale, shift: Parameter            // gamma, beta
    public let runningMean, runningVariance: Parameter
    public let momentum: Float
    public let epsilon: Float
    private var normalized: [Float] = []           // x-hat, kept for backward
    private var inverseDeviation: [Float] = []     // per channel
    private var usedBatchStatistics = false

    public init(_ name: String, channels: Int, momentum: Float = 0.9, epsilon: Float = 1e-5) {
        scale = Parameter("\(name).weight", shape: [channels], value: [Float](repeating: 1, count: channels))
        shift = Parameter("\(name).bias", shape: [channels], value: [Float](repeating: 0, count: channels))
        runningMean = Parameter("\(name).running_mean", shape: [channels], value: [Float](repeating: 0, count: channels), trainable: false)
        runningVariance = Parameter("\(name).running_var", shape: [channels], value: [Float](repeating: 1, count: channels), trainable: false)
        (self.momentum, self.epsilon) = (momentum, epsilon)
    }

    public var parameters: [Parameter] { [scale, shift, runningMean, runningVariance] }
    var channels: Int { scale.count }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let c = channels
        precondition(input.shape.last == c, "\(scale.name): expected \(c) channels, got shape \(input.shape)")
        let rows = input.count / c
        usedBatchStatistics = training && scale.trainable
        var mean = runningMean.value, variance = runningVariance.value
        if usedBatchStatistics {
            // Sums in Double: a batch of 64 images at 32x32 adds 65,536 values per channel.
            var sum = [Double](repeating: 0, count: c), squares = [Double](repeating: 0, count: c)
            input.data.withUnsafeBufferPointer { x in
                sum.withUnsafeMutableBufferPointer { sum in
                    squares.withUnsafeMutableBufferPointer { squares in
                        for r in 0..<rows {
                            for ch in 0..<c {
                                let v = Double(x[r * c + ch])
                                sum[ch] += v
                                squares[ch] += v * v
                            }
                        }
                    }
                }
            }
            for ch in 0..<c {
                let m = sum[ch] / Double(rows)
                let v = max(0, squares[ch] / Double(rows) - m * m)
                mean[ch] = Float(m)
                variance[ch] = Float(v)
                let unbiased = Float(v * Double(rows) / Double(max(1, rows - 1)))
                runningMean.value[ch] = momentum * runningMean.value[ch] + (1 - momentum) * Float(m)
                runningVariance.value[ch] = momentum * runningVariance.value[ch] + (1 - momentum) * unbiased
            }
        }
        let inverse = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let (gamma, beta) = (scale.value, shift.value)
        var output = Tensor(uninitialized: input.shape)
        var normalized = [Float](repeating: 0, count: training ? input.count : 0)
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                normalized.withUnsafeMutableBufferPointer { xhat in
                    for r in 0..<rows {
                        for ch in 0..<c {
                            let n = (x[r * c + ch] - mean[ch]) * inverse[ch]
                            if training { xhat[r * c + ch] = n }
                            y[r * c + ch] = n * gamma[ch] + beta[ch]
                        }
                    }
                }
            }
        }
        if training {
            self.normalized = normalized
            inverseDeviation = inverse
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let c = channels
        let rows = outputGradient.count / c
        precondition(normalized.count == outputGradient.count, "\(scale.name): backward without a training forward")
        var sumGradient = [Float](repeating: 0, count: c), sumGradientNormalized = [Float](repeating: 0, count: c)
        outputGradient.data.withUnsafeBufferPointer { dy in
            normalized.withUnsafeBufferPointer { xhat in
                sumGradient.withUnsafeMutableBufferPointer { sumGradient in
                    sumGradientNormalized.withUnsafeMutableBufferPointer { sumGradientNormalized in
                        for r in 0..<rows {
                            for ch in 0..<c {
                                sumGradient[ch] += dy[r * c + ch]
                                sumGradientNormalized[ch] += dy[r * c + ch] * xhat[r * c + ch]
                            }
                        }
                    }
                }
            }
        }
        for ch in 0..<c {
            scale.gradient[ch] += sumGradientNormalized[ch]
            shift.gradient[ch] += sumGradient[ch]
        }
        var inputGradient = Tensor(uninitialized: outputGradient.shape)
        let count = Float(rows)
        let factors = (0..<c).map { scale.value[$0] * inverseDeviation[$0] }
        // With batch statistics, the mean and variance depend on every input of the batch.
        let meanGradient = usedBatchStatistics ? sumGradient.map { $0 / count } : [Float](repeating: 0, count: c)
        let meanGradientNormalized = usedBatchStatistics ? sumGradientNormalized.map { $0 / count } : [Float](repeating: 0, count: c)
        outputGradient.data.withUnsafeBufferPointer { dy in
            normalized.withUnsafeBufferPointer { xhat in
                inputGradient.data.withUnsafeMutableBufferPointer { dx in
                    for r in 0..<rows {
                        for ch in 0..<c {
                            let i = r * c + ch
                            dx[i] = factors[ch] * (dy[i] - meanGradient[ch] - xhat[i] * meanGradientNormalized[ch])
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}
