import Files

/// A fully connected layer: [N, in] x [in, out] + bias.
public final class Dense: Layer {
    public let weight, bias: Parameter
    private var input: Tensor?

    /// Glorot-uniform initial weights, as Keras's Dense.
    public init(_ name: String, in inputs: Int, out outputs: Int, random: inout SplitMix64) {
        let limit = (6.0 / Double(inputs + outputs)).squareRoot()
        weight = Parameter("\(name).weight", shape: [inputs, outputs],
                           value: (0..<inputs * outputs).map { _ in Float(random.next(in: -limit...limit)) }, decays: true)
        bias = Parameter("\(name).bias", shape: [outputs], value: [Float](repeating: 0, count: outputs))
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var inputs: Int { weight.shape[0] }
    public var outputs: Int { weight.shape[1] }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 2 && input.shape[1] == inputs,
                     "\(weight.name): expected [batch, \(inputs)], got shape \(input.shape)")
        if training { self.input = input }
        var output = Tensor(uninitialized: [input.batch, outputs])  // every row starts as the bias
        for n in 0..<input.batch { output.data.replaceSubrange(n * outputs..<(n + 1) * outputs, with: bias.value) }
        input.data.withUnsafeBufferPointer { x in
            weight.value.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { y in
                    BLAS.gemm(x.baseAddress!, w.baseAddress!, into: y.baseAddress!, m: input.batch, n: outputs, k: inputs, beta: 1)
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("\(weight.name): backward without a training forward") }
        var inputGradient = Tensor(uninitialized: input.shape)
        outputGradient.data.withUnsafeBufferPointer { dy in
            input.data.withUnsafeBufferPointer { x in
                weight.gradient.withUnsafeMutableBufferPointer { dw in
                    BLAS.gemm(x.baseAddress!, transposeA: true, dy.baseAddress!, into: dw.baseAddress!,
                              m: inputs, n: outputs, k: input.batch, beta: 1)
                }
            }
            weight.value.withUnsafeBufferPointer { w in
                inputGradient.data.withUnsafeMutableBufferPointer { dx in
                    BLAS.gemm(dy.baseAddress!, w.baseAddress!, transposeB: true, into: dx.baseAddress!,
                              m: input.batch, n: inputs, k: outputs)
                }
            }
        }
        accumulateChannelSums(outputGradient, into: bias)
        return inputGradient
    }
}
