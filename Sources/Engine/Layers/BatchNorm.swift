/// Batch normalisation over the last axis (channels of NHWC, features of [N, F]). Training normalises with the
/// batch's statistics and updates the running ones; evaluation, and training while frozen (Keras's rule for
/// fine-tuning), uses the running ones. With `relu`, a ReLU follows in the same pass (one pass over memory
/// fewer each way than a separate layer).
public final class BatchNorm: Layer {
    public let scale, shift: Parameter            // gamma, beta
    public let runningMean, runningVariance: Parameter
    public let momentum: Float
    public let epsilon: Float
    public let relu: Bool
    // Kept for backward: the input (shared, not copied) and the statistics it was normalised with.
    private var input: Tensor?
    private var mean: [Float] = []
    private var inverseDeviation: [Float] = []
    private var output: [Float] = []               // with `relu`: where the gradient passes
    private var usedBatchStatistics = false

    public init(_ name: String, channels: Int, relu: Bool = false, momentum: Float = 0.9, epsilon: Float = 1e-5) {
        scale = Parameter("\(name).weight", shape: [channels], value: [Float](repeating: 1, count: channels))
        shift = Parameter("\(name).bias", shape: [channels], value: [Float](repeating: 0, count: channels))
        runningMean = Parameter("\(name).running_mean", shape: [channels], value: [Float](repeating: 0, count: channels), trainable: false)
        runningVariance = Parameter("\(name).running_var", shape: [channels], value: [Float](repeating: 1, count: channels), trainable: false)
        (self.momentum, self.epsilon, self.relu) = (momentum, epsilon, relu)
    }

    public var parameters: [Parameter] { [scale, shift, runningMean, runningVariance] }
    var channels: Int { scale.count }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let c = channels
        precondition(input.shape.last == c, "\(scale.name): expected \(c) channels, got shape \(input.shape)")
        let rows = input.count / c
        let batchStatistics = training && scale.trainable
        if training { usedBatchStatistics = batchStatistics }
        var mean = runningMean.value, variance = runningVariance.value
        if batchStatistics {
            let (sum, squares) = input.data.withUnsafeBufferPointer { x in
                channelSums(x.baseAddress!, x.baseAddress!, rows: rows, channels: c, multiplyByFirst: false)
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
        // y = x * a + b per channel, with a = gamma / deviation and b = beta - mean * a.
        let a = (0..<c).map { scale.value[$0] * inverse[$0] }
        let b = (0..<c).map { shift.value[$0] - mean[$0] * a[$0] }
        var output = Tensor(uninitialized: input.shape)
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                withChannelVectors(a, b, b) { a, b, _ in
                    let floor: Float = relu ? 0 : -.infinity
                    Parallel.forEachRange(rows, minimum: 1024) { _, share in
                        for r in share {
                            let (xr, yr) = (x.baseAddress! + r * c, y.baseAddress! + r * c)
                            for ch in 0..<c { yr[ch] = max(xr[ch] * a[ch] + b[ch], floor) }
                        }
                    }
                }
            }
        }
        if training {
            self.input = input
            self.mean = mean
            inverseDeviation = inverse
            if relu { self.output = output.data }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input, input.count == outputGradient.count else {
            preconditionFailure("\(scale.name): backward without a training forward")
        }
        let outputGradient = relu ? reluGradient(outputGradient, by: output) : outputGradient
        let c = channels
        let rows = outputGradient.count / c
        // Sums of dy and of dy * x; with x-hat = (x - mean) / deviation, sum(dy * x-hat) follows from them.
        let (sumGradient, sumGradientTimesInput) = outputGradient.data.withUnsafeBufferPointer { dy in
            input.data.withUnsafeBufferPointer { x in
                channelSums(dy.baseAddress!, x.baseAddress!, rows: rows, channels: c, multiplyByFirst: true)
            }
        }
        let sumGradientNormalized = (0..<c).map {
            Double(inverseDeviation[$0]) * (sumGradientTimesInput[$0] - Double(mean[$0]) * sumGradient[$0])
        }
        for ch in 0..<c {
            scale.gradient[ch] += Float(sumGradientNormalized[ch])
            shift.gradient[ch] += Float(sumGradient[ch])
        }
        // dx = f * (dy - mean(dy) - x-hat * mean(dy * x-hat)), f = gamma / deviation, when the batch statistics
        // were used (they depend on every input of the batch); dx = f * dy otherwise. Written per channel as
        // dx = f * dy + p * x + q.
        let count = Double(rows)
        var f = [Float](repeating: 0, count: c), p = f, q = f
        for ch in 0..<c {
            f[ch] = scale.value[ch] * inverseDeviation[ch]
            guard usedBatchStatistics else { continue }
            let meanGradient = Float(sumGradient[ch] / count)
            let meanGradientNormalized = Float(sumGradientNormalized[ch] / count)
            p[ch] = -f[ch] * inverseDeviation[ch] * meanGradientNormalized
            q[ch] = -f[ch] * meanGradient - p[ch] * mean[ch]
        }
        var inputGradient = Tensor(uninitialized: outputGradient.shape)
        outputGradient.data.withUnsafeBufferPointer { dy in
            input.data.withUnsafeBufferPointer { x in
                inputGradient.data.withUnsafeMutableBufferPointer { dx in
                    withChannelVectors(f, p, q) { f, p, q in
                        Parallel.forEachRange(rows, minimum: 1024) { _, share in
                            for r in share {
                                let (g, xr, d) = (dy.baseAddress! + r * c, x.baseAddress! + r * c, dx.baseAddress! + r * c)
                                for ch in 0..<c { d[ch] = f[ch] * g[ch] + p[ch] * xr[ch] + q[ch] }
                            }
                        }
                    }
                }
            }
        }
        return inputGradient
    }

    /// Per-channel sums over all rows of `u` and of `u * v` (`multiplyByFirst`) or of `u` and `u * u`: each
    /// thread sums blocks of rows in Float (vectorised over channels), adds the blocks in Double, and the
    /// threads' sums are added at the end.
    private func channelSums(_ u: UnsafePointer<Float>, _ v: UnsafePointer<Float>, rows: Int, channels c: Int,
                             multiplyByFirst: Bool) -> ([Double], [Double]) {
        let threads = Parallel.threads
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: threads * 2 * c)
        partial.initialize(repeating: 0, count: threads * 2 * c)
        defer { partial.deallocate() }
        Parallel.forEachRange(rows, minimum: 1024, threads: threads) { part, share in
            let block = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
            defer { block.deallocate() }
            let sums = partial + part * 2 * c
            let other = multiplyByFirst ? v : u
            var first = share.lowerBound
            while first < share.upperBound {
                let end = min(first + 256, share.upperBound)
                block.initialize(repeating: 0, count: 2 * c)
                if c % 8 == 0 {
                    // Eight channels at a time with the sums in registers (the block of rows stays in cache
                    // while each group of eight channels passes over it).
                    for group in Swift.stride(from: 0, to: c, by: 8) {
                        var sum = SIMD8<Float>(), product = SIMD8<Float>()
                        for r in first..<end {
                            let a = UnsafeRawPointer(u + r * c + group).loadUnaligned(as: SIMD8<Float>.self)
                            let b = UnsafeRawPointer(other + r * c + group).loadUnaligned(as: SIMD8<Float>.self)
                            sum += a
                            product += a * b
                        }
                        for i in 0..<8 {
                            block[group + i] = sum[i]
                            block[c + group + i] = product[i]
                        }
                    }
                } else {
                    for r in first..<end {
                        let (a, b) = (u + r * c, other + r * c)
                        for ch in 0..<c {
                            block[ch] += a[ch]
                            block[c + ch] += a[ch] * b[ch]
                        }
                    }
                }
                for i in 0..<2 * c { sums[i] += Double(block[i]) }
                first = end
            }
        }
        var total = ([Double](repeating: 0, count: c), [Double](repeating: 0, count: c))
        for part in 0..<threads {
            for ch in 0..<c {
                total.0[ch] += partial[part * 2 * c + ch]
                total.1[ch] += partial[part * 2 * c + c + ch]
            }
        }
        return total
    }
}

/// Lends per-channel arrays as pointers, so the inner loops over channels run without bounds checks and
/// vectorise.
private func withChannelVectors<R>(_ a: [Float], _ b: [Float], _ c: [Float],
                                   _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeBufferPointer { c in body(a.baseAddress!, b.baseAddress!, c.baseAddress!) }
        }
    }
}
