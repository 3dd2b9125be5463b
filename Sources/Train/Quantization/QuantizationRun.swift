import Console
import Engine
import Files
import Foundation
import StageContract

/// What `imgcls quantize` asks for.
public struct QuantizationRequest: Sendable {
    /// A model name in the workspace or a model.safetensors path.
    public var model: String
    /// The int8 model's name (default: the model's name with `-int8`).
    public var name: String?
    /// Refuse to write the int8 model when its validation accuracy is more than this many points below the float one's.
    public var maxAccuracyDrop = 1.0
    /// Training images the calibration runs over (a seeded sample of the train split).
    public var calibrationImages = 300
    public var batchSize = 32
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var showProgress = true

    public init(model: String) {
        self.model = model
    }
}

/// What quantization measured (also in the int8 model file's metadata, `int8_report`).
public struct QuantizationSummary: Codable, Sendable {
    public var floatAccuracy: Float
    public var int8Accuracy: Float
    /// The share of validation images whose most probable class is the same for both models.
    public var agreement: Float
    public var validationImages: Int
    public var calibrationImages: Int
    public var convolutions: Int
    public var int8Convolutions: Int
    public var kernels: String
    /// Where the int8 model went (nil when it was refused).
    public var modelFile: String?

    /// Accuracy points the int8 model loses (negative: it gains).
    public var accuracyDrop: Double { (Double(floatAccuracy) - Double(int8Accuracy)) * 100 }

    /// Why the int8 model must not be written: it loses more than `maxAccuracyDrop` points; nil when it may be.
    public func refusal(maxAccuracyDrop: Double) -> String? {
        guard accuracyDrop > maxAccuracyDrop + 1e-9 else { return nil }
        return String(format: "the int8 model loses %.1f accuracy points on the validation split (float %.1f%%, int8 %.1f%%), more than --max-accuracy-drop %.1f: not written. More calibration images (--calibration-images) can help.",
                      accuracyDrop, floatAccuracy * 100, int8Accuracy * 100, maxAccuracyDrop)
    }
}

/// `imgcls quantize` in a workspace: calibrates a trained model's int8 form on the train split, measures both forms
/// on the validation split, and writes the int8 model beside the float one unless it loses more accuracy than the
/// request allows.
public struct QuantizationRun {
    public let workspace: Workspace
    public let request: QuantizationRequest

    public init(workspace: Workspace, request: QuantizationRequest) {
        (self.workspace, self.request) = (workspace, request)
    }

    public func run() throws -> QuantizationSummary {
        let path = try workspace.modelFile(request.model)
        let (model, file) = try ModelFile.load(path)
        guard model.int8.isEmpty else { throw TrainError("\(path) is already an int8 model; quantize the float model it came from") }
        guard InferenceKernels.current == .library else {
            throw TrainError("int8 runs on the library kernels, and this run has \(InferenceKernels.description); unset IMGCLS_KERNELS")
        }
        let name = request.name ?? ((FileIO.parentFolder(of: path) as NSString).lastPathComponent + "-int8")
        guard (try? Label(name)) != nil else { throw TrainError("\(name): not a usable model name (no /, .., or control characters)") }
        guard FileIO.canonicalPath(workspace.modelFolder(name) + "/" + Workspace.modelFileName) != FileIO.canonicalPath(path) else {
            throw TrainError("--name \(name) would write over the float model \(path); choose another name")
        }
        Kernels.threads = request.threads

        var train = try samples(.train, for: model)
        var random = SplitMix64(seed: 7)
        train.stableShuffle(using: &random)
        let calibration = Array(train.prefix(request.calibrationImages))
        let validation = try samples(.validation, for: model)
        let loader = BatchLoader(model.input, cacheMegabytes: 512)
        let progress = ProgressBar(title: "calibrate", total: calibration.count, unit: "images", enabled: request.showProgress)
        let batches = stride(from: 0, to: calibration.count, by: request.batchSize).lazy.map { start in
            defer { progress.advance(by: min(request.batchSize, calibration.count - start)) }
            return loader.batch(calibration[start..<min(start + request.batchSize, calibration.count)], seed: 0).input
        }
        let scales = Int8Calibration.scales(model, batches: batches) ?? [:]
        progress.finish()
        guard !scales.isEmpty else {
            throw TrainError(loader.skipped.count >= calibration.count
                ? "none of the \(calibration.count) calibration images could be read (see the warnings)"
                : "\(path): the model has no convolution that int8 would run (only depthwise or grouped ones)")
        }

        let measure = ProgressBar(title: "validate float and int8", total: 2 * validation.count, unit: "images", enabled: request.showProgress)
        let float = Evaluator.predict(model, validation, loader: loader, batchSize: request.batchSize) { measure.advance(by: $0) }
        model.int8 = scales
        let int8 = Evaluator.predict(model, validation, loader: loader, batchSize: request.batchSize) { measure.advance(by: $0) }
        measure.finish()
        let agreeing = (0..<float.count).filter { float.predicted($0) == int8.predicted($0) }.count
        let counts = Int8Calibration.convolutionCounts(model, scales: scales)
        var summary = QuantizationSummary(floatAccuracy: float.accuracy, int8Accuracy: int8.accuracy,
                                          agreement: Float(agreeing) / Float(max(1, float.count)), validationImages: float.count,
                                          calibrationImages: calibration.count, convolutions: counts.all, int8Convolutions: counts.int8,
                                          kernels: InferenceKernels.description, modelFile: nil)
        if let refusal = summary.refusal(maxAccuracyDrop: request.maxAccuracyDrop) { throw TrainError(refusal) }
        let folder = workspace.modelFolder(name)
        let target = folder + "/" + Workspace.modelFileName
        try FileIO.createDirectory(folder)
        summary.modelFile = target
        var metadata = file.metadata
        metadata["int8_report"] = try JSONText.string(summary, pretty: false)
        metadata["int8_from"] = path
        try ModelFile.save(model, to: target, extra: metadata)
        return summary
    }

    private func samples(_ split: Split, for model: Model) throws -> [ImageFolder.Sample] {
        let folder = try ImageFolder(workspace.folder(of: split))
        let samples = try folder.samples(for: model.labels)
        guard !samples.isEmpty else {
            throw TrainError("\(folder.root): no images; quantize needs the \(split.rawValue) split (\(split == .train ? "to calibrate on" : "to measure accuracy on")): run `imgcls split` first")
        }
        return samples
    }
}
