import Engine
import ONNXModel

/// An ONNX graph (read and simplified by ONNXModel) as an engine network: the classifier at its end split off as
/// the model's head (the last MatMul or Gemm on constant weights, with its bias; a softmax after it is the
/// predictor's own), the rest as `GraphSpec` steps over NHWC values. Layouts are decided here, once: each ONNX
/// value is placed in an engine value with a permutation (`Placement`), so transposes that only relabel axes
/// become nothing, and a real copy is made only where an operator needs another order. `StepFusion` then
/// folds batch norm, bias and activations into the convolutions and padding into windows.
struct GraphConversion {
    struct Result {
        var spec: GraphSpec
        var weights: [[[Float]]]
        /// [features, classes] and [classes]; empty, with no classes, when the features are not what the network's
        /// own classifier reads (`--features`) or it has none.
        var headWeight: [Float]
        var headBias: [Float]
        var classes: Int
        /// The ONNX input is [N, C, H, W] (else [N, H, W, C]).
        var channelsFirst: Bool
    }

    /// Where an ONNX value is: its engine value and which logical axis each physical axis holds.
    struct Placement {
        var value: Int
        var perm: [Int]
    }

    let graph: ONNXGraph
    private var placed: [String: Placement] = [:]
    private var steps: [EmittedStep] = []
    private var shapes: [Int: [Int]] = [:]
    private var nextValue = 1

    init(_ graph: ONNXGraph) { self.graph = graph }

    /// `features` names the value (or the node whose output it is) that holds the features: by default what the
    /// network's classifier reads.
    static func convert(_ graph: ONNXGraph, features: String? = nil) throws(ONNXError) -> Result {
        var conversion = GraphConversion(graph)
        return try conversion.run(features: features)
    }

    private mutating func run(features requested: String?) throws(ONNXError) -> Result {
        let classifier: Head?
        do { classifier = try Head.find(in: graph) } catch {
            guard requested != nil else {
                throw ONNXError(problem: error.problem + "; give --features VALUE, the value (or node) whose output holds the features, such as the graph's output \(graph.output)")
            }
            classifier = nil
        }
        let featuresName = try requested.map { name throws(ONNXError) in try Self.value(named: name, in: graph) } ?? classifier!.features
        // The network's own classifier stays only on what it reads.
        let head = classifier?.features == featuresName ? classifier : nil
        let input = graph.inputShape
        let channelsFirst = input[1] == 3
        guard channelsFirst || input[3] == 3 else {
            throw ONNXError(problem: "input \(graph.input) has shape \(input): imgcls feeds networks RGB images (3 channels)")
        }
        guard input[channelsFirst ? 2 : 1] == input[channelsFirst ? 3 : 2] else {
            throw ONNXError(problem: "input \(graph.input) is \(input): imgcls feeds networks square images")
        }
        placed[graph.input] = Placement(value: 0, perm: channelsFirst ? [0, 2, 3, 1] : [0, 1, 2, 3])
        shapes[0] = channelsFirst ? [1, input[2], input[3], 3] : input

        let needed = Self.nodesNeeded(for: featuresName, in: graph)
        for node in graph.nodes where needed.contains(node.outputs[0]) { try emit(node) }

        // The features as [1, F] in memory order: what the classifier reads as it is, a value named by --features pooled.
        let features = requested == nil ? try require(featuresName, perm: identity(logicalShape(featuresName).count))
            : try pooled(featuresName, channelsFirst: channelsFirst)
        let width = shapes[features]!.reduce(1, *)
        if let head, width != head.weight.count / head.classes {
            throw ONNXError(problem: "the features \(head.features) hold \(width) values; the classifier takes \(head.weight.count / head.classes)")
        }
        var output = features
        if shapes[features]! != [1, width] { output = append(.reshape, inputs: [features], shape: [1, width]) }

        let fused = StepFusion.fuse(steps, output: output)
        let spec = GraphSpec(inputShape: shapes[0]!, steps: fused.map(\.step), output: output, featureWidth: width)
        if let problem = spec.problem { throw ONNXError(problem: "the converted network does not check: \(problem)") }
        return Result(spec: spec, weights: fused.map(\.weights), headWeight: head?.weight ?? [], headBias: head?.bias ?? [],
                      classes: head?.classes ?? 0, channelsFirst: channelsFirst)
    }

    /// The value `name` names: a value, or the node whose (first) output it is.
    static func value(named name: String, in graph: ONNXGraph) throws(ONNXError) -> String {
        if graph.shapes[name] != nil, graph.constants[name] == nil, name != graph.input { return name }
        if let node = graph.nodes.first(where: { $0.name == name }) { return node.outputs[0] }
        let some = graph.nodes.suffix(6).map { "\($0.outputs[0]) (from \($0.label))" }.joined(separator: ", ")
        throw ONNXError(problem: "--features \(name): no value or node of that name in the graph; its last values are \(some)")
    }

    /// One image's features from the value `name`: a vector as it is, a feature map [1, C, H, W] (or [1, H, W, C]
    /// in a channels-last network) averaged over its positions, a sequence of tokens [1, T, C] its first (the
    /// class token of ViT and DINOv2).
    private mutating func pooled(_ name: String, channelsFirst: Bool) throws(ONNXError) -> Int {
        let shape = try logicalShape(name)
        switch shape.count {
        case 2 where shape[0] == 1:
            return try require(name, perm: identity(2))
        case 3 where shape[0] == 1:
            let tokens = try require(name, perm: identity(3))
            return append(.gather(axis: 1, indices: [0]), inputs: [tokens], shape: [1, 1, shape[2]])
        case 4 where shape[0] == 1:
            let map = try require(name, perm: channelsFirst ? Self.nhwc : identity(4))
            return append(.reduce(.mean, axes: [1, 2]), inputs: [map], shape: [1, channelsFirst ? shape[1] : shape[3]])
        default:
            throw ONNXError(problem: "--features \(name) has shape \(shape): features are a vector [1, C], a feature map [1, C, H, W] or tokens [1, T, C]")
        }
    }

    /// The ONNX values the features need (the outputs of the nodes that lead to them).
    static func nodesNeeded(for value: String, in graph: ONNXGraph) -> Set<String> {
        var producers: [String: ONNXNode] = [:]
        for node in graph.nodes { for output in node.outputs { producers[output] = node } }
        var needed = Set<String>(), pending = [value]
        while let name = pending.popLast() {
            guard let node = producers[name], needed.insert(node.outputs[0]).inserted else { continue }
            pending += node.inputs.filter { !$0.isEmpty }
        }
        return needed
    }

    // MARK: Values and layouts

    private func identity(_ rank: Int) -> [Int] { Array(0..<rank) }

    private func logicalShape(_ name: String) throws(ONNXError) -> [Int] {
        guard let shape = graph.shapes[name] else { throw ONNXError(problem: "value \(name) has no shape") }
        return shape
    }

    /// Two orders of one shape put the same values in the same memory when its non-unit axes come in the same order.
    private func sameMemory(_ a: [Int], _ b: [Int], logical: [Int]) -> Bool {
        a.filter { logical[$0] != 1 } == b.filter { logical[$0] != 1 }
    }

    /// `name`'s engine value in the order `perm`, copied by a transpose step when it is in another.
    private mutating func require(_ name: String, perm: [Int]) throws(ONNXError) -> Int {
        guard let placement = placed[name] else {
            if graph.constants[name] != nil { return try constantValue(name, perm: perm) }
            throw ONNXError(problem: "value \(name) is read before it is computed")
        }
        let logical = try logicalShape(name)
        if sameMemory(placement.perm, perm, logical: logical) {
            if placement.perm == perm { return placement.value }
            return append(.reshape, inputs: [placement.value], shape: perm.map { logical[$0] })
        }
        let physical = perm.map { axis in placement.perm.firstIndex(of: axis)! }
        return append(.transpose(perm: physical), inputs: [placement.value], shape: perm.map { logical[$0] })
    }

    /// A constant laid out for a value of `rank` in the order `perm`: ones prepended to its rank (broadcasting),
    /// then its axes reordered.
    private func constantLayout(_ name: String, rank: Int, perm: [Int]) throws(ONNXError) -> (shape: [Int], values: [Float]) {
        let tensor = graph.constants[name]!
        guard tensor.shape.count <= rank else { throw ONNXError(problem: "constant \(name) has more dimensions than the value it meets") }
        let shape = [Int](repeating: 1, count: rank - tensor.shape.count) + tensor.shape
        let physicalShape = perm.map { shape[$0] }
        if sameMemory(perm, identity(rank), logical: shape) { return (physicalShape, tensor.floats) }
        var values = [Float](repeating: 0, count: tensor.count)
        let strides = RowMajor.strides(shape)
        var position = 0
        RowMajor.forEachIndex(physicalShape) { index in
            values[position] = tensor.floats[zip(index, perm).reduce(0) { $0 + $1.0 * strides[$1.1] }]
            position += 1
        }
        return (physicalShape, values)
    }

    private mutating func constantValue(_ name: String, perm: [Int]) throws(ONNXError) -> Int {
        let (shape, values) = try constantLayout(name, rank: max(perm.count, graph.constants[name]!.shape.count), perm: perm)
        return append(.constant, inputs: [], shape: shape, weights: [values], weightShapes: [shape])
    }

    private mutating func append(_ op: GraphOp, inputs: [Int], shape: [Int], weights: [[Float]] = [], weightShapes: [[Int]] = []) -> Int {
        let value = nextValue
        nextValue += 1
        steps.append(EmittedStep(step: GraphStep(op, inputs: inputs, output: value, shape: shape, weights: weightShapes), weights: weights))
        shapes[value] = shape
        return value
    }

    private mutating func place(_ name: String, _ value: Int, perm: [Int]) {
        placed[name] = Placement(value: value, perm: perm)
    }

    // MARK: Operators

    private static let nhwc = [0, 2, 3, 1]

    private mutating func emit(_ node: ONNXNode) throws(ONNXError) {
        let out = node.outputs[0]
        let outShape = try logicalShape(out)
        switch node.op {
        case "Conv":
            let x = try require(node.inputs[0], perm: Self.nhwc)
            let w = graph.constants[node.inputs[1]]!
            let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
            // ONNX [M, C/g, kh, kw] to the engine's [kh, kw, C/g, M], once.
            var filter = [Float](repeating: 0, count: w.count)
            let source = w.floats
            for o in 0..<m { for c in 0..<cg { for y in 0..<kh { for xx in 0..<kw {
                filter[((y * kw + xx) * cg + c) * m + o] = source[((o * cg + c) * kh + y) * kw + xx]
            } } } }
            var weights = [filter], weightShapes = [[kh, kw, cg, m]]
            if let bias = node.input(2) { weights.append(graph.constants[bias]!.floats); weightShapes.append([m]) }
            let window = Window(kernel: node.ints("kernel_shape")!, strides: node.ints("strides")!, dilations: node.ints("dilations")!,
                                pads: node.ints("pads")!)
            let value = append(.convolution(window, groups: node.int("group")!, cap: nil), inputs: [x],
                               shape: Self.nhwc.map { outShape[$0] }, weights: weights, weightShapes: weightShapes)
            place(out, value, perm: Self.nhwc)
        case "MaxPool", "AveragePool":
            let x = try require(node.inputs[0], perm: Self.nhwc)
            let window = Window(kernel: node.ints("kernel_shape")!, strides: node.ints("strides")!, dilations: node.ints("dilations")!,
                                pads: node.ints("pads")!)
            let op: GraphOp = node.op == "MaxPool" ? .maxPool(window) : .averagePool(window, countsPadding: node.int("count_include_pad") == 1)
            place(out, append(op, inputs: [x], shape: Self.nhwc.map { outShape[$0] }), perm: Self.nhwc)
        case "GlobalAveragePool", "GlobalMaxPool":
            let x = try require(node.inputs[0], perm: Self.nhwc)
            place(out, append(.reduce(node.op == "GlobalAveragePool" ? .mean : .max, axes: [1, 2]), inputs: [x],
                              shape: Self.nhwc.map { outShape[$0] }), perm: Self.nhwc)
        case "BatchNormalization":
            let p = placed[node.inputs[0]]?.perm ?? identity(outShape.count)
            let x = try require(node.inputs[0], perm: p)
            let (gamma, beta, mean, variance) = (graph.constants[node.inputs[1]]!.floats, graph.constants[node.inputs[2]]!.floats,
                                                 graph.constants[node.inputs[3]]!.floats, graph.constants[node.inputs[4]]!.floats)
            let epsilon = node.float("epsilon")!
            let scale = gamma.indices.map { gamma[$0] / (variance[$0] + epsilon).squareRoot() }
            let shift = gamma.indices.map { beta[$0] - mean[$0] * scale[$0] }
            // A per-channel constant along logical axis 1, laid out like x.
            var channelShape = [Int](repeating: 1, count: outShape.count)
            channelShape[1] = outShape[1]
            let physical = p.map { channelShape[$0] }
            let scaled = append(.binary(.multiply, constantFirst: false), inputs: [x], shape: shapes[x]!, weights: [scale], weightShapes: [physical])
            place(out, append(.binary(.add, constantFirst: false), inputs: [scaled], shape: shapes[x]!, weights: [shift], weightShapes: [physical]), perm: p)
        case "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Tanh", "Erf", "Sqrt", "Exp", "Neg", "Reciprocal", "Abs", "Gelu":
            let p = placed[node.inputs[0]]?.perm ?? identity(outShape.count)
            let x = try require(node.inputs[0], perm: p)
            place(out, append(.unary(try Self.unary(node)), inputs: [x], shape: shapes[x]!), perm: p)
        case "Add", "Sub", "Mul", "Div", "Pow":
            try emitBinary(node, outShape)
        case "ReduceMean", "ReduceSum", "ReduceMax":
            let axes = node.ints("axes")!
            var p = placed[node.inputs[0]]?.perm ?? identity(outShape.count)
            var physical = p.indices.filter { axes.contains(p[$0]) }
            if physical.count > 1, physical.last! - physical.first! != physical.count - 1 {
                p = identity(p.count)
                physical = axes
            }
            guard physical.isEmpty || physical.last! - physical.first! == physical.count - 1 else {
                throw ONNXError(node: node, "reduces axes \(axes) that are not next to each other")
            }
            let x = try require(node.inputs[0], perm: p)
            let kind: ReduceKind = node.op == "ReduceMean" ? .mean : node.op == "ReduceSum" ? .sum : .max
            let keep = node.int("keepdims") == 1
            let inShape = shapes[x]!
            let shape = keep ? inShape.indices.map { physical.contains($0) ? 1 : inShape[$0] } : inShape.indices.filter { !physical.contains($0) }.map { inShape[$0] }
            let outPerm = keep ? p : p.filter { !axes.contains($0) }.map { a in a - axes.filter { $0 < a }.count }
            place(out, physical.isEmpty ? x : append(.reduce(kind, axes: physical), inputs: [x], shape: shape), perm: outPerm)
        case "Flatten", "Reshape", "Squeeze", "Unsqueeze":
            let x = try require(node.inputs[0], perm: identity(try logicalShape(node.inputs[0]).count))
            place(out, append(.reshape, inputs: [x], shape: outShape), perm: identity(outShape.count))
        case "Transpose":
            let t = node.ints("perm")!
            guard let placement = placed[node.inputs[0]] else { throw ONNXError(node: node, "it transposes a constant that was not folded") }
            var inverse = [Int](repeating: 0, count: t.count)
            for (i, a) in t.enumerated() { inverse[a] = i }
            place(out, placement.value, perm: placement.perm.map { inverse[$0] })
        case "Gemm", "MatMul":
            try emitProduct(node, outShape)
        case "Softmax":
            let axis = node.int("axis")!
            if node.int("coerced") == 1 && axis < outShape.count - 1 {
                let x = try require(node.inputs[0], perm: identity(outShape.count))
                place(out, append(.softmax(axis: axis, trailing: true), inputs: [x], shape: outShape), perm: identity(outShape.count))
            } else {
                let p = placed[node.inputs[0]]?.perm ?? identity(outShape.count)
                let x = try require(node.inputs[0], perm: p)
                place(out, append(.softmax(axis: p.firstIndex(of: axis)!, trailing: false), inputs: [x], shape: shapes[x]!), perm: p)
            }
        case "LayerNormalization":
            let axis = node.int("axis")!
            let x = try require(node.inputs[0], perm: identity(outShape.count))
            let size = outShape[axis...].reduce(1, *)
            let scale = graph.constants[node.inputs[1]]!.floats
            let bias = node.input(2).map { graph.constants[$0]!.floats } ?? [Float](repeating: 0, count: size)
            place(out, append(.layerNormalization(size: size, epsilon: node.float("epsilon")!), inputs: [x], shape: outShape,
                              weights: [scale, bias], weightShapes: [[size], [size]]), perm: identity(outShape.count))
        case "Concat":
            let axis = node.int("axis")!
            let p = node.inputs.compactMap { placed[$0]?.perm }.first ?? identity(outShape.count)
            var values: [Int] = []
            for input in node.inputs { values.append(try require(input, perm: p)) }
            place(out, append(.concat(axis: p.firstIndex(of: axis)!), inputs: values, shape: p.map { outShape[$0] }), perm: p)
        case "Slice":
            let p = placed[node.inputs[0]]?.perm ?? identity(outShape.count)
            let x = try require(node.inputs[0], perm: p)
            let ranges = node.sliceRanges(of: try logicalShape(node.inputs[0]))
            place(out, append(.slice(starts: p.map { ranges[$0].start }, counts: p.map { ranges[$0].count }, steps: p.map { ranges[$0].step }),
                              inputs: [x], shape: p.map { outShape[$0] }), perm: p)
        case "Split":
            let axis = node.int("axis")!
            let p = placed[node.inputs[0]]?.perm ?? identity(outShape.count)
            let x = try require(node.inputs[0], perm: p)
            let inShape = try logicalShape(node.inputs[0])
            var start = 0
            for (output, size) in zip(node.outputs, node.ints("split")!) {
                let starts = p.map { $0 == axis ? start : 0 }, counts = p.map { $0 == axis ? size : inShape[$0] }
                place(output, append(.slice(starts: starts, counts: counts, steps: p.map { _ in 1 }), inputs: [x], shape: counts), perm: p)
                start += size
            }
        case "Gather":
            let axis = node.int("axis")!
            let indicesTensor = graph.constants[node.inputs[1]]!
            let size = try logicalShape(node.inputs[0])[axis]
            let indices = indicesTensor.integers.map { Int($0 < 0 ? $0 + Int64(size) : $0) }
            guard indicesTensor.shape.count <= 1 else { throw ONNXError(node: node, "it gathers with indices of shape \(indicesTensor.shape)") }
            let p = placed[node.inputs[0]]?.perm ?? identity(outShape.count)
            let x = try require(node.inputs[0], perm: p)
            let j = p.firstIndex(of: axis)!
            var shape = shapes[x]!
            var outPerm = p
            if indicesTensor.shape.isEmpty {
                shape.remove(at: j)
                outPerm = p.filter { $0 != axis }.map { $0 > axis ? $0 - 1 : $0 }
            } else {
                shape[j] = indices.count
            }
            place(out, append(.gather(axis: j, indices: indices), inputs: [x], shape: shape), perm: outPerm)
        case "Pad":
            let pads = node.ints("pads")!
            let rank = outShape.count
            let p = placed[node.inputs[0]]?.perm ?? identity(rank)
            let x = try require(node.inputs[0], perm: p)
            var value = node.float("value")!
            if node.string("mode") == "edge" {
                // Equal to -infinity padding for a max pool whose window is wider than the padding (every window
                // that reaches the border also covers the edge it repeats).
                let readers = graph.readers(of: out)
                guard !readers.isEmpty, readers.allSatisfy({ r in r.op == "MaxPool" && pads.allSatisfy { $0 < (r.ints("kernel_shape")!.min() ?? 0) } }) else {
                    throw ONNXError(node: node, "edge padding is supported only before a max pool wider than it")
                }
                value = -.infinity
            }
            place(out, append(.pad(before: p.map { pads[$0] }, after: p.map { pads[$0 + rank] }, value: value), inputs: [x],
                              shape: p.map { outShape[$0] }), perm: p)
        default:
            throw ONNXError(node: node, "imgcls cannot run \(node.op) on the image yet")
        }
    }

    private static func unary(_ node: ONNXNode) throws(ONNXError) -> UnaryFunction {
        switch node.op {
        case "Relu": return .relu
        case "Clip": return .clip(low: node.float("min")!, high: node.float("max")!)
        case "Sigmoid": return .sigmoid
        case "HardSigmoid": return .hardSigmoid(alpha: node.float("alpha") ?? 0.2, beta: node.float("beta") ?? 0.5)
        case "HardSwish": return .hardSwish
        case "LeakyRelu": return .leakyRelu(alpha: node.float("alpha") ?? 0.01)
        case "Tanh": return .tanh
        case "Erf": return .erf
        case "Sqrt": return .sqrt
        case "Exp": return .exp
        case "Neg": return .negate
        case "Reciprocal": return .reciprocal
        case "Abs": return .absolute
        default: return .gelu(tanh: node.string("approximate") == "tanh")
        }
    }

    private mutating func emitBinary(_ node: ONNXNode, _ outShape: [Int]) throws(ONNXError) {
        let function: BinaryFunction = switch node.op {
        case "Add": .add
        case "Sub": .subtract
        case "Mul": .multiply
        case "Div": .divide
        default: .power
        }
        let (a, b) = (node.inputs[0], node.inputs[1])
        let rank = outShape.count
        let constantA = graph.constants[a] != nil, constantB = graph.constants[b] != nil
        if constantA != constantB {
            let (dynamic, constant) = constantA ? (b, a) : (a, b)
            let dynamicRank = try logicalShape(dynamic).count
            let p = dynamicRank == rank ? placed[dynamic]?.perm ?? identity(rank) : identity(rank)
            var x = try require(dynamic, perm: dynamicRank == rank ? p : identity(dynamicRank))
            if dynamicRank != rank { x = append(.reshape, inputs: [x], shape: [Int](repeating: 1, count: rank - dynamicRank) + shapes[x]!) }
            let (shape, values) = try constantLayout(constant, rank: rank, perm: p)
            place(node.outputs[0], append(.binary(function, constantFirst: constantA), inputs: [x], shape: p.map { outShape[$0] },
                                          weights: [values], weightShapes: [shape]), perm: p)
            return
        }
        let (rankA, rankB) = (try logicalShape(a).count, try logicalShape(b).count)
        let p = rankA == rank ? placed[a]?.perm ?? identity(rank) : rankB == rank ? placed[b]?.perm ?? identity(rank) : identity(rank)
        func operand(_ name: String, _ r: Int) throws(ONNXError) -> Int {
            if r == rank { return try require(name, perm: p) }
            guard sameMemory(p, identity(rank), logical: outShape) || p == identity(rank) else {
                throw ONNXError(node: node, "it broadcasts a lower-rank value against a transposed one")
            }
            let x = try require(name, perm: identity(r))
            return append(.reshape, inputs: [x], shape: [Int](repeating: 1, count: rank - r) + shapes[x]!)
        }
        let x = try operand(a, rankA), y = try operand(b, rankB)
        place(node.outputs[0], append(.binary(function, constantFirst: false), inputs: [x, y], shape: p.map { outShape[$0] }), perm: p)
    }

    private mutating func emitProduct(_ node: ONNXNode, _ outShape: [Int]) throws(ONNXError) {
        let (a, b) = (node.inputs[0], node.inputs[1])
        guard graph.constants[a] == nil else { throw ONNXError(node: node, "its left operand is a constant") }
        let aShape = try logicalShape(a)
        if let weight = graph.constants[b] {
            guard weight.shape.count == 2, node.int("transA") != 1 else {
                throw ONNXError(node: node, "a product with weights of shape \(weight.shape)\(node.int("transA") == 1 ? ", transposed input" : "") is not supported")
            }
            let (matrix, k, n) = Head.matrix(node, weight)
            guard aShape.last == k else { throw ONNXError(node: node, "input \(aShape) for weights \(weight.shape)") }
            var weights = [matrix], weightShapes = [[k, n]]
            if node.op == "Gemm", let c = node.input(2) {
                guard let bias = graph.constants[c], bias.count == n || bias.count == 1 else { throw ONNXError(node: node, "its bias is not a constant of \(n)") }
                let beta = node.float("beta")!
                weights.append(bias.count == n ? bias.floats.map { $0 * beta } : [Float](repeating: bias.floats[0] * beta, count: n))
                weightShapes.append([n])
            }
            let x = try require(a, perm: identity(aShape.count))
            place(node.outputs[0], append(.dense, inputs: [x], shape: outShape, weights: weights, weightShapes: weightShapes), perm: identity(outShape.count))
            return
        }
        guard node.op == "MatMul", aShape.count >= 2, try logicalShape(b).count >= 2 else {
            throw ONNXError(node: node, "a product of two computed values of these shapes is not supported")
        }
        let x = try require(a, perm: identity(aShape.count)), y = try require(b, perm: identity(try logicalShape(b).count))
        place(node.outputs[0], append(.matMul, inputs: [x, y], shape: outShape), perm: identity(outShape.count))
    }
}

/// A step with its weights' values, while the conversion builds and fuses them.
struct EmittedStep {
    var step: GraphStep
    var weights: [[Float]]
}
