import Files

/// ReLU, or ReLU6 when `cap` is 6 (MobileNet's).
public final class ReLU: Layer {
    public let cap: Float
    private var input: [Float] = []

    public init(cap: Float = .infinity) { self.cap = cap }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        if training { self.input = input.data }
        var output = Tensor(uninitialized: input.shape)
        let cap = self.cap
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                forEachShare(y.count) { range in
                    for i in range { y[i] = min(max(x[i], 0), cap) }
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        reluGradient(outputGradient, by: input, cap: cap)
    }
}

/// The gradient through ReLU: `gradient` where `values` (the ReLU's input or its output) is strictly between 0
/// and `cap`, else 0, written to a new tensor in one pass (the caller still holds `gradient`, so masking it in
/// place would copy it first).
func reluGradient(_ gradient: Tensor, by values: [Float], cap: Float = .infinity) -> Tensor {
    precondition(values.count == gradient.count, "ReLU: backward without a training forward")
    let (zero, capVector) = (SIMD8<Float>(repeating: 0), SIMD8<Float>(repeating: cap))
    var masked = Tensor(uninitialized: gradient.shape)
    masked.data.withUnsafeMutableBufferPointer { out in
        gradient.data.withUnsafeBufferPointer { g in
            values.withUnsafeBufferPointer { x in
                forEachShare(g.count) { range in
                    // Eight at a time: the gradient passes where 0 < x < cap.
                    var i = range.lowerBound
                    while i + 8 <= range.upperBound {
                        let xs = UnsafeRawPointer(x.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
                        let gs = UnsafeRawPointer(g.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
                        let passed = gs.replacing(with: zero, where: (xs .<= zero) .| (xs .>= capVector))
                        UnsafeMutableRawPointer(out.baseAddress! + i).storeBytes(of: passed, as: SIMD8<Float>.self)
                        i += 8
                    }
                    for j in i..<range.upperBound { out[j] = x[j] > 0 && x[j] < cap ? g[j] : 0 }
                }
            }
        }
    }
    return masked
}

/// Zeroes a random `rate` of the values while training and scales the rest by 1 / (1 - rate), so evaluation
/// needs no change. Seeded: the same run draws the same masks.
public final class Dropout: Layer {
    public let rate: Float
    package var random: SplitMix64
    private var mask: [Float] = []

    public init(rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1)")
        self.rate = rate
        random = SplitMix64(seed: seed)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard training && rate > 0 else { return input }
        let keep = 1 / (1 - rate)
        mask = (0..<input.count).map { _ in random.nextUnit() < Double(rate) ? 0 : keep }
        var output = input
        for i in 0..<output.count { output.data[i] *= mask[i] }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard rate > 0 else { return outputGradient }
        var inputGradient = outputGradient
        for i in 0..<inputGradient.count { inputGradient.data[i] *= mask[i] }
        return inputGradient
    }
}

/// [N, H, W, C] to [N, H * W * C].
public final class Flatten: Layer {
    private var shape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        if training { shape = input.shape }
        return input.reshaped([input.batch, input.itemSize])
    }

    public func backward(_ outputGradient: Tensor) -> Tensor { outputGradient.reshaped(shape) }
}
