/// Max pooling over kernel x kernel windows (no padding).
public final class MaxPool: Layer {
    public let kernel, stride: Int
    private var inputShape: [Int] = []
    private var winners: [Int32] = []   // per output value, the input index it came from

    public init(kernel: Int = 2, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = WindowGeometry(input.shape, kernel: kernel, stride: stride, padding: 0)
        let c = g.channels
        var output = Tensor(zeros: [g.batch, g.outHeight, g.outWidth, c])
        var winners = [Int32](repeating: 0, count: output.count)
        input.data.withUnsafeBufferPointer { x in
            var o = 0
            for n in 0..<g.batch {
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        for ch in 0..<c {
                            var best = -Float.infinity, bestIndex = 0
                            for ky in 0..<kernel {
                                for kx in 0..<kernel {
                                    let i = ((n * g.height + oy * stride + ky) * g.width + ox * stride + kx) * c + ch
                                    if x[i] > best { (best, bestIndex) = (x[i], i) }
                                }
                            }
                            output.data[o] = best
                            winners[o] = Int32(bestIndex)
                            o += 1
                        }
                    }
                }
            }
        }
        if training { (inputShape, self.winners) = (input.shape, winners) }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var inputGradient = Tensor(zeros: inputShape)
        for (o, i) in winners.enumerated() { inputGradient.data[Int(i)] += outputGradient.data[o] }
        return inputGradient
    }
}

/// Average pooling over kernel x kernel windows (no padding).
public final class AveragePool: Layer {
    public let kernel, stride: Int
    private var inputShape: [Int] = []

    public init(kernel: Int = 2, stride: Int? = nil) {
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    /// Calls `body(input, output)` with element offsets of every (input pixel, output pixel) pair in a window.
    private func forEachPair(_ g: WindowGeometry, _ body: (Int, Int) -> Void) {
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let o = ((n * g.outHeight + oy) * g.outWidth + ox) * g.channels
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            body(((n * g.height + oy * stride + ky) * g.width + ox * stride + kx) * g.channels, o)
                        }
                    }
                }
            }
        }
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = WindowGeometry(input.shape, kernel: kernel, stride: stride, padding: 0)
        if training { inputShape = input.shape }
        var output = Tensor(zeros: [g.batch, g.outHeight, g.outWidth, g.channels])
        let weight = 1 / Float(kernel * kernel)
        forEachPair(g) { i, o in
            for ch in 0..<g.channels { output.data[o + ch] += input.data[i + ch] * weight }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let g = WindowGeometry(inputShape, kernel: kernel, stride: stride, padding: 0)
        var inputGradient = Tensor(zeros: inputShape)
        let weight = 1 / Float(kernel * kernel)
        forEachPair(g) { i, o in
            for ch in 0..<g.channels { inputGradient.data[i + ch] += outputGradient.data[o + ch] * weight }
        }
        return inputGradient
    }
}

/// The mean over height and width: [N, H, W, C] to [N, C].
public final class GlobalAveragePool: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4, "global average pooling expects NHWC, got shape \(input.shape)")
        if training { inputShape = input.shape }
        let (n, pixels, c) = (input.shape[0], input.shape[1] * input.shape[2], input.shape[3])
        var output = Tensor(zeros: [n, c])
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                for b in 0..<n {
                    for p in 0..<pixels {
                        for ch in 0..<c { y[b * c + ch] += x[(b * pixels + p) * c + ch] }
                    }
                }
                for i in 0..<y.count { y[i] /= Float(pixels) }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (n, pixels, c) = (inputShape[0], inputShape[1] * inputShape[2], inputShape[3])
        var inputGradient = Tensor(uninitialized: inputShape)
        outputGradient.data.withUnsafeBufferPointer { dy in
            inputGradient.data.withUnsafeMutableBufferPointer { dx in
                for b in 0..<n {
                    for p in 0..<pixels {
                        for ch in 0..<c { dx[(b * pixels + p) * c + ch] = dy[b * c + ch] / Float(pixels) }
                    }
                }
            }
        }
        return inputGradient
    }
}
