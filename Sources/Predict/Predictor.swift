import Dispatch
import Engine
import Files
import Imaging

// Predict: a trained model's answers, with no HTTP. Files in reading order:
// - Predictor.swift: `Predictor` loads a model file once and classifies images (decode, the shared preprocessing,
//   one batched forward pass, top-k, the fallback rule);
// - Classification.swift: the results as values, and the fallback rule;
// - PredictRun.swift: `imgcls predict`'s runs (inputs from files, folders, standard input or base64; text, JSON,
//   JSON lines or CSV out).

/// One image to classify: what to call it in answers (a path, an upload's file name, "stdin:3") and its bytes.
public struct ImageInput: Sendable {
    public let name: String
    public let bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        (self.name, self.bytes) = (name, bytes)
    }
}

/// An image decoded and resized for a model (one square picture per backbone of a combined model).
public typealias PreparedImage = Engine.PreparedImage

/// A model loaded for inference: its network with batch norm folded, and the same input preparation as training and
/// evaluation (`InputPreparation`). Thread-safe: inference changes nothing in the network, so calls may overlap.
public final class Predictor: @unchecked Sendable {
    public let modelFile: String
    /// The folder name of the model (data/models/<name>/model.safetensors), else the file's name.
    public let modelName: String
    /// The first 12 hex digits of the model file's SHA-256: changes whenever `train` writes a new file.
    public let modelVersion: String
    public let labels: [String]
    private let network: Sequential
    /// How image bytes become the network's input (one square input per backbone of a combined model).
    public let preparation: InputPreparation

    /// Loads `modelFile` (any model `train` writes: from scratch or on a backbone, which the file holds whole).
    public init(modelFile: String) throws(PredictError) {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(modelFile) } catch { throw PredictError("\(error)") }
        let model: Model
        do { model = try ModelFile.load(modelFile).model } catch { throw PredictError("\(error)") }
        guard !model.labels.isEmpty else {
            throw PredictError("\(modelFile): a backbone without a classifier of its own gives features, not answers; train a model on it (`imgcls train --backbone`)")
        }
        self.modelFile = modelFile
        let parts = modelFile.split(separator: "/")
        modelName = parts.count >= 2 && parts.last == "model.safetensors" ? String(parts[parts.count - 2])
            : String((parts.last ?? "model").replacing(".safetensors", with: ""))
        modelVersion = String(bytes.withUnsafeBytes { SHA256.hex($0) }.prefix(12))
        labels = model.labels
        network = model.inferenceNetwork()
        preparation = model.input
    }

    /// The threads each forward pass uses (the math's own; OpenBLAS runs single-threaded inside them).
    public static var threads: Int {
        get { Kernels.threads }
        set { Kernels.threads = newValue }
    }

    /// The kernels the forward passes run on, in words ("oneDNN 2.6.3 (avx512_core)"), for logs.
    public static var kernels: String { InferenceKernels.description }

    /// One forward pass on a blank image, so that the first real request does not pay for first-touch memory.
    public func warmUp() {
        _ = probabilities(Tensor(zeros: preparation.batchShape(1)))
    }

    /// Softmax probabilities [n, classes] for prepared inputs (`InputPreparation.batchShape`).
    public func probabilities(_ input: Tensor) -> Tensor {
        softmax(network.forward(input, training: false))
    }

    /// Decodes each input (on the cores, apart from one another), runs the ones that decode as one batch, and
    /// answers in input order: the `topK` most probable labels, with `fallback` applied, or why the image was
    /// refused.
    public func classify(_ inputs: [ImageInput], topK: Int = 1, fallback: FallbackRule? = nil) -> [ImageResult] {
        zip(inputs, probabilities(of: inputs)).map { input, outcome in
            ImageResult(name: input.name, outcome: outcome.map { Classification($0, labels: labels, topK: topK, fallback: fallback) })
        }
    }

    /// What `classify` computes before its top-k: each input's probabilities in the model's label order, or why
    /// the image was refused (the error names the input).
    public func probabilities(of inputs: [ImageInput]) -> [Result<[Float], ImageError>] {
        let prepared = prepare(inputs)
        var rows = probabilities(ofPrepared: prepared.compactMap { try? $0.get() })[...]
        return prepared.map { outcome in outcome.map { _ in rows.removeFirst() } }
    }

    /// Each input decoded and resized to the model's input (on the cores, apart from one another), or why not.
    public func prepare(_ inputs: [ImageInput]) -> [Result<PreparedImage, ImageError>] {
        let prepared = UnsafeMutableBufferPointer<Result<PreparedImage, ImageError>?>.allocate(capacity: inputs.count)
        prepared.initialize(repeating: nil)
        defer { prepared.deinitialize().deallocate() }
        let shared = SendableBox(prepared)
        let preparation = self.preparation
        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            shared.value[i] = Result { () throws(ImageError) in try preparation.resizedImage(inputs[i].bytes) }
                .mapError { $0.naming(inputs[i].name) }
        }
        return prepared.map { $0! }
    }

    /// Probabilities for images from `prepare`, one forward pass for them all.
    public func probabilities(ofPrepared images: [PreparedImage]) -> [[Float]] {
        guard !images.isEmpty else { return [] }
        let (values, classes) = (preparation.valuesPerImage, labels.count)
        var batch = Tensor(zeros: preparation.batchShape(images.count))
        batch.data.withUnsafeMutableBufferPointer { out in
            for (row, image) in images.enumerated() { preparation.write(image, into: out.baseAddress! + row * values) }
        }
        let probabilities = self.probabilities(batch)
        return images.indices.map { Array(probabilities.data[$0 * classes..<($0 + 1) * classes]) }
    }
}

/// A model that cannot be loaded, or a request `predict` cannot carry out; says what to do.
public typealias PredictError = ErrorMessage
