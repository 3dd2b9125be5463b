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
        var absorbed = Set<Int>()
        var copies: [StepRunner] = []
        for (index, step) in spec.steps.enumerated() {
            guard case let .convolution(window, groups, cap) = step.op, !absorbed.contains(index) else {
                let copy = StepRunner(step, copying: runners[index].parameters)
                copy.absorbed = absorbed.contains(index)
                copies.append(copy)
                continue
            }
            var postOps: [PostOp] = cap.map { [.clamp(low: 0, high: $0)] } ?? []
            var (output, addend, chain) = (step.output, Int?.none, [index])
            // Follows the chain of sole readers while each can be a post-op.
            while output != spec.output, readers[output].count == 1, case let next = readers[output][0],
                  let op = postOp(spec.steps[next], after: output, addend: addend, convolutionStep: index) {
                postOps.append(op.postOp)
                if op.postOp == .addition { addend = op.addend }
                absorbed.insert(next)
                chain.append(next)
                output = spec.steps[next].output
            }
            let values = runners[index].parameters.map(\.value)
            let name = InferenceKernels.convolutionName(weight: runners[index].parameters[0].name)
            let convolution = LibraryConvolution(name, window: window, groups: groups,
                                                 inChannels: step.weights[0][2] * groups, outChannels: step.weights[0][3],
                                                 weights: values[0], bias: values.count > 1 ? values[1] : nil, postOps: postOps,
                                                 quantization: int8[name])
            // The addend's storage can become the output's when no step outside the chain reads it from here on.
            let moves = addend.map { value in value != spec.output && readers[value].allSatisfy { $0 < index || chain.contains($0) } } ?? false
            copies.append(StepRunner(step, copying: [], fused: FusedConvolution(convolution: convolution, input: step.inputs[0], addend: addend,
                                                                              movesAddend: moves, output: output)))
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
            runStep(index, &values)
            var kind = step.op.name
            if let conv = runners[index].fused?.convolution {
                kind = "library " + (conv.groups > 1 ? "grouped " : "") + "\(conv.window.kernel[0])x\(conv.window.kernel[1])"
            }
            spent[kind, default: 0] += monotonicSeconds() - started
            for input in Set(step.inputs) where lastReader[input] == index { values[input] = nil }
        }
        return values[spec.output]!
    }
}

/// A convolution that runs in place of its step and the steps fused into it: it reads `input` (and `addend`,
/// whose storage it takes over when `movesAddend`) and writes `output`, the value of the last step fused.
struct FusedConvolution {
    let convolution: LibraryConvolution
    let input: Int
    let addend: Int?
    let movesAddend: Bool
    let output: Int
}
