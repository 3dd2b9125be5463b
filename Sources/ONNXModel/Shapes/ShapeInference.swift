/// Walks the sorted nodes once: normalises each (`Normalized`), infers its output shapes (every dimension and
/// element count bounded by `ONNXLimits`), folds it into a constant when it computes on constants only
/// (`ConstantFolding`; Shape always does, shapes being static), and drops nodes that pass the image through
/// unchanged (Identity, Dropout, Cast to a float type). The batch is 1: the engine runs a graph image by image.
struct ShapeInference {
    let inputSize: Int?
    let limits: ONNXLimits

    init(graph _: ONNXGraph, inputSize: Int?, limits: ONNXLimits) {
        (self.inputSize, self.limits) = (inputSize, limits)
    }

    func run(_ graph: inout ONNXGraph) throws(ONNXError) {
        var constants = graph.constants
        var shapes = constants.mapValues(\.shape)
        graph.inputShape = try fixedInputShape(graph)
        shapes[graph.input] = graph.inputShape
        var alias: [String: String] = [:]
        var kept: [ONNXNode] = []
        for original in graph.nodes {
            var node = original
            node.inputs = node.inputs.map { alias[$0] ?? $0 }
            node = try Normalized.node(node, opset: graph.opset, constants: constants, shapes: shapes)
            let inputShapes = node.inputs.map { $0.isEmpty ? nil : shapes[$0] }
            let outputShapes = try self.outputShapes(node, inputShapes, constants: constants)
            guard outputShapes.count >= node.outputs.count || node.op == "Split" else {
                throw ONNXError(node: node, "it names \(node.outputs.count) outputs; it has \(outputShapes.count)")
            }
            for (output, shape) in zip(node.outputs, outputShapes) where !output.isEmpty {
                try bounded(shape, node)
                shapes[output] = shape
            }

            if node.op == "Shape" {
                let shape = inputShapes[0] ?? []
                let start = clampAxis(node.int("start") ?? 0, shape.count), end = clampAxis(node.int("end") ?? shape.count, shape.count)
                constants[node.outputs[0]] = ONNXTensor(shape: [max(0, end - start)], integers: shape[start..<max(start, end)].map { Int64($0) })
                shapes[node.outputs[0]] = [max(0, end - start)]
                continue
            }
            let inputs = node.inputs.map { $0.isEmpty ? nil : constants[$0] }
            if node.outputs.count == 1, ConstantFolding.foldable.contains(node.op),
               zip(node.inputs, inputs).allSatisfy({ $0.0.isEmpty || $0.1 != nil }),
               let value = try ConstantFolding.fold(node, inputs, outputShapes: outputShapes) {
                guard value.shape == outputShapes[0] || node.op == "Constant" else {
                    throw ONNXError(node: node, "folding gave shape \(value.shape), not \(outputShapes[0])")
                }
                try bounded(value.shape, node)
                constants[node.outputs[0]] = value
                shapes[node.outputs[0]] = value.shape
                continue
            }
            if Operators.foldedOnly.contains(node.op) {
                throw ONNXError(node: node, "it computes on the image; imgcls supports \(node.op) only on constants")
            }
            if node.op == "Cast", let to = node.int("to"), ![1, 10, 11, 16].contains(to) {
                throw ONNXError(node: node, "it casts the image to a non-float type (\(to))")
            }
            if ["Identity", "Dropout", "Cast"].contains(node.op) {
                alias[node.outputs[0]] = node.inputs[0]
                continue
            }
            kept.append(node)
        }
        graph.output = alias[graph.output] ?? graph.output
        guard graph.output != graph.input, constants[graph.output] == nil else {
            throw ONNXError(problem: "output \(graph.output) does not depend on the image")
        }
        let read = Set(kept.flatMap(\.inputs))
        graph.constants = constants.filter { read.contains($0.key) }
        graph.nodes = kept
        let produced = Set(kept.flatMap(\.outputs))
        graph.shapes = shapes.filter { read.contains($0.key) || produced.contains($0.key) || $0.key == graph.output }
    }

    private func clampAxis(_ axis: Int, _ rank: Int) -> Int { max(0, min(rank, axis < 0 ? axis + rank : axis)) }

    private func bounded(_ shape: [Int], _ node: ONNXNode) throws(ONNXError) {
        guard shape.count <= limits.rank else { throw ONNXError(node: node, "its output has \(shape.count) dimensions, over \(limits.rank)") }
        var count = 1
        for dimension in shape {
            guard dimension >= 0, dimension <= limits.dimension else {
                throw ONNXError(node: node, "its output would have a dimension of \(dimension) (shape \(shape)), outside 0...\(limits.dimension)")
            }
            count *= dimension
            guard count <= limits.tensorElements else {
                throw ONNXError(node: node, "its output of shape \(shape) is over the limit of \(limits.tensorElements) elements")
            }
        }
    }

    /// Batch 1; open height and width from `inputSize`; the channel axis (of 1 or 3) found in NCHW or NHWC.
    private func fixedInputShape(_ graph: ONNXGraph) throws(ONNXError) -> [Int] {
        var shape = graph.inputShape
        guard shape.count == 4 else {
            throw ONNXError(problem: "input \(graph.input) has shape \(shape.map { $0 < 0 ? "?" : String($0) }): an image network takes [batch, channels, height, width] or [batch, height, width, channels]")
        }
        shape[0] = 1
        let channelsFirst = [1, 3].contains(shape[1]) || (shape[1] < 0 && ![1, 3].contains(shape[3]))
        let spatial = channelsFirst ? [2, 3] : [1, 2]
        for axis in spatial {
            if shape[axis] < 0 {
                guard let inputSize else {
                    throw ONNXError(problem: "input \(graph.input) leaves its height or width open: give the input size (--size)")
                }
                shape[axis] = inputSize
            } else if let inputSize, shape[axis] != inputSize {
                throw ONNXError(problem: "input \(graph.input) is fixed at \(shape[spatial[0]])x\(shape[spatial[1]]); an input size of \(inputSize) does not fit it")
            }
        }
        guard shape.allSatisfy({ $0 > 0 }) else { throw ONNXError(problem: "input \(graph.input) has open channels: \(shape)") }
        return shape
    }

    /// Each output's shape. `inputs[i]` is nil for an input left out.
    func outputShapes(_ node: ONNXNode, _ inputs: [[Int]?], constants: [String: ONNXTensor]) throws(ONNXError) -> [[Int]] {
        func input(_ index: Int) throws(ONNXError) -> [Int] {
            guard index < inputs.count, let shape = inputs[index] else { throw ONNXError(node: node, "input \(index) is missing") }
            return shape
        }
        switch node.op {
        case "Identity", "Dropout", "Cast", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Tanh", "Erf",
             "Sqrt", "Exp", "Neg", "Reciprocal", "Abs", "Floor", "Ceil", "Gelu", "Softmax", "LogSoftmax":
            return [try input(0)]
        case "LayerNormalization":
            let x = try input(0), axis = node.int("axis")!
            for index in 1..<inputs.count {
                guard let given = inputs[index] else { continue }
                guard given.reduce(1, *) == x[axis...].reduce(1, *) else {
                    throw ONNXError(node: node, "scale or bias of shape \(given) for normalised shape \(Array(x[axis...]))")
                }
            }
            return [x]
        case "BatchNormalization":
            let x = try input(0)
            guard x.count >= 2 else { throw ONNXError(node: node, "input of shape \(x)") }
            for index in 1..<5 where try input(index).reduce(1, *) != x[1] {
                throw ONNXError(node: node, "statistic \(index) has shape \(try input(index)) for \(x[1]) channels")
            }
            return [x]
        case "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Mod", "Equal":
            guard let shape = TensorMath.broadcast(try input(0), try input(1)) else {
                throw ONNXError(node: node, "shapes \(try input(0)) and \(try input(1)) do not broadcast")
            }
            return [shape]
        case "Where":
            guard let ab = TensorMath.broadcast(try input(1), try input(2)), let shape = TensorMath.broadcast(try input(0), ab) else {
                throw ONNXError(node: node, "shapes do not broadcast")
            }
            return [shape]
        case "Conv":
            let x = try input(0), w = try input(1)
            let group = node.int("group")!
            guard w.count == 4, group >= 1, x[1] % group == 0, w[0] % group == 0, w[1] * group == x[1] else {
                throw ONNXError(node: node, "weights of shape \(w) do not fit an input of \(x[1]) channels in \(group) groups")
            }
            if inputs.count > 2, let b = inputs[2], b != [w[0]] { throw ONNXError(node: node, "bias of shape \(b) for \(w[0]) filters") }
            return [[x[0], w[0]] + (try windowOutput(node, x, ceil: false))]
        case "MaxPool", "AveragePool":
            let x = try input(0)
            return [[x[0], x[1]] + (try windowOutput(node, x, ceil: node.int("ceil_mode") == 1))]
        case "GlobalAveragePool", "GlobalMaxPool":
            let x = try input(0)
            guard x.count >= 3 else { throw ONNXError(node: node, "input of shape \(x)") }
            return [Array(x.prefix(2)) + [Int](repeating: 1, count: x.count - 2)]
        case "ReduceMean", "ReduceSum", "ReduceMax":
            let x = try input(0), axes = Set(node.ints("axes")!)
            guard axes.allSatisfy({ $0 >= 0 && $0 < x.count }) else { throw ONNXError(node: node, "axes \(axes.sorted()) for shape \(x)") }
            return [node.int("keepdims") == 1 ? x.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
                                              : x.enumerated().filter { !axes.contains($0.offset) }.map(\.element)]
        case "Flatten":
            let x = try input(0), axis = node.int("axis")!
            guard axis >= 0, axis <= x.count else { throw ONNXError(node: node, "axis \(axis) for shape \(x)") }
            return [[x[..<axis].reduce(1, *), x[axis...].reduce(1, *)]]
        case "Reshape":
            let x = try input(0), count = x.reduce(1, *)
            var shape = try node.ints("shape")!.enumerated().map { i, d throws(ONNXError) -> Int in
                if d == 0 && node.int("allowzero") != 1 {
                    guard i < x.count else { throw ONNXError(node: node, "dimension \(i) copies a dimension the input lacks") }
                    return x[i]
                }
                guard d >= -1 else { throw ONNXError(node: node, "shape holds \(d)") }
                return d
            }
            guard shape.count <= limits.rank else { throw ONNXError(node: node, "shape has \(shape.count) dimensions") }
            var known = 1
            for d in shape where d != -1 {
                let (result, overflow) = known.multipliedReportingOverflow(by: d)
                guard !overflow, result <= limits.tensorElements else { throw ONNXError(node: node, "shape \(shape) is too large") }
                known = result
            }
            if let open = shape.firstIndex(of: -1) {
                guard shape.filter({ $0 == -1 }).count == 1, known > 0, count % known == 0 else {
                    throw ONNXError(node: node, "shape \(shape) cannot hold the input's \(count) values (shape \(x))")
                }
                shape[open] = count / known
            }
            guard shape.reduce(1, *) == count else {
                throw ONNXError(node: node, "shape \(shape) holds \(shape.reduce(1, *)) values, the input \(count) (shape \(x)); a batch fixed in the export? Export with a dynamic batch")
            }
            return [shape]
        case "Expand":
            guard let shape = TensorMath.broadcast(try input(0), node.ints("shape")!) else {
                throw ONNXError(node: node, "shape \(try input(0)) does not expand to \(node.ints("shape")!)")
            }
            return [shape]
        case "Transpose":
            let x = try input(0), perm = node.ints("perm")!
            guard perm.sorted() == Array(0..<x.count) else { throw ONNXError(node: node, "perm \(perm) for \(x.count) dimensions") }
            return [perm.map { x[$0] }]
        case "Squeeze":
            let x = try input(0)
            let axes = Set((node.ints("axes") ?? x.indices.filter { x[$0] == 1 }).map { $0 < 0 ? $0 + x.count : $0 })
            guard axes.allSatisfy({ $0 >= 0 && $0 < x.count && x[$0] == 1 }) else { throw ONNXError(node: node, "squeezes axes \(axes.sorted()) of shape \(x)") }
            return [x.enumerated().filter { !axes.contains($0.offset) }.map(\.element)]
        case "Unsqueeze":
            let x = try input(0), axes = node.ints("axes") ?? [], rank = x.count + axes.count
            let positions = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
            guard positions.count == axes.count, positions.allSatisfy({ $0 >= 0 && $0 < rank }), rank <= limits.rank else {
                throw ONNXError(node: node, "unsqueezes axes \(axes) of shape \(x)")
            }
            var rest = x.makeIterator()
            return [(0..<rank).map { positions.contains($0) ? 1 : rest.next()! }]
        case "Concat":
            let parts = try inputs.indices.map { i throws(ONNXError) in try input(i) }, axis = node.int("axis")!
            guard let first = parts.first, parts.allSatisfy({ $0.count == first.count && axis < $0.count }),
                  parts.allSatisfy({ p in p.indices.allSatisfy { $0 == axis || p[$0] == first[$0] } }) else {
                throw ONNXError(node: node, "shapes \(parts) do not join on axis \(axis)")
            }
            var shape = first
            shape[axis] = parts.reduce(0) { $0 + $1[axis] }
            return [shape]
        case "Slice":
            return [Normalized.sliceRanges(node, try input(0)).map(\.count)]
        case "Gather":
            let x = try input(0), indices = try input(1), axis = node.int("axis")!
            guard axis < x.count else { throw ONNXError(node: node, "gathers on axis \(axis) of shape \(x)") }
            if let given = node.input(1).flatMap({ constants[$0] }),
               let bad = given.integers.first(where: { $0 < -Int64(x[axis]) || $0 >= Int64(x[axis]) }) {
                throw ONNXError(node: node, "index \(bad) is outside axis \(axis) of shape \(x)")
            }
            return [Array(x[..<axis]) + indices + Array(x[(axis + 1)...])]
        case "Split":
            let x = try input(0), axis = node.int("axis")!, split = node.ints("split") ?? []
            guard split.reduce(0, +) == x[axis], split.allSatisfy({ $0 >= 0 }), split.count == node.outputs.count else {
                throw ONNXError(node: node, "sizes \(split) do not split \(x[axis]) into \(node.outputs.count) outputs")
            }
            return split.map { var s = x; s[axis] = $0; return s }
        case "Pad":
            let x = try input(0), pads = node.ints("pads")!
            return [x.indices.map { x[$0] + pads[$0] + pads[$0 + x.count] }]
        case "Gemm":
            let a = try input(0), b = try input(1)
            guard a.count == 2, b.count == 2 else { throw ONNXError(node: node, "Gemm of shapes \(a) and \(b)") }
            let (m, k) = node.int("transA") == 1 ? (a[1], a[0]) : (a[0], a[1])
            let (k2, n) = node.int("transB") == 1 ? (b[1], b[0]) : (b[0], b[1])
            guard k == k2 else { throw ONNXError(node: node, "Gemm of shapes \(a) and \(b) (inner sizes \(k) and \(k2))") }
            return [[m, n]]
        case "MatMul":
            let a = try input(0), b = try input(1)
            guard !a.isEmpty, !b.isEmpty else { throw ONNXError(node: node, "MatMul of a scalar") }
            let a2 = a.count == 1 ? [1] + a : a, b2 = b.count == 1 ? b + [1] : b
            guard a2.last == b2[b2.count - 2], let batch = TensorMath.broadcast(Array(a2.dropLast(2)), Array(b2.dropLast(2))) else {
                throw ONNXError(node: node, "MatMul of shapes \(a) and \(b)")
            }
            return [batch + (a.count == 1 ? [] : [a2[a2.count - 2]]) + (b.count == 1 ? [] : [b2.last!])]
        case "ConstantOfShape":
            guard let shape = node.input(0).flatMap({ constants[$0] }) else { return [[]] }  // refused below: not foldable
            guard shape.count <= limits.rank else { throw ONNXError(node: node, "shape of \(shape.count) dimensions") }
            return [shape.integers.map { Int(clamping: $0) }]
        case "Range":
            guard let start = node.input(0).flatMap({ constants[$0] }), let end = node.input(1).flatMap({ constants[$0] }),
                  let delta = node.input(2).flatMap({ constants[$0] }), start.count == 1, end.count == 1, delta.count == 1,
                  delta.floats[0] != 0 else { return [[]] }
            let count = ((Double(end.floats[0]) - Double(start.floats[0])) / Double(delta.floats[0])).rounded(.up)
            return [[Int(max(0, min(Double(limits.dimension + 1), count)))]]
        case "Constant", "Shape":
            return [[]]  // replaced by the value's own shape
        default:
            throw ONNXError(node: node, "no shape rule for \(node.op)")
        }
    }

    /// Height and width after a window (convolution or pooling) with the node's explicit pads; with `ceil`, a
    /// last window that would start in the end padding is dropped, as ONNX and PyTorch define.
    private func windowOutput(_ node: ONNXNode, _ x: [Int], ceil: Bool) throws(ONNXError) -> [Int] {
        guard x.count == 4 else { throw ONNXError(node: node, "input of shape \(x): only [N, C, H, W] is supported") }
        let kernel = node.ints("kernel_shape")!, strides = node.ints("strides")!, dilations = node.ints("dilations")!, pads = node.ints("pads")!
        return try (0..<2).map { axis throws(ONNXError) -> Int in
            let extent = dilations[axis] * (kernel[axis] - 1) + 1
            let room = x[axis + 2] + pads[axis] + pads[axis + 2] - extent
            guard room >= 0 else { throw ONNXError(node: node, "a window of \(extent) does not fit an input of \(x[axis + 2]) with pads \(pads)") }
            var out = (ceil ? (room + strides[axis] - 1) / strides[axis] : room / strides[axis]) + 1
            if ceil, (out - 1) * strides[axis] >= x[axis + 2] + pads[axis] { out -= 1 }
            return out
        }
    }
}
