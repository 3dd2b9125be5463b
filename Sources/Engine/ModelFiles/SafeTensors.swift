import Files
import Foundation

/// The safetensors format (what Hugging Face's `safetensors` package reads): an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range, an optional `__metadata__` map of
/// strings, then the raw little-endian data. Only F32 tensors are written; F32, F16 and BF16 are read.
public enum SafeTensors {
    public struct File {
        public var tensors: [String: Tensor] = [:]
        public var metadata: [String: String] = [:]
        public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    /// Tensors are written in name order, so the same model gives the same bytes.
    public static func encode(_ file: File) throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !file.metadata.isEmpty { header["__metadata__"] = file.metadata }
        var offset = 0
        let names = file.tensors.keys.sorted()
        for name in names {
            let tensor = file.tensors[name]!
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + tensor.count * 4]]
            offset += tensor.count * 4
        }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
        // The data starts 8-byte aligned, as the reference writer pads it.
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        // The format is little-endian, as every platform Swift runs this on: the values go in as they lie.
        for name in names {
            file.tensors[name]!.data.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    public static func write(_ file: File, to path: String) throws {
        try FileIO.writeAtomically(try encode(file), to: path)
    }

    public static func read(_ path: String) throws -> File {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw ModelFileError(path, "\(error)") }
        return try decode(bytes, path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> File {
        guard bytes.count >= 8 else { throw ModelFileError(path, "too short for a safetensors file (\(bytes.count) bytes)") }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 8), headerLength < 100 << 20 else {
            throw ModelFileError(path, "its header length (\(headerLength)) runs past the end: the file is truncated or not safetensors")
        }
        let dataStart = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
            throw ModelFileError(path, "its header is not a JSON object: not a safetensors file")
        }
        var file = File()
        for (name, value) in header {
            if name == "__metadata__" {
                guard let metadata = value as? [String: String] else { throw ModelFileError(path, "__metadata__ is not a map of strings") }
                file.metadata = metadata
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  shape.allSatisfy({ $0 >= 0 })
            else { throw ModelFileError(path, "tensor \(name) has a malformed header entry") }
            let width = ["F32": 4, "F16": 2, "BF16": 2][dtype]
            guard let width else { throw ModelFileError(path, "tensor \(name) has dtype \(dtype); only F32, F16 and BF16 are read") }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] - offsets[0] == count * width, dataStart + offsets[1] <= bytes.count else {
                throw ModelFileError(path, "tensor \(name)'s byte range \(offsets) does not match its shape \(shape) or the file size")
            }
            let start = dataStart + offsets[0]
            let values = bytes.withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: count) { out, initialized in
                    let source = UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * width)])
                    switch dtype {
                    case "F32":
                        // Little-endian on disk and in memory: one copy (the data need not be aligned).
                        UnsafeMutableRawBufferPointer(out).copyMemory(from: source)
                    case "BF16":
                        for i in 0..<count {
                            out[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                        }
                    default:
                        for i in 0..<count {
                            out[i] = Float(Float16(bitPattern: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        }
                    }
                    initialized = count
                }
            }
            file.tensors[name] = Tensor(shape: shape, data: values)
        }
        return file
    }
}

/// A model or checkpoint file that cannot be used, with the reason.
public struct ModelFileError: Error, CustomStringConvertible {
    public let description: String
    public init(_ path: String, _ reason: String) { description = "\(path): \(reason)" }
}
