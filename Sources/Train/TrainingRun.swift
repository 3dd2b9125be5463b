import Catalog
import Files
import Foundation
import Logging

/// What `imgcls train` asks for.
public struct TrainingRequest: Sendable {
    public var name: String
    public var workspace: Workspace
    /// Default: the workspace's train/ and validation/ folders (what `imgcls split` writes).
    public var trainFolder: String?
    public var validationFolder: String?
    public var spec = ModelSpec(classes: 0)
    public var settings = TrainingSettings()
    /// nil: the optimizer's usual rate (a tenth of it when retraining).
    public var learningRate: Float?
    /// A model to continue from (a model name in the workspace or a model.safetensors path).
    public var from: String?
    public var resume = false
    /// With `resume`: a new total number of epochs (the run's own otherwise).
    public var resumedEpochs: Int?
    public var showProgress = true

    public init(name: String, workspace: Workspace) {
        self.name = name
        self.workspace = workspace
    }

    public var modelFolder: String { workspace.modelsFolder + "/" + name }
}

public enum TrainingRun {
    /// Builds or loads the model, then trains it; see `Trainer`.
    public static func run(_ request: TrainingRequest) throws -> TrainingSummary {
        let log = Logger(label: "imgcls.train")
        guard (try? Label(request.name)) != nil else {
            throw TrainError("\(request.name): not a usable model name (no /, .., or control characters)")
        }
        let trainFolder = try ImageFolder(request.trainFolder ?? request.workspace.path("train"))
        let validationPath = request.validationFolder ?? request.workspace.path("validation")
        let validationFolder = request.validationFolder != nil || FileManager.default.fileExists(atPath: validationPath)
            ? try ImageFolder(validationPath) : nil
        let checkpointPath = request.modelFolder + "/" + Trainer.checkpointName

        var settings = request.settings
        let model: Model
        var checkpoint: (file: SafeTensors.File, path: String)?
        if request.resume {
            guard FileManager.default.fileExists(atPath: checkpointPath) else {
                throw TrainError("\(checkpointPath): no checkpoint to resume from; start the run without --resume")
            }
            let loaded = try ModelFile.load(checkpointPath)
            model = loaded.model
            checkpoint = (loaded.file, checkpointPath)
            guard model.labels == trainFolder.labels else {
                throw TrainError("\(trainFolder.root): its labels (\(trainFolder.labels.joined(separator: ", "))) are not the interrupted run's (\(model.labels.joined(separator: ", ")))")
            }
        } else if let from = request.from {
            let path = from.hasSuffix(".safetensors") ? from : request.workspace.modelsFolder + "/" + from + "/" + ModelFile.fileName
            var loaded = try ModelFile.load(path).model
            if loaded.labels != trainFolder.labels {
                log.warning("the labels differ from \(path)'s (\(loaded.labels.joined(separator: ", "))): training a new head for \(trainFolder.labels.joined(separator: ", "))")
                loaded = loaded.replaceHead(labels: trainFolder.labels, seed: settings.seed)
            }
            model = loaded
        } else {
            var spec = request.spec
            spec.classes = trainFolder.labels.count
            model = Model(spec: spec, labels: trainFolder.labels, seed: settings.seed)
        }
        let usual: Float = settings.optimizer.kind == .sgd ? 0.05 : 1e-3
        settings.schedule.base = request.learningRate ?? (request.from != nil ? usual / 10 : usual)

        let train = trainFolder.samples
        let validation = try validationFolder?.samples(for: model.labels) ?? []
        guard !train.isEmpty else { throw TrainError("\(trainFolder.root): no images to train on") }
        log.info("training \(request.name) (\(model.spec.architecture.rawValue), \(model.spec.inputSize) px) on \(train.count) images, validating on \(validation.count); labels: \(model.labels.joined(separator: ", "))")
        let trainer = try Trainer(model: model, settings: settings, train: train, validation: validation,
                                  folder: request.modelFolder, checkpoint: checkpoint, resumedEpochs: request.resumedEpochs,
                                  showProgress: request.showProgress)
        return try trainer.run()
    }
}
