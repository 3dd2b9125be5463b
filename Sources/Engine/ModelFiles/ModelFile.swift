import Files
import Foundation

/// `model.safetensors`: every parameter as an F32 tensor under its name, and `__metadata__` with the
/// architecture, labels in class-index order, input size, normalisation, training settings, final metrics and
/// the tool version (JSON strings, since safetensors metadata values are strings).
public enum ModelFile {
    /// Writes the model; `extra` adds metadata entries (training settings, metrics, history), and `tensors`
    /// extra arrays (a checkpoint's optimizer state).
    public static func save(_ model: Model, to path: String, extra: [String: String] = [:],
                            tensors: [String: Tensor] = [:]) throws {
        var file = SafeTensors.File(tensors: tensors)
        for p in model.parameters { file.tensors[p.name] = Tensor(shape: p.shape, data: p.value) }
        if !model.int8.isEmpty { file.metadata["int8"] = try Self.json(model.int8) }
        file.metadata = extra.merging(file.metadata.merging([
            "format": "imgcls-model",
            "architecture": try Self.json(model.spec),
            "labels": try Self.json(model.labels),
            "input_size": String(model.spec.inputSize),
            "normalization": try Self.json(model.normalization),
            "tool_version": imgclsVersion,
        ]) { _, fixed in fixed }) { _, fixed in fixed }
        try SafeTensors.write(file, to: path)
    }

    /// Builds the network the file describes and fills in its weights; says why when it cannot.
    public static func load(_ path: String) throws -> (model: Model, file: SafeTensors.File) {
        let file = try SafeTensors.read(path)
        guard file.metadata["format"] == "imgcls-model" else {
            throw ModelFileError(path, "not an imgcls model (no imgcls metadata); give a model.safetensors written by `imgcls train`")
        }
        let spec: ModelSpec = try decode("architecture", file, path)
        let labels: [String] = try decode("labels", file, path)
        let normalization: Normalization = try decode("normalization", file, path)
        guard labels.count == spec.classes else {
            throw ModelFileError(path, "\(labels.count) labels for \(spec.classes) classes")
        }
        try checkBuildable(spec, path)
        let model = Model(spec: spec, labels: labels, normalization: normalization, seed: 0)
        for p in model.parameters {
            guard let tensor = file.tensors[p.name] else {
                throw ModelFileError(path, "tensor \(p.name) is missing: the file does not match its architecture")
            }
            guard tensor.shape == p.shape else {
                throw ModelFileError(path, "tensor \(p.name) has shape \(tensor.shape), the architecture needs \(p.shape)")
            }
            p.value = tensor.data
        }
        if file.metadata["int8"] != nil {
            model.int8 = try decode("int8", file, path)
            if let (name, problem) = model.int8.lazy.compactMap({ name, q in q.problem.map { (name, $0) } }).first {
                throw ModelFileError(path, "int8 entry \(name): \(problem)")
            }
        }
        return (model, file)
    }

    /// Refuses what `Model` cannot build: an imported network whose graph cannot run, a combination without its
    /// backbones (or one inside another).
    private static func checkBuildable(_ spec: ModelSpec, _ path: String, inside: Bool = false) throws {
        switch spec.architecture {
        case .imported:
            guard let graph = spec.graph else { throw ModelFileError(path, "an imported network without its graph") }
            if let problem = graph.problem { throw ModelFileError(path, "its graph cannot run: \(problem)") }
        case .combined:
            guard !inside, let parts = spec.parts, !parts.isEmpty else {
                throw ModelFileError(path, "a combined model without its backbones (or one nested in another)")
            }
            guard Set(parts.map(\.name)).count == parts.count else { throw ModelFileError(path, "a combined model names a backbone twice") }
            for part in parts {
                guard (8...1024).contains(part.spec.inputSize) else {
                    throw ModelFileError(path, "backbone \(part.name) takes \(part.spec.inputSize)-pixel inputs (8 to 1024 can be read)")
                }
                try checkBuildable(part.spec, path, inside: true)
            }
        case .resnet, .baseline, .efficientnetLite0, .efficientnetLite1, .efficientnetLite2: break
        }
    }

    /// Metadata values: compact JSON with sorted keys (so the same settings always read the same).
    package static func json(_ value: some Encodable) throws -> String { try JSONText.string(value, pretty: false) }

    package static func decode<T: Decodable>(_ key: String, _ file: SafeTensors.File, _ path: String) throws -> T {
        guard let text = file.metadata[key] else { throw ModelFileError(path, "metadata entry \(key) is missing") }
        do { return try JSONText.decoder.decode(T.self, from: Data(text.utf8)) } catch {
            throw ModelFileError(path, "metadata entry \(key) cannot be read: \(error)")
        }
    }
}

/// An installed backbone: its name (for the feature cache) and its model file.
public struct BackboneReference: Sendable {
    public let name: String
    public let modelFile: String

    public init(name: String, modelFile: String) {
        (self.name, self.modelFile) = (name, modelFile)
    }
}
