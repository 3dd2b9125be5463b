import Engine
import Files
import ONNXModel

/// An ONNX image network as an imgcls model: read and checked (ONNXModel), converted (`GraphConversion`), its
/// classifier as the model's head. Its labels are given, or ImageNet's for 1000 classes, or class0, class1, ...
enum ONNXImport {
    /// `features` names the value whose (pooled) output the features are, by default what the classifier reads.
    static func model(_ path: String, labels: [String]? = nil, normalization: Normalization,
                      inputSize: Int? = nil, features: String? = nil) throws(BackboneError) -> Model {
        try model(path, labels: labels, normalization: normalization, features: features) { () throws(ONNXError) in
            try ONNXModel.read(path, inputSize: inputSize)
        }
    }

    /// A model held in memory (a wheel's member); `file` names it in errors.
    static func model(_ bytes: [UInt8], file: String, labels: [String]?, normalization: Normalization) throws(BackboneError) -> Model {
        try model(file, labels: labels, normalization: normalization, features: nil) { () throws(ONNXError) in try ONNXModel.read(bytes, file: file) }
    }

    private static func model(_ path: String, labels given: [String]?, normalization: Normalization, features: String?,
                              read: () throws(ONNXError) -> ONNXGraph) throws(BackboneError) -> Model {
        let converted: GraphConversion.Result
        do {
            converted = try GraphConversion.convert(try read(), features: features)
        } catch {
            throw BackboneError(error.file.isEmpty ? "\(path): \(error.problem)" : error.description)
        }
        let labels = given ?? (converted.classes == ImageNetClasses.names.count ? ImageNetClasses.names : (0..<converted.classes).map { "class\($0)" })
        guard labels.count == converted.classes else {
            throw BackboneError(converted.classes == 0
                ? "\(path): --labels goes with the network's own classifier, which --features \(features ?? "") leaves out"
                : "\(path): \(labels.count) labels given for a classifier of \(converted.classes) classes")
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
