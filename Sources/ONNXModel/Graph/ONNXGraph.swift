/// A tensor's values: floating point kinds as Float, integer and boolean kinds as Int64 (shapes, indices, axes).
public struct ONNXTensor: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case floats([Float])
        case integers([Int64])
    }

    public var shape: [Int]
    public var values: Values

    public init(shape: [Int], floats: [Float]) {
        (self.shape, self.values) = (shape, .floats(floats))
    }

    public init(shape: [Int], integers: [Int64]) {
        (self.shape, self.values) = (shape, .integers(integers))
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values as Float, whatever their kind.
    public var floats: [Float] {
        switch values {
        case let .floats(values): values
        case let .integers(values): values.map { Float($0) }
        }
    }

    /// The values as integers (floats truncated), for shapes, axes and indices.
    public var integers: [Int64] {
        switch values {
        case let .floats(values): values.map { $0.isFinite ? Int64(max(-9e18, min(9e18, $0))) : 0 }
        case let .integers(values): values
        }
    }

    public var isInteger: Bool {
        if case .integers = values { return true }
        return false
    }
}

/// An attribute's value, in the kinds image networks use.
public enum ONNXAttribute: Sendable, Equatable {
    case int(Int64)
    case float(Float)
    case ints([Int64])
    case floats([Float])
    case string(String)
    case tensor(ONNXTensor)
}

/// One operator application. `inputs` may hold "" for an optional input that is left out.
public struct ONNXNode: Sendable, Equatable {
    public var name: String
    public var op: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: ONNXAttribute]

    public init(name: String, op: String, inputs: [String], outputs: [String], attributes: [String: ONNXAttribute] = [:]) {
        (self.name, self.op, self.inputs, self.outputs, self.attributes) = (name, op, inputs, outputs, attributes)
    }

    /// How errors name the node: its name (or its first output when it has none) and its operator.
    public var label: String { "\(name.isEmpty ? outputs.first ?? "?" : name) (\(op))" }

    public func int(_ name: String) -> Int? {
        if case let .int(value) = attributes[name] { return Int(clamping: value) }
        return nil
    }

    public func float(_ name: String) -> Float? {
        if case let .float(value) = attributes[name] { return value }
        return nil
    }

    public func ints(_ name: String) -> [Int]? {
        if case let .ints(values) = attributes[name] { return values.map { Int(clamping: $0) } }
        return nil
    }

    public func string(_ name: String) -> String? {
        if case let .string(value) = attributes[name] { return value }
        return nil
    }

    /// Input `index` if given (not left out).
    public func input(_ index: Int) -> String? {
        index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil
    }
}

/// A model after reading: nodes in an order where every input is produced before it is used, the constants
/// (initializers, and what import folded), and the static shape of every value. After `ONNXModel.read` the
/// nodes are only those that compute on the image; every value they read is the input, a constant or another
/// node's output.
public struct ONNXGraph: Sendable {
    /// The default domain's operator set version.
    public var opset: Int
    public var producer: String
    /// The image input: its name and shape (batch 1).
    public var input: String
    public var inputShape: [Int]
    public var output: String
    public var nodes: [ONNXNode]
    public var constants: [String: ONNXTensor]
    /// Every value's shape (batch 1), constants included.
    public var shapes: [String: [Int]]

    /// The nodes that read `value`.
    public func readers(of value: String) -> [ONNXNode] {
        nodes.filter { $0.inputs.contains(value) }
    }

    /// The node that produces `value`, if a node does.
    public func producer(of value: String) -> ONNXNode? {
        nodes.first { $0.outputs.contains(value) }
    }
}

extension ONNXNode {
    /// A Slice node's (start, count, step) for every axis of an input of `shape`, clamped as ONNX defines.
    public func sliceRanges(of shape: [Int]) -> [(start: Int, count: Int, step: Int)] {
        Normalized.sliceRanges(self, shape)
    }
}
