/// A node rewritten so that every operator reads its settings the same way whatever its opset: parameters that
/// later opsets pass as constant inputs (Reshape's shape, Slice's starts and ends, Pad's pads, Clip's bounds,
/// Squeeze's and Reduce's axes, Split's sizes, Expand's shape) become attributes, negative axes become
/// positive, `auto_pad` becomes explicit pads, and defaults are written out. What is left in `inputs` is data
/// (the image's values and weights). A parameter that is not a constant is refused: it would be computed from the
/// image, which an image network does not do.
enum Normalized {
    static func node(_ original: ONNXNode, opset: Int, constants: [String: ONNXTensor], shapes: [String: [Int]]) throws(ONNXError) -> ONNXNode {
        var node = original
        let rank = node.input(0).flatMap { shapes[$0] }?.count ?? 0

        /// Input `index` as a constant (nil when left out); refused when the image computes it.
        func parameter(_ index: Int, _ what: String) throws(ONNXError) -> ONNXTensor? {
            guard let name = node.input(index) else { return nil }
            guard let value = constants[name] else { throw ONNXError(node: node, "its \(what) (\(name)) is computed from the image: only constant \(what)s are supported") }
            return value
        }
        func positive(_ axis: Int, _ rank: Int) throws(ONNXError) -> Int {
            guard axis >= -rank, axis < rank else { throw ONNXError(node: node, "axis \(axis) is outside a tensor of \(rank) dimensions") }
            return axis < 0 ? axis + rank : axis
        }
        func keepInputs(_ count: Int) { node.inputs = Array(node.inputs.prefix(count)) }

        switch node.op {
        case "Reshape", "Expand":
            guard let shape = try parameter(1, "shape") else { throw ONNXError(node: node, "it has no shape input") }
            node.attributes["shape"] = .ints(shape.integers)
            keepInputs(1)
        case "Slice":
            if opset >= 10 {
                guard let starts = try parameter(1, "starts"), let ends = try parameter(2, "ends") else { throw ONNXError(node: node, "it has no starts or ends") }
                node.attributes["starts"] = .ints(starts.integers)
                node.attributes["ends"] = .ints(ends.integers)
                if let axes = try parameter(3, "axes") { node.attributes["axes"] = .ints(axes.integers) }
                if let steps = try parameter(4, "steps") { node.attributes["steps"] = .ints(steps.integers) }
                keepInputs(1)
            }
            _ = try sliceRangesChecked(node, node.input(0).flatMap { shapes[$0] } ?? [])
        case "Squeeze", "Unsqueeze":
            if opset >= 13, let axes = try parameter(1, "axes") { node.attributes["axes"] = .ints(axes.integers) }
            keepInputs(1)
        case "ReduceMean", "ReduceSum", "ReduceMax":
            let axesAreInput = node.op == "ReduceSum" ? opset >= 13 : opset >= 18
            if axesAreInput, let axes = try parameter(1, "axes") { node.attributes["axes"] = .ints(axes.integers) }
            keepInputs(1)
            let axes = try (node.ints("axes") ?? []).map { a throws(ONNXError) in try positive(a, rank) }
            let all = axes.isEmpty && node.int("noop_with_empty_axes") != 1
            node.attributes["axes"] = .ints((all ? Array(0..<rank) : axes).sorted().map { Int64($0) })
            node.attributes["keepdims"] = .int(Int64(node.int("keepdims") ?? 1))
        case "Pad":
            var pads: [Int], value: Float = node.float("value") ?? 0
            if opset >= 11 {
                guard let given = try parameter(1, "pads") else { throw ONNXError(node: node, "it has no pads") }
                pads = given.integers.map { Int(clamping: $0) }
                if let constant = try parameter(2, "constant value"), constant.count == 1 { value = constant.floats[0] }
                if let axes = try parameter(3, "axes") {
                    let axes = try axes.integers.map { a throws(ONNXError) in try positive(Int(clamping: a), rank) }
                    var full = [Int](repeating: 0, count: 2 * rank)
                    guard pads.count == 2 * axes.count else { throw ONNXError(node: node, "\(pads.count) pads for \(axes.count) axes") }
                    for (i, axis) in axes.enumerated() { (full[axis], full[axis + rank]) = (pads[i], pads[i + axes.count]) }
                    pads = full
                }
            } else {
                pads = node.ints("pads") ?? node.ints("paddings") ?? []
            }
            guard pads.count == 2 * rank else { throw ONNXError(node: node, "\(pads.count) pads for a tensor of \(rank) dimensions") }
            // Edge padding is kept for the one place exporters write it: before a max pool (TensorFlow's "SAME"
            // pooling), where it equals pooling that ignores the border; the converter folds it there.
            guard ["constant", "edge"].contains(node.string("mode") ?? "constant") else {
                throw ONNXError(node: node, "pad mode \(node.string("mode")!) is not supported (constant padding is)")
            }
            node.attributes["mode"] = .string(node.string("mode") ?? "constant")
            node.attributes["pads"] = .ints(pads.map { Int64($0) })
            node.attributes["value"] = .float(value)
            keepInputs(1)
        case "Clip":
            var (low, high) = (node.float("min") ?? -.infinity, node.float("max") ?? .infinity)
            if opset >= 11 {
                if let given = try parameter(1, "min") { low = given.floats.first ?? low }
                if let given = try parameter(2, "max") { high = given.floats.first ?? high }
            }
            node.attributes["min"] = .float(low)
            node.attributes["max"] = .float(high)
            keepInputs(1)
        case "Split":
            let axis = try positive(node.int("axis") ?? 0, rank)
            node.attributes["axis"] = .int(Int64(axis))
            if opset >= 13, let split = try parameter(1, "split") { node.attributes["split"] = .ints(split.integers) }
            if node.ints("split") == nil, let dimension = node.input(0).flatMap({ shapes[$0] })?[axis] {
                let parts = node.int("num_outputs") ?? node.outputs.count
                guard parts > 0 else { throw ONNXError(node: node, "it splits into no parts") }
                let size = (dimension + parts - 1) / parts
                node.attributes["split"] = .ints((0..<parts).map { Int64(max(0, min(size, dimension - $0 * size))) })
            }
            keepInputs(1)
        case "Conv", "MaxPool", "AveragePool":
            let spatial = max(0, rank - 2)
            let kernel = node.op == "Conv" ? node.input(1).flatMap { shapes[$0] }.map { Array($0.dropFirst(2)) } ?? [] : node.ints("kernel_shape") ?? []
            guard kernel.count == spatial, spatial == 2 else {
                throw ONNXError(node: node, "only 2-D windows on [N, C, H, W] tensors are supported (kernel \(kernel), input of \(rank) dimensions)")
            }
            let strides = node.ints("strides") ?? [1, 1], dilations = node.ints("dilations") ?? [1, 1]
            guard strides.count == 2, dilations.count == 2, (strides + dilations).allSatisfy({ $0 >= 1 && $0 <= 1 << 12 }),
                  kernel.allSatisfy({ $0 >= 1 && $0 <= 1 << 12 }) else {
                throw ONNXError(node: node, "strides \(strides), dilations \(dilations) or kernel \(kernel) out of range")
            }
            var pads = node.ints("pads") ?? [0, 0, 0, 0]
            let input = shapes[node.inputs[0]] ?? [0, 0, 0, 0]
            switch node.string("auto_pad") ?? "NOTSET" {
            case "SAME_UPPER", "SAME_LOWER":
                for axis in 0..<2 {
                    let size = input[axis + 2], out = (size + strides[axis] - 1) / strides[axis]
                    let total = max(0, (out - 1) * strides[axis] + dilations[axis] * (kernel[axis] - 1) + 1 - size)
                    let before = node.string("auto_pad") == "SAME_UPPER" ? total / 2 : total - total / 2
                    (pads[axis], pads[axis + 2]) = (before, total - before)
                }
            case "VALID": pads = [0, 0, 0, 0]
            case "NOTSET": break
            case let other: throw ONNXError(node: node, "auto_pad \(other) is not an ONNX value")
            }
            guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 12 }) else { throw ONNXError(node: node, "pads \(pads) are not 4 values in range") }
            node.attributes["auto_pad"] = nil
            node.attributes["kernel_shape"] = .ints(kernel.map { Int64($0) })
            node.attributes["strides"] = .ints(strides.map { Int64($0) })
            node.attributes["dilations"] = .ints(dilations.map { Int64($0) })
            node.attributes["pads"] = .ints(pads.map { Int64($0) })
            if node.op == "Conv" {
                node.attributes["group"] = .int(Int64(node.int("group") ?? 1))
                for index in 1..<min(3, node.inputs.count) { _ = try parameter(index, index == 1 ? "weight" : "bias") }
            }
        case "Softmax", "LogSoftmax":
            // Before opset 13 the axis split the tensor into 2-D (everything from the axis on is one row).
            node.attributes["axis"] = .int(Int64(try positive(node.int("axis") ?? (opset < 13 ? 1 : -1), rank)))
            node.attributes["coerced"] = .int(opset < 13 ? 1 : 0)
        case "Concat", "Gather":
            node.attributes["axis"] = .int(Int64(try positive(node.int("axis") ?? (node.op == "Gather" ? 0 : 1), rank)))
            if node.op == "Gather" { _ = try parameter(1, "indices") }
        case "Flatten":
            node.attributes["axis"] = .int(Int64(node.int("axis").map { $0 < 0 ? $0 + rank : $0 } ?? 1))
        case "LayerNormalization":
            guard node.input(1) != nil else { throw ONNXError(node: node, "it has no scale input") }
            node.attributes["axis"] = .int(Int64(try positive(node.int("axis") ?? -1, rank)))
            node.attributes["epsilon"] = .float(node.float("epsilon") ?? 1e-5)
            for index in 1..<min(3, node.inputs.count) { _ = try parameter(index, "scale or bias") }
        case "BatchNormalization":
            node.attributes["epsilon"] = .float(node.float("epsilon") ?? 1e-5)
            for index in 1..<5 { guard try parameter(index, "statistic") != nil else { throw ONNXError(node: node, "it lacks input \(index)") } }
            node.outputs = Array(node.outputs.prefix(1))  // training outputs (running statistics) are never read
        case "Transpose":
            node.attributes["perm"] = .ints((node.ints("perm") ?? Array((0..<rank).reversed())).map { Int64($0) })
        case "Gemm":
            node.attributes["alpha"] = .float(node.float("alpha") ?? 1)
            node.attributes["beta"] = .float(node.float("beta") ?? 1)
        default:
            break
        }
        return node
    }

    /// Slice's per-axis (start, count, step), clamped as ONNX defines; every axis of `shape`, unsliced ones whole.
    static func sliceRanges(_ node: ONNXNode, _ shape: [Int]) -> [(start: Int, count: Int, step: Int)] {
        (try? sliceRangesChecked(node, shape)) ?? shape.map { (0, $0, 1) }
    }

    static func sliceRangesChecked(_ node: ONNXNode, _ shape: [Int]) throws(ONNXError) -> [(start: Int, count: Int, step: Int)] {
        let starts = node.ints("starts") ?? [], ends = node.ints("ends") ?? []
        let axes = node.ints("axes") ?? Array(0..<starts.count), steps = node.ints("steps") ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw ONNXError(node: node, "starts, ends, axes and steps differ in length")
        }
        var ranges = shape.map { (start: 0, count: $0, step: 1) }
        for (i, given) in axes.enumerated() {
            let axis = given < 0 ? given + shape.count : given
            guard axis >= 0, axis < shape.count else { throw ONNXError(node: node, "axis \(given) is outside the input's \(shape.count) dimensions") }
            let size = shape[axis], step = steps[i]
            guard step != 0 else { throw ONNXError(node: node, "a step of 0") }
            func clamp(_ value: Int, _ low: Int, _ high: Int) -> Int { Swift.max(low, Swift.min(high, value < 0 ? value &+ size : value)) }
            let start = step > 0 ? clamp(starts[i], 0, size) : clamp(starts[i], -1, size - 1)
            let end = step > 0 ? clamp(ends[i], 0, size) : clamp(ends[i], -1, size - 1)
            let count = step > 0 ? Swift.max(0, (end - start + step - 1) / step) : Swift.max(0, (start - end + (-step) - 1) / -step)
            ranges[axis] = (start, count, step)
        }
        return ranges
    }
}
