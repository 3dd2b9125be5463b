import Files

/// An imported network's convolutions on library kernels (`InferenceKernels`), each with the steps after it fused
/// in as post-ops where the convolution's value has no other reader: activations (ReLU, clips, hard swish,
/// sigmoid), then a residual addition whose other operand is already computed, then activations after the sum.
/// MobileNetV3's hard swishes and ResNet's additions and ReLUs then cost no pass of their own.
extension GraphNetwork {
    /// An inference copy: the same spec and weights, convolutions on oneDNN with their fusions (in int8 where
    /// `int8` names them).
    func onLibrary(int8: [String: InputQuantization] = [:]) -> GraphNetwork {
        var readers = [[Int]](repeating: [], count: spec.valueCount)
        for (index, step) in spec.steps.enumerated() { for input in Set(step.inputs) { readers[input].append(index) } }
        let copies = spec.steps.enumerated().map { index, step in StepRunner(step, copying: runners[index].parameters) }
        for (index, step) in spec.steps.enumerated() {
            guard case let .convolution(window, groups, cap) = step.op, !copies[index].absorbed else { continue }
            var postOps: [PostOp] = cap.map { [.clamp(low: 0, high: $0)] } ?? []
            var (output, addend, lastStep) = (step.output, Int?.none, index)
            // Follows the chain of sole readers while each can be a post-op.
            while output != spec.output, readers[output].count == 1, case let next = readers[output][0],
                  let op = postOp(spec.steps[next], after: output, addend: addend, convolutionStep: index) {
                postOps.append(op.postOp)
                if op.postOp == .addition { addend = op.addend }
                copies[next].absorbed = true
                (output, lastStep) = (spec.steps[next].output, next)
            }
            let values = runners[index].parameters.map(\.value)
            let name = InferenceKernels.convolutionName(weight: runners[index].parameters[0].name)
            let convolution = LibraryConvolution(name, window: window, groups: groups,
                                                 inChannels: step.weights[0][2] * groups, outChannels: step.weights[0][3],
                                                 weights: values[0], bias: values.count > 1 ? values[1] : nil, postOps: postOps,
                                                 quantization: int8[name])
            copies[index].fused = FusedConvolution(convolution: convolution, input: step.inputs[0], addend: addend,
                                                   output: output, lastStep: lastStep)
        }
        return GraphNetwork(spec, runners: copies)
    }

    /// `step` as a post-op of a convolution whose value `value` it reads, or nil. An addition needs the other
    /// operand written before the convolution runs (ResNet's downsampling shortcut comes after the block's last
    /// convolution, so there the shortcut's convolution takes the sum).
    private func postOp(_ step: GraphStep, after value: Int, addend: Int?, convolutionStep: Int) -> (postOp: PostOp, addend: Int?)? {
        switch step.op {
        case .unary(.relu): return (.clamp(low: 0, high: .infinity), nil)
        case let .unary(.clip(low, high)): return (.clamp(low: low, high: high), nil)
        case .unary(.hardSwish): return (.hardSwish, nil)
        case .unary(.sigmoid): return (.sigmoid, nil)
        case .binary(.add, _) where step.inputs.count == 2 && addend == nil:
            let other = step.inputs[0] == value ? step.inputs[1] : step.inputs[0]
            guard other != value, producer[other] < convolutionStep, step.shape == spec.steps[producer[value]].shape,
                  producer[other] < 0 ? spec.inputShape == step.shape : spec.steps[producer[other]].shape == step.shape else { return nil }
            return (.addition, other)
        default: return nil
        }
    }
}

extension GraphNetwork {
    /// One image through every step as `run` does, each step's time added to its kind in `spent` (benchmark
    /// profiles: what the library does not run yet).
    package func timedRun(_ image: Tensor, _ spent: inout [String: Double]) -> Tensor {
        var values = [Tensor?](repeating: nil, count: spec.valueCount)
        values[0] = image
        for (index, step) in spec.steps.enumerated() {
            let started = monotonicSeconds()
            let runner = runners[index]
            var kind = step.op.name
            if let fused = runner.fused {
                kind = "library " + (fused.convolution.groups > 1 ? "grouped " : "") + "\(fused.convolution.window.kernel[0])x\(fused.convolution.window.kernel[1])"
                values[fused.output] = fused.convolution.forward(values[fused.input]!, adding: fused.addend.map { values[$0]! })
            } else if !runner.absorbed {
                values[step.output] = runner.run(step.inputs.map { values[$0]! })
            }
            spent[kind, default: 0] += monotonicSeconds() - started
        }
        return values[spec.output]!
    }
}

/// A convolution that runs in place of its step and the steps fused into it: it reads `input` (and `addend`) and
/// writes `output`, the value of `lastStep`, the last step fused.
struct FusedConvolution {
    let convolution: LibraryConvolution
    let input: Int
    let addend: Int?
    let output: Int
    let lastStep: Int
}
