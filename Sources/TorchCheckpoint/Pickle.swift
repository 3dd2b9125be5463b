/// A restricted reader of Python pickles, for the state dicts inside PyTorch checkpoints. Pickle is data here,
/// never code: only the opcodes that build plain values are read, and a global (a reference to Python code)
/// is accepted only when it is one of the few names that tensors need, which are then interpreted by this
/// reader, never called. Anything else is an error that names it, before anything is built from it.
///
/// The value model is small: the containers a state dict uses (dicts keep their order), the persistent ids of
/// tensor storages, and the two calls that rebuild an `OrderedDict` and a tensor.
public indirect enum PickleValue: Equatable, Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    /// Keys and values in insertion order (dict and `collections.OrderedDict` alike).
    case dict([(PickleValue, PickleValue)])
    /// One of the accepted globals, not yet called (a storage type, for instance).
    case global(PickleGlobal)
    /// What the pickle's persistent-id hook would have resolved: the id itself.
    case persistent(PickleValue)
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
    case tensor(TensorReference)

    public static func == (a: PickleValue, b: PickleValue) -> Bool {
        switch (a, b) {
        case (.none, .none): true
        case let (.bool(x), .bool(y)): x == y
        case let (.int(x), .int(y)): x == y
        case let (.float(x), .float(y)): x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): x == y
        case let (.bytes(x), .bytes(y)): x == y
        case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)): x == y
        case let (.dict(x), .dict(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.global(x), .global(y)): x == y
        case let (.persistent(x), .persistent(y)): x == y
        case let (.tensor(x), .tensor(y)): x == y
        default: false
        }
    }
}

/// The globals a state dict needs. Everything else (`os.system`, `builtins.eval`, any class) is refused.
public enum PickleGlobal: Equatable, Sendable {
    case orderedDict
    case rebuildTensor
    /// A typed storage class (`torch.FloatStorage`, …) naming the element type.
    case storage(TensorElementType)

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensor
        case ("torch", _):
            guard let type = TensorElementType(storageName: name) else { return nil }
            self = .storage(type)
        default: return nil
        }
    }
}

/// Element types of tensor storages, as their storage classes name them.
public enum TensorElementType: String, Sendable, CaseIterable {
    case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

    init?(storageName: String) {
        let table: [String: TensorElementType] = [
            "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
            "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8,
            "ByteStorage": .uint8, "BoolStorage": .bool,
        ]
        guard let type = table[storageName] else { return nil }
        self = type
    }

    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }
}

/// A tensor as the pickle describes it: a view (offset, sizes, strides, in elements) of a storage that the
/// checkpoint stores elsewhere under `storageKey`.
public struct TensorReference: Equatable, Sendable {
    public let storageKey: String
    public let elementType: TensorElementType
    /// Elements in the whole storage, as the persistent id says.
    public let storageElements: Int
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]
}

/// Why a pickle was refused: the byte offset, and what was wrong.
public struct PickleError: Error, CustomStringConvertible, Sendable, Equatable {
    public let offset: Int
    public let problem: String

    public var description: String { "pickle byte \(offset): \(problem)" }
}
