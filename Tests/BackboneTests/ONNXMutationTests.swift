import Engine
import Files
import Foundation
import Testing
@testable import Backbone
@testable import ONNXModel

/// A few thousand mutations of a small real model (the reduced ResNet-50 of Fixtures/onnx): bytes flipped,
/// inserted and cut, and fields changed in the decoded model (operators, inputs, attributes, initializer shapes
/// and data, node order, opsets). Every answer must be a model that runs or a refusal that names what is wrong,
/// each within a bounded time; a crash or a hang fails the test run.
@Suite struct ONNXMutationTests {
    /// IMGCLS_MUTATION_FILE=NAME (another fixture) and IMGCLS_MUTATION_SEED=N explore other mutations than the
    /// tests' fixed ones.
    static let file = ONNXImportTests.folder + "/\(ProcessInfo.processInfo.environment["IMGCLS_MUTATION_FILE"] ?? "resnet50").onnx"
    static let seed = UInt64(ProcessInfo.processInfo.environment["IMGCLS_MUTATION_SEED"] ?? "") ?? 27

    /// Reads, converts and (for what converts) runs one image; true for a model, false for a refusal.
    static func answer(_ bytes: [UInt8]) throws -> Bool {
        // To reproduce a crash: IMGCLS_MUTANT=FILE keeps the mutation being tried in FILE.
        if let keep = ProcessInfo.processInfo.environment["IMGCLS_MUTANT"] { try Data(bytes).write(to: URL(fileURLWithPath: keep)) }
        let model: Model
        do {
            model = try ONNXImport.model(bytes, file: "mutant.onnx", labels: nil, normalization: Normalization())
        } catch {
            #expect(error.description.hasPrefix("mutant.onnx"), "a refusal that does not name the file: \(error)")
            #expect(error.description.count > "mutant.onnx: ".count + 5)
            return false
        }
        let side = model.spec.inputSize
        let logits = model.inferenceNetwork().forward(Tensor(zeros: [1, side, side, 3]), training: false)
        #expect(logits.shape == [1, model.labels.count])
        return true
    }

    @Test(.timeLimit(.minutes(3))) func byteMutationsGiveAModelOrARefusal() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.file)))
        var random = SplitMix64(seed: Self.seed)
        var (models, refusals) = (0, 0)
        for round in 0..<1500 {
            var bytes = original
            switch round % 3 {
            case 0:
                for _ in 0..<(1 + Int(random.next() % 8)) { bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(random.next() & 0xFF) }
            case 1:
                bytes.insert(contentsOf: (0..<(1 + Int(random.next() % 16))).map { _ in UInt8(random.next() & 0xFF) },
                             at: Int(random.next() % UInt64(bytes.count)))
            default:
                bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
            }
            let started = monotonicSeconds()
            if try Self.answer(bytes) { models += 1 } else { refusals += 1 }
            #expect(monotonicSeconds() - started < 10, "mutation \(round) took \(monotonicSeconds() - started) s")
        }
        #expect(models + refusals == 1500)
        #expect(refusals > 0 && models > 0, "\(models) models, \(refusals) refusals")
    }

    @Test(.timeLimit(.minutes(3))) func fieldMutationsGiveAModelOrARefusal() throws {
        let original = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: Self.file)))
        var random = SplitMix64(seed: Self.seed + 2000)
        func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
        let numbers: [Int64] = [-1, 0, 1, 2, 3, 7, 64, -(1 << 40), 1 << 40, Int64.max, Int64.min, 1 << 24]
        let ops = ["Conv", "Relu", "Add", "Gemm", "MaxPool", "Reshape", "Flatten", "Transpose", "Softmax", "Concat", "Slice",
                   "Gather", "Pad", "LayerNormalization", "BatchNormalization", "MatMul", "ReduceMean", "Split", "Loop", "Mystery"]
        var (models, refusals) = (0, 0)
        for round in 0..<1500 {
            var model = original
            let values = model.graph.node.flatMap(\.output) + model.graph.initializer.map(\.name) + ["", "nowhere"]
            for _ in 0..<(1 + Int(random.next() % 3)) {
                let n = Int(random.next() % UInt64(model.graph.node.count))
                switch random.next() % 9 {
                case 0: model.graph.node[n].opType = pick(ops)
                case 1 where !model.graph.node[n].input.isEmpty:
                    model.graph.node[n].input[Int(random.next() % UInt64(model.graph.node[n].input.count))] = pick(values)
                case 2 where !model.graph.node[n].attribute.isEmpty:
                    let a = Int(random.next() % UInt64(model.graph.node[n].attribute.count))
                    if model.graph.node[n].attribute[a].ints.isEmpty {
                        model.graph.node[n].attribute[a].i = pick(numbers)
                    } else {
                        let i = Int(random.next() % UInt64(model.graph.node[n].attribute[a].ints.count))
                        model.graph.node[n].attribute[a].ints[i] = pick(numbers)
                    }
                case 3:
                    let t = Int(random.next() % UInt64(model.graph.initializer.count))
                    if !model.graph.initializer[t].dims.isEmpty {
                        model.graph.initializer[t].dims[Int(random.next() % UInt64(model.graph.initializer[t].dims.count))] = pick(numbers)
                    }
                case 4:
                    let t = Int(random.next() % UInt64(model.graph.initializer.count))
                    model.graph.initializer[t].rawData = model.graph.initializer[t].rawData.prefix(Int(random.next() % 64))
                case 5: model.graph.node.swapAt(n, Int(random.next() % UInt64(model.graph.node.count)))
                case 6: model.graph.node.remove(at: n)
                case 7: model.opsetImport[0].version = pick([8, 9, 11, 13, 17, 21, 22])
                default:
                    let d = Int(random.next() % 4)
                    model.graph.input[0].type.tensorType.shape.dim[d].dimValue = pick(numbers)
                }
            }
            let started = monotonicSeconds()
            if try Self.answer([UInt8](try model.serializedData())) { models += 1 } else { refusals += 1 }
            #expect(monotonicSeconds() - started < 10, "mutation \(round) took \(monotonicSeconds() - started) s")
        }
        #expect(refusals > 0 && models > 0, "\(models) models, \(refusals) refusals")
    }
}
