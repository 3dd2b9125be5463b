import Files
import Foundation
import SampleImages
import Testing
@testable import TorchCheckpoint

/// Real checkpoints written by PyTorch (scripts/reference/make-checkpoint-fixtures.py), crafted pickles, and a
/// bounded fuzz loop: the reader reads both formats alike, refuses every global a state dict does not need by
/// name, and refuses damaged files with a reason, never crashing or hanging.
@Suite struct TorchCheckpointTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func fixture(_ name: String) throws -> [UInt8] { try FileIO.read(fixtures + "/" + name) }

    /// name -> (shape, values) as PyTorch printed them.
    static func expected() throws -> [(String, [Int], [Float])] {
        try String(decoding: fixture("expected.txt"), as: UTF8.self).split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            let shape = parts[1] == "scalar" ? [] : parts[1].split(separator: "x").map { Int($0)! }
            return (String(parts[0]), shape, parts[2...].map { Float($0)! })
        }
    }

    @Test(arguments: ["zip.pth", "legacy.pth"])
    func bothFormatsGiveWhatPyTorchSaved(file: String) throws {
        let checkpoint = try TorchCheckpoint.read(contentsOf: Self.fixtures + "/" + file)
        let expected = try Self.expected()
        #expect(checkpoint.names == expected.map(\.0))
        for (name, shape, values) in expected {
            let tensor = try #require(checkpoint.tensors[name], "\(name) is missing")
            #expect(tensor.shape == shape, "\(name)")
            #expect(tensor.values == values, "\(name)")
        }
    }

    @Test(arguments: [("hostile-os-system.pth", "posix.system"), ("hostile-builtins-eval.pth", "__builtin__.eval")])
    func aPickleNamingAnyOtherGlobalIsRefusedByName(file: String, global: String) throws {
        let error = #expect(throws: CheckpointError.self) { try TorchCheckpoint.read(contentsOf: Self.fixtures + "/" + file) }
        let message = error?.description ?? ""
        #expect(message.contains(global) && message.contains("nothing was run") && message.contains(file), "\(message)")
    }

    @Test func craftedPicklesAreRefusedWithAReason() throws {
        let cases: [(String, [UInt8], String)] = [
            ("a global in text form", Array("cos\nsystem\n(S'ls'\ntR.".utf8), "os.system"),
            ("a stack global", [0x80, 0x04, 0x8C, 0x02] + Array("os".utf8) + [0x8C, 0x06] + Array("system".utf8) + [0x93, 0x2E], "os.system"),
            ("an object built by INST", Array("(iposix\nsystem\n.".utf8), "opcode 0x69"),
            ("NEWOBJ", [0x80, 0x02, 0x29, 0x81, 0x2E], "opcode 0x81"),
            ("an empty stack", [0x80, 0x02, 0x74, 0x2E], "MARK"),
            ("no STOP", [0x80, 0x02, 0x4E], "ends inside"),
            ("a string past the end", [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x41], "ends inside"),
            ("a memo entry never stored", [0x80, 0x02, 0x68, 0x05, 0x2E], "never stored"),
            ("two values at STOP", [0x80, 0x02, 0x4E, 0x4E, 0x2E], "STOP with 2"),
            ("invalid UTF-8", [0x80, 0x02, 0x8C, 0x02, 0xC3, 0x28, 0x2E], "UTF-8"),
            ("deep nesting", [0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E], "nest"),
            ("a REDUCE of a storage type", Array("ctorch\nFloatStorage\n)R.".utf8), "REDUCE"),
        ]
        for (what, bytes, reason) in cases {
            let error = #expect(throws: PickleError.self, "\(what)") { try PickleReader.read(bytes) }
            #expect(error?.problem.contains(reason) == true, "\(what): \(error?.description ?? "no error")")
        }
    }

    /// `OrderedDict(w=_rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, (size,), (stride,), False,
    /// OrderedDict()))` as a protocol-2 pickle, each integer as an 8-byte LONG1.
    static func tensorPickle(offset: Int64, size: Int64, stride: Int64, numel: Int64) -> [UInt8] {
        func long(_ v: Int64) -> [UInt8] { [0x8A, 8] + withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        var pickle: [UInt8] = [0x80, 0x02] + Array("ccollections\nOrderedDict\n)R".utf8) + [0x28, 0x58, 1, 0, 0, 0, 0x77]
        pickle += Array("ctorch._utils\n_rebuild_tensor_v2\n(".utf8)
        pickle += Array("(".utf8) + [0x58, 7, 0, 0, 0] + Array("storage".utf8) + Array("ctorch\nFloatStorage\n".utf8)
        pickle += [0x58, 1, 0, 0, 0, 0x30, 0x58, 3, 0, 0, 0] + Array("cpu".utf8) + long(numel) + [0x74, 0x51]
        pickle += long(offset) + long(size) + [0x85] + long(stride) + [0x85, 0x89]
        pickle += Array("ccollections\nOrderedDict\n)R".utf8) + [0x74, 0x52, 0x75, 0x2E]
        return pickle
    }

    @Test func viewsOutsideTheirStorageAreRefused() throws {
        let cases: [(offset: Int64, size: Int64, stride: Int64, numel: Int64, reason: String)] = [
            (2, 3, 1, 4, "reaches element 4 of a storage of 4"),
            (0, 1 << 39, 1 << 39, 1 << 39, "strides reach past any storage"),
            (Int64.max, 2, 1, 4, "storage offset"),
            (0, 1 << 39, 0, 1, "elements over a storage of 1"),      // a broadcast view claiming 2 TiB
            (0, 4, 1, 1 << 62, "is not ('storage'"),                  // a storage too large to exist
        ]
        _ = try PickleReader.read(Self.tensorPickle(offset: 0, size: 4, stride: 1, numel: 4))  // the well-formed one reads
        for c in cases {
            let error = #expect(throws: PickleError.self) {
                try PickleReader.read(Self.tensorPickle(offset: c.offset, size: c.size, stride: c.stride, numel: c.numel))
            }
            #expect(error?.problem.contains(c.reason) == true, "\(c): \(error?.description ?? "")")
        }
    }

    @Test func aValueSharedExponentiallyIsNeverExpanded() throws {
        // The legacy header, then a "protocol version" that is a tuple tree of 2^40 leaves in 200 bytes.
        var legacy = Array(try Self.fixture("legacy.pth").prefix(15))
        legacy += [0x80, 0x02, 0x4E]
        for _ in 0..<40 { legacy += [0x71, 0x00, 0x68, 0x00, 0x86] }
        legacy += [0x2E]
        let started = monotonicSeconds()
        let error = #expect(throws: CheckpointError.self) { try TorchCheckpoint.read(legacy, file: "shared.pth") }
        #expect(error?.problem.contains("not 1001") == true || error?.problem.contains("nest") == true, "\(error?.description ?? "")")
        #expect(monotonicSeconds() - started < 5)
    }

    @Test func notACheckpointAndTooLarge() throws {
        let folder = TemporaryFolder()
        let text = folder.file("notes.pth")
        try FileIO.writeAtomically(Array("just text".utf8), to: text)
        #expect(throws: CheckpointError.self) { try TorchCheckpoint.read(contentsOf: text) }
        let error = #expect(throws: CheckpointError.self) {
            try TorchCheckpoint.read(contentsOf: Self.fixtures + "/legacy.pth", limit: 1000)
        }
        #expect(error?.description.contains("over the limit") == true)
        // A legacy storage record claiming far more elements than the file holds.
        var legacy = try Self.fixture("legacy.pth")
        legacy.removeLast(4)
        #expect(throws: CheckpointError.self) { try TorchCheckpoint.read(legacy, file: "cut.pth") }
    }

    /// Every truncation, and random byte damage in the pickles and the data: each copy is read or refused with
    /// a `CheckpointError`; a crash or a hang fails the run.
    @Test(.timeLimit(.minutes(1)), arguments: ["legacy.pth", "zip.pth"])
    func damagedCheckpointsAreRefusedWithAReason(file: String) throws {
        let original = try Self.fixture(file)
        var refused = 0, read = 0
        func attempt(_ bytes: [UInt8]) {
            do {
                _ = try TorchCheckpoint.read(bytes, file: file)
                read += 1
            } catch {
                refused += 1
                #expect(!error.problem.isEmpty)
            }
        }
        for length in 0..<original.count { attempt(Array(original.prefix(length))) }
        var random = SplitMix64(seed: 11)
        for _ in 0..<3000 {
            var damaged = original
            for _ in 0..<1 + Int(random.next() % 4) {
                let at = Int(random.next() % UInt64(damaged.count))
                switch random.next() % 3 {
                case 0: damaged[at] = UInt8(truncatingIfNeeded: random.next())
                case 1: damaged[at] ^= 1 << UInt8(random.next() % 8)
                default: damaged.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                }
            }
            attempt(damaged)
        }
        #expect(refused > original.count / 2, "\(file): only \(refused) copies refused")
        #expect(read > 0, "\(file): no damaged copy was readable (byte damage in tensor data should be)")
    }
}
