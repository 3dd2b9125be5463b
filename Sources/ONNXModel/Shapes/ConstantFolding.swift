import Foundation

/// Operators computed at import when every input they read is a constant: the shape arithmetic exporters write
/// (Shape, Gather, Slice, Concat, Unsqueeze, ConstantOfShape, Cast, Reshape, ...) and arithmetic on weights.
/// `ShapeInference` has already moved parameter inputs into attributes (`Normalized`).
enum ConstantFolding {
    static let foldable: Set<String> = [
        "Constant", "Identity", "Dropout", "Cast", "Shape", "Gather", "Slice", "Squeeze", "Unsqueeze", "Reshape",
        "Flatten", "Transpose", "Concat", "Expand", "ConstantOfShape", "Range", "Add", "Sub", "Mul", "Div", "Pow",
        "Min", "Max", "Mod", "Equal", "Where", "Sqrt", "Neg", "Reciprocal", "Floor", "Ceil", "Abs", "Exp",
    ]

    /// The node's outputs, or nil when it is not one that folds. `inputs` are the node's inputs (nil: left out),
    /// `outputShapes` what shape inference found for them.
    static func fold(_ node: ONNXNode, _ inputs: [ONNXTensor?], outputShapes: [[Int]]) throws(ONNXError) -> ONNXTensor? {
        let x = inputs.first ?? nil
        func reshaped(_ t: ONNXTensor) -> ONNXTensor {
            var t = t
            t.shape = outputShapes[0]
            return t
        }
        switch node.op {
        case "Constant":
            if case let .tensor(t)? = node.attributes["value"] { return t }
            if let f = node.float("value_float") { return ONNXTensor(shape: [], floats: [f]) }
            if case let .floats(f)? = node.attributes["value_floats"] { return ONNXTensor(shape: [f.count], floats: f) }
            if case let .int(i)? = node.attributes["value_int"] { return ONNXTensor(shape: [], integers: [i]) }
            if case let .ints(i)? = node.attributes["value_ints"] { return ONNXTensor(shape: [i.count], integers: i) }
            throw ONNXError(node: node, "a Constant with no value of a supported kind")
        case "Identity", "Dropout", "Squeeze", "Unsqueeze", "Reshape", "Flatten":
            return x.map(reshaped)
        case "Cast":
            guard let x, let to = node.int("to") else { return nil }
            // 1 float, 10 float16, 11 double, 16 bfloat16: floating point; 9 bool; the rest integers.
            if [1, 10, 11, 16].contains(to) { return ONNXTensor(shape: x.shape, floats: x.floats) }
            if to == 9 { return ONNXTensor(shape: x.shape, integers: x.floats.map { $0 != 0 ? 1 : 0 }) }
            return ONNXTensor(shape: x.shape, integers: x.integers)
        case "Gather":
            guard let x, let indices = inputs[1] else { return nil }
            let axis = node.int("axis")!
            return TensorMath.gather(x, axis: axis, indices: indices.integers.map { Int($0 < 0 ? $0 + Int64(x.shape[axis]) : $0) },
                                     indicesShape: indices.shape)
        case "Slice":
            guard let x else { return nil }
            return TensorMath.slice(x, Normalized.sliceRanges(node, x.shape))
        case "Transpose":
            return x.map { TensorMath.transpose($0, node.ints("perm")!) }
        case "Concat":
            let parts = inputs.compactMap { $0 }.filter { $0.count > 0 }
            guard parts.count == inputs.compactMap({ $0 }).count || !parts.isEmpty else { return nil }
            return parts.isEmpty ? ONNXTensor(shape: outputShapes[0], integers: []) : reshaped(TensorMath.concat(parts, axis: node.int("axis")!))
        case "Expand":
            guard let x else { return nil }
            return TensorMath.take(x, TensorMath.broadcastOffsets(from: x.shape, to: outputShapes[0]), shape: outputShapes[0])
        case "ConstantOfShape":
            let count = outputShapes[0].reduce(1, *)
            if case let .tensor(value)? = node.attributes["value"], value.count == 1 {
                return value.isInteger ? ONNXTensor(shape: outputShapes[0], integers: .init(repeating: value.integers[0], count: count))
                                       : ONNXTensor(shape: outputShapes[0], floats: .init(repeating: value.floats[0], count: count))
            }
            return ONNXTensor(shape: outputShapes[0], floats: .init(repeating: 0, count: count))
        case "Range":
            guard let start = x, inputs[1] != nil, let delta = inputs[2] else { return nil }
            let (a, d) = (Double(start.floats[0]), Double(delta.floats[0]))
            let values = (0..<outputShapes[0][0]).map { a + Double($0) * d }
            return start.isInteger ? ONNXTensor(shape: outputShapes[0], integers: values.map { Int64($0) })
                                   : ONNXTensor(shape: outputShapes[0], floats: values.map { Float($0) })
        case "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Mod", "Equal":
            guard let a = x, let b = inputs[1] else { return nil }
            let op: (Double, Double) -> Double = switch node.op {
            case "Add": (+)
            case "Sub": (-)
            case "Mul": (*)
            case "Div": { $1 == 0 && a.isInteger ? 0 : $0 / $1 }
            case "Pow": { pow($0, $1) }
            case "Min": { min($0, $1) }
            case "Max": { max($0, $1) }
            // fmod 0: the remainder takes the divisor's sign (Python's %); fmod 1: the dividend's (C's fmod).
            case "Mod" where node.int("fmod") == 1: { $1 == 0 ? 0 : fmod($0, $1) }
            case "Mod": { $1 == 0 ? 0 : $0 - ($0 / $1).rounded(.down) * $1 }
            default: { $0 == $1 ? 1 : 0 }
            }
            guard var result = TensorMath.elementwise(a, b, op) else { return nil }
            if node.op == "Equal" { result = ONNXTensor(shape: result.shape, integers: result.integers) }
            return result
        case "Where":
            guard let condition = x, let a = inputs[1], let b = inputs[2] else { return nil }
            let shape = outputShapes[0]
            let (ic, ia, ib) = (TensorMath.broadcastOffsets(from: condition.shape, to: shape),
                                TensorMath.broadcastOffsets(from: a.shape, to: shape), TensorMath.broadcastOffsets(from: b.shape, to: shape))
            let c = condition.integers
            if a.isInteger && b.isInteger {
                let (va, vb) = (a.integers, b.integers)
                return ONNXTensor(shape: shape, integers: (0..<ic.count).map { c[ic[$0]] != 0 ? va[ia[$0]] : vb[ib[$0]] })
            }
            let (va, vb) = (a.floats, b.floats)
            return ONNXTensor(shape: shape, floats: (0..<ic.count).map { c[ic[$0]] != 0 ? va[ia[$0]] : vb[ib[$0]] })
        case "Sqrt", "Neg", "Reciprocal", "Floor", "Ceil", "Abs", "Exp":
            guard let x else { return nil }
            if x.isInteger && ["Neg", "Abs", "Floor", "Ceil"].contains(node.op) {
                return ONNXTensor(shape: x.shape, integers: x.integers.map { node.op == "Neg" ? -$0 : node.op == "Abs" ? Swift.abs($0) : $0 })
            }
            let f: (Float) -> Float = switch node.op {
            case "Sqrt": { $0.squareRoot() }
            case "Neg": { -$0 }
            case "Reciprocal": { 1 / $0 }
            case "Floor": { $0.rounded(.down) }
            case "Ceil": { $0.rounded(.up) }
            case "Abs": { Swift.abs($0) }
            default: { Foundation.exp($0) }
            }
            return ONNXTensor(shape: x.shape, floats: x.floats.map(f))
        default:
            return nil
        }
    }
}
