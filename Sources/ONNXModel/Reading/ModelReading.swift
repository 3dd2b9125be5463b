import Foundation
import SwiftProtobuf

/// The protobuf decoded under a nesting limit, then checked field by field: the default domain's operator set
/// within 9...21, every node's operator known (no control flow, no custom domains, no subgraphs), attributes of
/// the kinds image networks use, initializers sized by `TensorReading`, one image input and its output.
struct ModelReading {
    let limits: ONNXLimits
    let folder: String?

    static let opsets = 9...21

    func graph(from bytes: [UInt8]) throws -> ONNXGraph {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = limits.protobufDepth
        options.discardUnknownFields = true
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
        } catch BinaryDecodingError.messageDepthLimit {
            throw ONNXError(problem: "the protobuf nests messages deeper than \(limits.protobufDepth): not an image network")
        } catch {
            throw ONNXError(problem: "not a readable ONNX model (\(error)); is the file complete?")
        }
        guard model.hasGraph else { throw ONNXError(problem: "the file holds no graph: not an ONNX model, or truncated") }
        let opset = try defaultOpset(model)
        let graph = model.graph
        guard graph.node.count <= limits.nodes else {
            throw ONNXError(problem: "the graph has \(graph.node.count) nodes, over the limit of \(limits.nodes)")
        }
        guard graph.sparseInitializer.isEmpty else {
            throw ONNXError(problem: "sparse initializer \(graph.sparseInitializer[0].values.name) is not supported")
        }
        let tensors = TensorReading(limits: limits, folder: folder)
        var constants: [String: ONNXTensor] = [:]
        var total = 0
        for initializer in graph.initializer {
            guard !initializer.name.isEmpty else { throw ONNXError(problem: "an initializer has no name") }
            let tensor = try tensors.tensor(initializer, "initializer \(initializer.name)")
            total += tensor.count
            guard total <= limits.totalElements else {
                throw ONNXError(problem: "initializers hold over \(limits.totalElements) values in all (at \(initializer.name))")
            }
            constants[initializer.name] = tensor
        }
        let nodes = try graph.node.map { proto throws -> ONNXNode in try node(proto, tensors) }
        // Older IR versions list initializers among the inputs too: the image is the input that is not one.
        let imageInputs = graph.input.filter { constants[$0.name] == nil }
        guard imageInputs.count == 1, let input = imageInputs.first else {
            throw ONNXError(problem: "the graph has \(imageInputs.count) inputs (\(imageInputs.map(\.name).joined(separator: ", "))): an image network has one")
        }
        guard let output = graph.output.first?.name, !output.isEmpty else { throw ONNXError(problem: "the graph names no output") }
        return ONNXGraph(opset: opset, producer: "\(model.producerName) \(model.producerVersion)".trimmingCharacters(in: .whitespaces),
                         input: input.name, inputShape: try inputShape(input), output: output, nodes: nodes,
                         constants: constants, shapes: [:])
    }

    private func defaultOpset(_ model: Onnx_ModelProto) throws(ONNXError) -> Int {
        // A model without opset_import predates opsets (IR version 2 and older), which no exporter writes now.
        guard let entry = model.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ONNXError(problem: "the model imports no default ONNX operator set (opset_import)")
        }
        guard Self.opsets.contains(Int(clamping: entry.version)) else {
            throw ONNXError(problem: "operator set \(entry.version) is outside the supported \(Self.opsets.lowerBound)...\(Self.opsets.upperBound): export with an opset in that range")
        }
        return Int(entry.version)
    }

    /// The input's shape with open dimensions kept as -1 (shape inference fixes them).
    private func inputShape(_ input: Onnx_ValueInfoProto) throws(ONNXError) -> [Int] {
        let type = input.type.tensorType
        guard input.type.value != nil, type.hasShape else { throw ONNXError(problem: "input \(input.name) has no tensor shape") }
        guard let element = Onnx_TensorProto.DataType(rawValue: Int(type.elemType)), [.float, .float16, .double, .uint8].contains(element) else {
            throw ONNXError(problem: "input \(input.name) has element type \(type.elemType): an image network takes numbers")
        }
        guard type.shape.dim.count <= limits.rank else { throw ONNXError(problem: "input \(input.name) has \(type.shape.dim.count) dimensions") }
        return try type.shape.dim.map { dim throws(ONNXError) -> Int in
            guard case let .dimValue(value)? = dim.value else { return -1 }
            guard value > 0, value <= limits.dimension else { throw ONNXError(problem: "input \(input.name) has a dimension of \(value)") }
            return Int(value)
        }
    }

    private func node(_ proto: Onnx_NodeProto, _ tensors: TensorReading) throws(ONNXError) -> ONNXNode {
        var node = ONNXNode(name: proto.name, op: proto.opType, inputs: proto.input, outputs: proto.output)
        if let refusal = Operators.refusal(proto.opType, domain: proto.domain) { throw ONNXError(node: node, refusal) }
        guard !proto.output.isEmpty, !proto.output[0].isEmpty else { throw ONNXError(node: node, "it has no output") }
        for attribute in proto.attribute {
            let what = "attribute \(attribute.name)"
            guard attribute.refAttrName.isEmpty else { throw ONNXError(node: node, "\(what) refers to a function's attribute") }
            switch attribute.type {
            case .int: node.attributes[attribute.name] = .int(attribute.i)
            case .float: node.attributes[attribute.name] = .float(attribute.f)
            case .ints:
                guard attribute.ints.count <= limits.dimension else { throw ONNXError(node: node, "\(what) is too long") }
                node.attributes[attribute.name] = .ints(attribute.ints)
            case .floats: node.attributes[attribute.name] = .floats(attribute.floats)
            case .string: node.attributes[attribute.name] = .string(String(decoding: attribute.s, as: UTF8.self))
            case .tensor:
                do { node.attributes[attribute.name] = .tensor(try tensors.tensor(attribute.t, what)) } catch {
                    throw ONNXError(node: node, error.problem)
                }
            case .graph, .graphs:
                throw ONNXError(node: node, "\(what) holds a subgraph: control flow is not supported")
            case .strings where attribute.strings.isEmpty:
                continue
            default:
                throw ONNXError(node: node, "\(what) is of kind \(attribute.type), which image networks do not use")
            }
        }
        return node
    }
}
