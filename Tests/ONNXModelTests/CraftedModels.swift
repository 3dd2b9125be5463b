import Foundation
@testable import ONNXModel

/// Small ONNX models built field by field, for the reader's refusals: a valid one (convolution, ReLU, pooling, a
/// classifier) that each test breaks in one place.
enum CraftedModels {
    static func tensor(_ name: String, _ shape: [Int64], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        return t
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", domain: String = "",
                     ints: [String: [Int64]] = [:], int: [String: Int64] = [:]) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name.isEmpty ? outputs.first ?? op : name
        n.domain = domain
        n.input = inputs
        n.output = outputs
        let attributes = ints.map { ($0.key, $0.value, true) } + int.map { ($0.key, [$0.value], false) }
        for (key, values, isList) in attributes.sorted(by: { $0.0 < $1.0 }) {
            var a = Onnx_AttributeProto()
            a.name = key
            a.type = isList ? .ints : .int
            if isList { a.ints = values } else { a.i = values[0] }
            n.attribute.append(a)
        }
        return n
    }

    static func valueInfo(_ name: String, _ dims: [Int64?]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = d } else { dim.dimParam = "batch" }
            return dim
        }
        tensorType.shape = shape
        v.type.tensorType = tensorType
        return v
    }

    /// [batch, 3, 8, 8] → Conv 3x3 (4 filters) → Relu → GlobalAveragePool → Flatten → Gemm (2 classes).
    static func small(opset: Int64 = 13) -> Onnx_ModelProto {
        var graph = Onnx_GraphProto()
        graph.name = "small"
        graph.input = [valueInfo("image", [nil, 3, 8, 8])]
        graph.output = [valueInfo("logits", [nil, 2])]
        graph.initializer = [
            tensor("conv.weight", [4, 3, 3, 3], (0..<108).map { Float($0 % 7) / 10 - 0.3 }),
            tensor("conv.bias", [4], [0.1, -0.1, 0.2, 0]),
            tensor("fc.weight", [2, 4], [1, -1, 0.5, 0.25, -0.5, 1, 0, 2]),
            tensor("fc.bias", [2], [0, 1]),
        ]
        graph.node = [
            node("Conv", ["image", "conv.weight", "conv.bias"], ["conv"], ints: ["kernel_shape": [3, 3], "pads": [1, 1, 1, 1]]),
            node("Relu", ["conv"], ["relu"]),
            node("GlobalAveragePool", ["relu"], ["pool"]),
            node("Flatten", ["pool"], ["flat"]),
            node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], int: ["transB": 1]),
        ]
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.version = opset
        model.opsetImport = [opsetImport]
        model.producerName = "imgcls tests"
        model.graph = graph
        return model
    }

    static func bytes(_ model: Onnx_ModelProto) -> [UInt8] {
        [UInt8](try! model.serializedData())
    }
}
