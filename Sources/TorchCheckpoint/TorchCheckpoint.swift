// TorchCheckpoint: the restricted PyTorch checkpoint reader (untrusted input, its own target). Entry:
// `TorchCheckpoint.read`. Files in reading order:
//   TorchCheckpoint.swift  the two torch.save formats (legacy stream and zip) and the tensors they hold
//   ZipBounds.swift        the zip directories' offsets checked against the file before ZIPFoundation reads it
//   Pickle.swift           the values a state dict's pickle may hold, and the globals it may name
//   PickleReader.swift     the restricted pickle machine

import Files
import Foundation
import ZIPFoundation

/// The tensors of a PyTorch checkpoint: `torch.save` of a state dict (or of a dict holding one under
/// `state_dict`), in the legacy stream format (before PyTorch 1.6) or the zip format. Tensors come out as
/// PyTorch sees them (row-major in their logical shape, whatever their strides in the file), as Float32.
public struct TorchCheckpoint: Sendable {
    public struct Tensor: Sendable, Equatable {
        public let shape: [Int]
        public let values: [Float]

        public init(shape: [Int], values: [Float]) {
            (self.shape, self.values) = (shape, values)
        }
    }

    /// The names in the state dict's order.
    public let names: [String]
    public let tensors: [String: Tensor]

    /// Reads the checkpoint at `path`, refusing files over `limit` bytes before reading them.
    public static func read(contentsOf path: String, limit: Int = 4 << 30) throws(CheckpointError) -> TorchCheckpoint {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path, limit: limit) } catch { throw CheckpointError(file: path, problem: error.detail) }
        return try read(bytes, file: path, path: path)
    }

    /// Reads a checkpoint held in memory; `file` names it in errors.
    public static func read(_ bytes: [UInt8], file: String) throws(CheckpointError) -> TorchCheckpoint {
        try read(bytes, file: file, path: nil)
    }

    /// `path`: where the same bytes are on disk, if they are. The zip format is read from a file (ZIPFoundation's
    /// in-memory archives trap on some damaged offsets, its file archives do not), so bytes from memory go
    /// through a temporary file.
    private static func read(_ bytes: [UInt8], file: String, path: String?) throws(CheckpointError) -> TorchCheckpoint {
        do {
            if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
                try ZipBounds.check(bytes)
                if let path { return try readZip(URL(fileURLWithPath: path)) }
                let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("imgcls-checkpoint-\(UUID().uuidString).pth")
                try FileIO.writeAtomically(bytes, to: temporary.path)
                defer { try? FileManager.default.removeItem(at: temporary) }
                return try readZip(temporary)
            }
            if bytes.starts(with: [0x80]) { return try readLegacy(bytes) }
        } catch let error as CheckpointError {
            throw CheckpointError(file: file, problem: error.problem)
        } catch let error as PickleError {
            throw CheckpointError(file: file, problem: "its pickle is refused: \(error)")
        } catch {
            throw CheckpointError(file: file, problem: "\(error)")
        }
        throw CheckpointError(file: file, problem: "not a PyTorch checkpoint (neither the zip nor the legacy torch.save format)")
    }

    // MARK: The legacy format

    /// Five pickles (magic number, protocol version, system info, the object, the storage keys), then each
    /// storage as an int64 element count and its raw little-endian elements, in the keys' order.
    private static func readLegacy(_ bytes: [UInt8]) throws -> TorchCheckpoint {
        let magic = try PickleReader.read(bytes)
        guard magic.value == .bytes([0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]) else {
            throw problem("not a PyTorch checkpoint: the legacy format's magic number is missing")
        }
        let version = try PickleReader.read(bytes, from: magic.end)
        guard version.value == .int(1001) else { throw problem("the legacy checkpoint's protocol number is not 1001") }
        let system = try PickleReader.read(bytes, from: version.end)
        if case .dict(let info) = system.value,
           let little = info.last(where: { $0.0 == .string("little_endian") })?.1, little != .bool(true) {
            throw problem("the checkpoint was written on a big-endian machine; only little-endian data is read")
        }
        let object = try PickleReader.read(bytes, from: system.end)
        let keyList = try PickleReader.read(bytes, from: object.end)
        guard case .list(let keyValues) = keyList.value else { throw problem("the legacy storage key list is missing") }
        let entries = try stateDict(object.value)
        // Every storage the file lists belongs to some tensor of the object (the state dict's or another's).
        var types: [String: TensorElementType] = [:]
        for tensor in object.tensors { types[tensor.storageKey] = tensor.elementType }
        var storages: [String: ArraySlice<UInt8>] = [:]
        var position = keyList.end
        for value in keyValues {
            guard case .string(let key) = value else { throw problem("a legacy storage key is not a string") }
            guard let type = types[key] else { throw problem("storage \(key) is listed but no tensor uses it") }
            guard bytes.count - position >= 8 else { throw problem("the file ends before storage \(key) (truncated?)") }
            let count = bytes[position..<position + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            position += 8
            guard count <= UInt64(bytes.count - position) / UInt64(type.byteSize) else {
                throw problem("storage \(key) claims \(count) elements, more than the file holds (truncated?)")
            }
            let length = Int(count) * type.byteSize
            storages[key] = bytes[position..<position + length]
            position += length
        }
        return try TorchCheckpoint(entries, storages: storages)
    }

    // MARK: The zip format

    /// `<archive>/data.pkl` (the object) and `<archive>/data/<key>` (each storage's raw little-endian elements).
    private static func readZip(_ url: URL) throws -> TorchCheckpoint {
        let archive = try Archive(url: url, accessMode: .read)
        var members: [String: Entry] = [:]
        for entry in archive where members[entry.path] == nil { members[entry.path] = entry }
        guard let pickleEntry = members.values.first(where: { $0.path == "data.pkl" || $0.path.hasSuffix("/data.pkl") }) else {
            throw problem("a zip file without data.pkl: not a torch.save checkpoint")
        }
        let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
        if let order = members[prefix + "byteorder"], try String(decoding: contents(order, archive, limit: 16), as: UTF8.self) != "little" {
            throw problem("the checkpoint's data is big-endian; only little-endian data is read")
        }
        let object = try PickleReader.read(try contents(pickleEntry, archive, limit: 1 << 30))
        let entries = try stateDict(object.value)
        var storages: [String: ArraySlice<UInt8>] = [:]
        for (_, tensor) in entries where storages[tensor.storageKey] == nil {
            guard let entry = members[prefix + "data/" + tensor.storageKey] else {
                throw problem("storage \(tensor.storageKey) is missing from the archive")
            }
            let needed = tensor.storageElements * tensor.elementType.byteSize
            let data = try contents(entry, archive, limit: needed)
            guard data.count >= needed else { throw problem("storage \(tensor.storageKey) is shorter than its \(tensor.storageElements) elements") }
            storages[tensor.storageKey] = data[...]
        }
        return try TorchCheckpoint(entries, storages: storages)
    }

    /// An archive member's bytes, refusing one that claims more than `limit` (a zip bomb or a damaged header).
    private static func contents(_ entry: Entry, _ archive: Archive, limit: Int) throws -> [UInt8] {
        guard entry.uncompressedSize <= UInt64(limit) else {
            throw problem("\(entry.path) claims \(entry.uncompressedSize) bytes, more than it can need (\(limit))")
        }
        var data = [UInt8]()
        // Deflate expands at most about 1032 times: a size claimed beyond that is a lie, not a reservation.
        data.reserveCapacity(Int(min(entry.uncompressedSize, entry.compressedSize &* 1032 &+ 1024, UInt64(limit))))
        _ = try archive.extract(entry, consumer: { chunk in
            guard data.count + chunk.count <= limit else { throw problem("\(entry.path) inflates past its stated size") }
            data.append(contentsOf: chunk)
        })
        return data
    }

    // MARK: The state dict

    /// The name-tensor pairs of a state dict (the object itself, or its `state_dict` entry); other values
    /// (an epoch number, optimizer state) are left aside.
    private static func stateDict(_ object: PickleValue) throws -> [(String, TensorReference)] {
        guard case .dict(var items) = object else { throw problem("the checkpoint holds no dict of tensors") }
        if let inner = items.last(where: { $0.0 == .string("state_dict") })?.1, case .dict(let nested) = inner { items = nested }
        var entries: [(String, TensorReference)] = []
        for (key, value) in items {
            guard case .string(let name) = key, case .tensor(let tensor) = value else { continue }
            entries.append((name, tensor))
        }
        guard !entries.isEmpty else { throw problem("the checkpoint's dict holds no tensors") }
        return entries
    }

    private init(_ entries: [(String, TensorReference)], storages: [String: ArraySlice<UInt8>]) throws {
        var names: [String] = []
        var tensors: [String: Tensor] = [:]
        // One storage may be bound to many names; what they gather together is bounded by what was stored.
        var budget = 2 * storages.values.reduce(0) { $0 + $1.count } + (1 << 20)
        for (name, reference) in entries {
            budget -= reference.shape.reduce(1, *) * 4
            guard budget >= 0 else { throw Self.problem("the tensors claim far more values than the file stores") }
            guard let storage = storages[reference.storageKey] else { throw Self.problem("\(name): storage \(reference.storageKey) is missing") }
            guard storage.count >= reference.storageElements * reference.elementType.byteSize else {
                throw Self.problem("\(name): storage \(reference.storageKey) holds fewer than its \(reference.storageElements) elements")
            }
            if tensors.updateValue(Tensor(shape: reference.shape, values: Self.gather(reference, storage)), forKey: name) == nil {
                names.append(name)
            }
        }
        self.names = names
        self.tensors = tensors
    }

    /// The view's elements in row-major order of its shape, converted to Float32.
    private static func gather(_ t: TensorReference, _ storage: ArraySlice<UInt8>) -> [Float] {
        let count = t.shape.reduce(1, *)
        guard count > 0 else { return [] }
        var index = [Int](repeating: 0, count: t.shape.count)
        var element = t.offset
        return storage.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    out[i] = value(raw, element, t.elementType)
                    // Advance the multi-index like an odometer, keeping the storage position in step.
                    var axis = t.shape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        element += t.strides[axis]
                        if index[axis] < t.shape[axis] { break }
                        element -= t.strides[axis] * t.shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
                initialized = count
            }
        }
    }

    @inline(__always)
    private static func value(_ raw: UnsafeRawBufferPointer, _ element: Int, _ type: TensorElementType) -> Float {
        let at = element * type.byteSize
        switch type {
        case .float32: return Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        case .float64: return Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
        case .float16: return Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))))
        case .bfloat16: return Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self))) << 16)
        case .int64: return Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        case .int32: return Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
        case .int16: return Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int16.self)))
        case .int8: return Float(raw.load(fromByteOffset: at, as: Int8.self))
        case .uint8, .bool: return Float(raw[at])
        }
    }

    private static func problem(_ text: String) -> CheckpointError { CheckpointError(file: "", problem: text) }
}

/// A checkpoint that cannot be read: the file, and what is wrong with it.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let problem: String

    public var description: String { file.isEmpty ? problem : "\(file): \(problem)" }
}
