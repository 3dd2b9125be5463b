import Engine
import Files
import ONNXModel

/// An ONNX image network as an imgcls model: read and checked (ONNXModel), converted (`GraphConversion`), its
/// classifier as the model's head. Its labels are given, or ImageNet's for 1000 classes, or class0, class1, ...
enum ONNXImport {
    static func model(_ path: String, labels given: [String]? = nil, normalization: Normalization,
                      inputSize: Int? = nil) throws(BackboneError) -> Model {
        let converted: GraphConversion.Result
        do {
            converted = try GraphConversion.convert(try ONNXModel.read(path, inputSize: inputSize))
        } catch {
            throw BackboneError(error.file.isEmpty ? "\(path): \(error.problem)" : error.description)
        }
        let labels = given ?? (converted.classes == ImageNetClasses.names.count ? ImageNetClasses.names : (0..<converted.classes).map { "class\($0)" })
        guard labels.count == converted.classes else {
            throw BackboneError("\(path): \(labels.count) labels given for a classifier of \(converted.classes) classes")
        }
        var spec = ModelSpec(classes: converted.classes)
        spec.architecture = .imported
        spec.graph = converted.spec
        spec.inputSize = converted.spec.inputShape[1]
        spec.dropout = 0
        let model = Model(spec: spec, labels: labels, normalization: normalization, seed: 0)
        model.graphNetwork!.assign(converted.weights)
        model.head.weight.value = converted.headWeight
        model.head.bias.value = converted.headBias
        return model
    }
}
