import Files
import Foundation
import Glibc

/// A TensorProto to values: the shape bounded, the element type one that image networks use, the stored values
/// exactly as many as the shape needs, external data read only from a plain-named regular file beside the model.
struct TensorReading {
    let limits: ONNXLimits
    /// Where external data may be; nil: the model came from memory and may have none.
    let folder: String?

    /// `what` names the tensor in errors ("initializer conv1.weight", "attribute value of node ...").
    func tensor(_ proto: Onnx_TensorProto, _ what: String) throws(ONNXError) -> ONNXTensor {
        let shape = try bounded(proto.dims, what)
        let count = shape.reduce(1, *)
        guard !proto.hasSegment else { throw ONNXError(problem: "\(what) is split into segments, which are not supported") }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)), let width = Self.byteWidth(type) else {
            throw ONNXError(problem: "\(what) has element type \(proto.dataType), not a number type that image networks use")
        }
        let raw: [UInt8]?
        if proto.dataLocation == .external {
            raw = try externalBytes(proto, what, expected: count * width)
        } else if !proto.rawData.isEmpty || count == 0 {
            raw = [UInt8](proto.rawData)
        } else {
            raw = nil
        }
        if let raw {
            guard raw.count == count * width else {
                throw ONNXError(problem: "\(what) holds \(raw.count) bytes; its shape \(shape) needs \(count * width)")
            }
            return Self.decode(raw, type, shape)
        }
        return try typedFields(proto, type, shape, what)
    }

    /// A shape's dimensions checked one by one and as a product, so no multiplication can overflow.
    func bounded(_ dims: [Int64], _ what: String) throws(ONNXError) -> [Int] {
        guard dims.count <= limits.rank else {
            throw ONNXError(problem: "\(what) has \(dims.count) dimensions, over the limit of \(limits.rank)")
        }
        var count = 1
        for dim in dims {
            guard dim >= 0, dim <= limits.dimension else {
                throw ONNXError(problem: "\(what) has a dimension of \(dim), outside 0...\(limits.dimension)")
            }
            count *= Int(dim)
            guard count <= limits.tensorElements else {
                throw ONNXError(problem: "\(what) has shape \(dims), over the limit of \(limits.tensorElements) elements")
            }
        }
        return dims.map { Int($0) }
    }

    static func byteWidth(_ type: Onnx_TensorProto.DataType) -> Int? {
        switch type {
        case .float, .int32, .uint32: 4
        case .double, .int64, .uint64: 8
        case .float16, .bfloat16, .int16, .uint16: 2
        case .int8, .uint8, .bool: 1
        default: nil
        }
    }

    /// Little-endian bytes to values (ONNX stores raw data little-endian, as this machine is).
    static func decode(_ raw: [UInt8], _ type: Onnx_TensorProto.DataType, _ shape: [Int]) -> ONNXTensor {
        func load<T>(_: T.Type) -> [T] {
            raw.withUnsafeBytes { bytes in (0..<raw.count / MemoryLayout<T>.size).map { bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        switch type {
        case .float:
            let values = [Float](unsafeUninitializedCapacity: raw.count / 4) { buffer, count in
                raw.withUnsafeBytes { _ = memcpy(buffer.baseAddress!, $0.baseAddress!, raw.count) }
                count = raw.count / 4
            }
            return ONNXTensor(shape: shape, floats: values)
        case .double: return ONNXTensor(shape: shape, floats: load(Double.self).map { Float($0) })
        case .float16: return ONNXTensor(shape: shape, floats: load(UInt16.self).map { Float(Float16(bitPattern: $0)) })
        case .bfloat16: return ONNXTensor(shape: shape, floats: load(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) })
        case .int64: return ONNXTensor(shape: shape, integers: load(Int64.self))
        case .uint64: return ONNXTensor(shape: shape, integers: load(UInt64.self).map { Int64(clamping: $0) })
        case .int32: return ONNXTensor(shape: shape, integers: load(Int32.self).map { Int64($0) })
        case .uint32: return ONNXTensor(shape: shape, integers: load(UInt32.self).map { Int64($0) })
        case .int16: return ONNXTensor(shape: shape, integers: load(Int16.self).map { Int64($0) })
        case .uint16: return ONNXTensor(shape: shape, integers: load(UInt16.self).map { Int64($0) })
        case .int8: return ONNXTensor(shape: shape, integers: raw.map { Int64(Int8(bitPattern: $0)) })
        default: return ONNXTensor(shape: shape, integers: raw.map { Int64($0) })  // uint8, bool
        }
    }

    /// Values in the typed repeated fields (small tensors and older exporters).
    private func typedFields(_ proto: Onnx_TensorProto, _ type: Onnx_TensorProto.DataType, _ shape: [Int],
                             _ what: String) throws(ONNXError) -> ONNXTensor {
        let count = shape.reduce(1, *)
        let tensor: ONNXTensor
        let stored: Int
        switch type {
        case .float: (tensor, stored) = (ONNXTensor(shape: shape, floats: proto.floatData), proto.floatData.count)
        case .double: (tensor, stored) = (ONNXTensor(shape: shape, floats: proto.doubleData.map { Float($0) }), proto.doubleData.count)
        case .float16:
            (tensor, stored) = (ONNXTensor(shape: shape, floats: proto.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }), proto.int32Data.count)
        case .bfloat16:
            (tensor, stored) = (ONNXTensor(shape: shape, floats: proto.int32Data.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0) << 16) }), proto.int32Data.count)
        case .int64: (tensor, stored) = (ONNXTensor(shape: shape, integers: proto.int64Data), proto.int64Data.count)
        case .uint64, .uint32: (tensor, stored) = (ONNXTensor(shape: shape, integers: proto.uint64Data.map { Int64(clamping: $0) }), proto.uint64Data.count)
        default: (tensor, stored) = (ONNXTensor(shape: shape, integers: proto.int32Data.map { Int64($0) }), proto.int32Data.count)
        }
        guard stored == count else {
            throw ONNXError(problem: "\(what) holds \(stored) values; its shape \(shape) needs \(count)")
        }
        return tensor
    }

    /// External data: `location` a plain file name in the model's folder (no `..`, no path, no link), the range
    /// inside the file and exactly as long as the shape needs.
    private func externalBytes(_ proto: Onnx_TensorProto, _ what: String, expected: Int) throws(ONNXError) -> [UInt8] {
        var entries: [String: String] = [:]
        for entry in proto.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"] else { throw ONNXError(problem: "\(what) is external but names no location") }
        guard let folder else { throw ONNXError(problem: "\(what) is stored in \(location), and a model read from memory has no folder") }
        guard !location.isEmpty, location != ".", location != "..", !location.contains("/"), !location.contains("\\"),
              !location.contains("\0") else {
            throw ONNXError(problem: "\(what) names external data \"\(location)\": only a plain file name beside the model is read (no path, no ..)")
        }
        let path = folder + "/" + location
        var info = stat()
        guard lstat(path, &info) == 0 else { throw ONNXError(problem: "\(what)'s external data \(location) is missing beside the model") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ONNXError(problem: "\(what)'s external data \(location) is not a regular file (links are not followed)")
        }
        let size = Int(info.st_size)
        let offset = Int(entries["offset"] ?? "0") ?? -1
        let length = entries["length"].map { Int($0) ?? -1 } ?? (size - max(0, offset))
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw ONNXError(problem: "\(what)'s external data range (offset \(entries["offset"] ?? "0"), length \(entries["length"] ?? "rest")) is outside \(location) (\(size) bytes)")
        }
        guard length == expected else {
            throw ONNXError(problem: "\(what)'s external data is \(length) bytes; its shape needs \(expected)")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ONNXError(problem: "\(what)'s external data \(location) cannot be opened") }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: length) ?? Data()
            guard data.count == length else { throw ONNXError(problem: "\(what)'s external data \(location) ended early") }
            return [UInt8](data)
        } catch let error as ONNXError {
            throw error
        } catch {
            throw ONNXError(problem: "\(what)'s external data \(location) cannot be read: \(error)")
        }
    }
}
