/// `body(x) + shortcut(x)`, the shortcut being the identity when nil (a residual block), followed by a ReLU
/// in the same pass when `relu`.
public final class Residual: Layer {
    public let body: Sequential
    public let shortcut: Sequential?
    public let relu: Bool
    private var output: [Float] = []   // with `relu`: where the gradient passes

    public init(body: Sequential, shortcut: Sequential? = nil, relu: Bool = false) {
        self.body = body
        self.shortcut = shortcut
        self.relu = relu
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var output = body.forward(input, training: training)
        let skip = shortcut?.forward(input, training: training) ?? input
        precondition(skip.shape == output.shape, "residual shapes differ: \(skip.shape) and \(output.shape)")
        add(skip.data, into: &output.data, relu: relu)
        if training && relu { self.output = output.data }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let outputGradient = relu ? reluGradient(outputGradient, by: output) : outputGradient
        var inputGradient = body.backward(outputGradient)
        add(shortcut?.backward(outputGradient).data ?? outputGradient.data, into: &inputGradient.data)
        return inputGradient
    }

    public var parameters: [Parameter] { body.parameters + (shortcut?.parameters ?? []) }
}

/// `target += values`, element-wise, then `max(target, 0)` when `relu`.
func add(_ values: [Float], into target: inout [Float], relu: Bool = false) {
    precondition(values.count == target.count)
    let floor: Float = relu ? 0 : -.infinity
    values.withUnsafeBufferPointer { v in
        target.withUnsafeMutableBufferPointer { t in
            forEachShare(t.count) { range in
                for i in range { t[i] = max(t[i] + v[i], floor) }
            }
        }
    }
}
