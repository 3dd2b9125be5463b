// ONNXModel: the restricted ONNX reader (untrusted input, its own target). Entry: `ONNXModel.read`, which decodes
// a model file, checks everything about it that can be checked before anything runs, infers every value's shape,
// folds what is computable at import (shape arithmetic, constants) and hands back a `ONNXGraph` of static shapes
// that only the image's own computation is left in. It knows nothing of the engine; Backbone turns the graph into
// an engine network. Files in reading order:
//   ONNXModel.swift            this map, `ONNXModel.read`, `ONNXLimits`, `ONNXError`
//   Generated/onnx.pb.swift    ONNX's onnx.proto as Swift (scripts/generate-onnx-protobuf.sh made it; not edited)
//   Reading/ModelReading.swift the protobuf decoded under limits; opsets, domains, nodes and attributes checked
//   Reading/TensorReading.swift tensors: sizes against shapes, element types, external data beside the model
//   Graph/ONNXGraph.swift      the graph as the rest of imgcls sees it: nodes, attributes, tensors, value shapes
//   Graph/Operators.swift      the operators imgcls runs, and why the others are refused
//   Graph/GraphOrder.swift     every input produced once and before use: dangling names and cycles refused
//   Shapes/Normalized.swift    each node's settings read one way whatever its opset (parameter inputs to attributes)
//   Shapes/ShapeInference.swift each operator's output shapes, bounded
//   Shapes/ConstantFolding.swift operators on constants computed at import (Shape, Gather, Slice, Concat, ...)
//   Shapes/TensorMath.swift    the small tensor arithmetic that folding needs (broadcasting, gathering)

import Files
import Foundation

public enum ONNXModel {
    /// Reads, checks and simplifies the model at `path`. `inputSize` fixes the input's height and width where the
    /// model leaves them open (a `dim_param`); the batch is always 1, since the engine runs a graph image by image.
    public static func read(_ path: String, inputSize: Int? = nil, limits: ONNXLimits = ONNXLimits()) throws(ONNXError) -> ONNXGraph {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path, limit: limits.fileBytes) } catch { throw ONNXError(file: path, problem: error.detail) }
        return try read(bytes, file: path, folder: FileIO.parentFolder(of: path), inputSize: inputSize, limits: limits)
    }

    /// Reads a model held in memory; `file` names it in errors, `folder` is where external data may be (nil: none
    /// may be).
    public static func read(_ bytes: [UInt8], file: String, folder: String? = nil, inputSize: Int? = nil,
                            limits: ONNXLimits = ONNXLimits()) throws(ONNXError) -> ONNXGraph {
        do {
            var graph = try ModelReading(limits: limits, folder: folder).graph(from: bytes)
            try GraphOrder.sort(&graph)
            try ShapeInference(graph: graph, inputSize: inputSize, limits: limits).run(&graph)
            return graph
        } catch let error as ONNXError {
            throw ONNXError(file: file, problem: error.problem)
        } catch {
            throw ONNXError(file: file, problem: "\(error)")
        }
    }
}

/// What a model may hold. Each limit is far above what the image networks imgcls imports need (ResNet-152 has
/// 60 M weights in 500 tensors, ViT-L 300 M) and far below what would exhaust the machine.
public struct ONNXLimits: Sendable {
    /// The model file itself (external data files are counted in `totalElements`).
    public var fileBytes = 2 << 30
    /// Elements of one tensor, weights or activations.
    public var tensorElements = 1 << 28
    /// Elements of all initializers together.
    public var totalElements = 1 << 30
    /// One dimension of any shape.
    public var dimension = 1 << 24
    /// Dimensions of any shape.
    public var rank = 8
    public var nodes = 100_000
    /// Messages nested in messages (a graph in an attribute in a node in a graph ...).
    public var protobufDepth = 32

    public init() {}
}

/// A refusal: the file, and the node (its name and operator) or the field, and why.
public struct ONNXError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let problem: String

    public init(file: String = "", problem: String) {
        (self.file, self.problem) = (file, problem)
    }

    /// A problem of one node: "node NAME (OP): what".
    public init(node: ONNXNode, _ what: String) {
        self.init(problem: "node \(node.label): \(what)")
    }

    public var description: String { file.isEmpty ? problem : "\(file): \(problem)" }
}
