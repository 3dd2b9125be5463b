/// Zeros around NHWC images, possibly more at the bottom and right than at the top and left: TensorFlow's
/// "SAME" padding at stride 2, which the EfficientNet-Lite weights were trained with (a convolution after it pads
/// nothing itself).
public final class ZeroPad: Layer {
    public let top, left, bottom, right: Int
    private var inputShape: [Int] = []

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
    }

    /// TensorFlow's "SAME" split for a `kernel` at `stride` over a side of `size`: the output is ceil(size /
    /// stride), and the padding it takes goes half before, the odd pixel after.
    public static func same(size: Int, kernel: Int, stride: Int) -> (before: Int, after: Int) {
        let output = (size + stride - 1) / stride
        let total = max((output - 1) * stride + kernel - size, 0)
        return (total / 2, total - total / 2)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4, "ZeroPad: expected an NHWC tensor, got shape \(input.shape)")
        if training { inputShape = input.shape }
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (outH, outW) = (h + top + bottom, w + left + right)
        var output = Tensor(zeros: [n, outH, outW, c])
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                for image in 0..<n {
                    for row in 0..<h {
                        let from = x.baseAddress! + ((image * h + row) * w) * c
                        (y.baseAddress! + ((image * outH + row + top) * outW + left) * c).update(from: from, count: w * c)
                    }
                }
            }
        }
        return output
    }

    /// The interior of the gradient: the padding's own gradient goes nowhere.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (n, h, w, c) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        let (outH, outW) = (h + top + bottom, w + left + right)
        var inputGradient = Tensor(uninitialized: inputShape)
        outputGradient.data.withUnsafeBufferPointer { dy in
            inputGradient.data.withUnsafeMutableBufferPointer { dx in
                for image in 0..<n {
                    for row in 0..<h {
                        let from = dy.baseAddress! + ((image * outH + row + top) * outW + left) * c
                        (dx.baseAddress! + ((image * h + row) * w) * c).update(from: from, count: w * c)
                    }
                }
            }
        }
        return inputGradient
    }
}
