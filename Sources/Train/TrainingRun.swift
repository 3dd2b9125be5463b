// Train: learning on the engine (the Engine module holds the networks, layers, model files and input batches).
// Entries: `TrainingRun` (a `TrainingRequest` in, a `TrainingSummary` out; this file), `EvaluationRun`
// (Evaluation/EvaluationRun.swift: an `EvaluationRequest` in, an `EvaluationSummary` out) and `QuantizationRun`
// (Quantization/QuantizationRun.swift: a trained model's int8 form, `imgcls quantize`). Files in reading order:
//   TrainingRun.swift   request, settings, summary, the run (this file); TrainError.swift its refusals
//   SummaryText.swift   the training, evaluation and quantization summaries as the command line prints them
//   Training/           Trainer.swift (the epoch loop, checkpoints), HeadTraining.swift (a head on cached backbone
//                       features), Optimizer.swift (SGD, Adam, AdamW, RMSprop, schedules, one training step),
//                       StartingPoint.swift (backbone or from scratch when the command does not say)
//   Evaluation/         EvaluationRun.swift, Metrics.swift (accuracy, per-class, confusion), ReportCharts.swift (SVG)
//   Quantization/       QuantizationRun.swift (calibrate on the train split, measure both forms, write or refuse)

import Console
import Engine
import Files
import Foundation
import Logging
import StageContract

/// How a model learns: from scratch, or on a pretrained backbone.
public enum TrainingMode: String, Codable, CaseIterable, Sendable {
    /// Every weight from random initial values.
    case scratch
    /// The backbone frozen, its features cached; only the head trains (the original project's recipe).
    case head
    /// The backbone's last `--unfreeze` blocks train too, slower than the head, on augmented images.
    case finetune
}

/// What `imgcls train` asks for.
public struct TrainingRequest: Sendable {
    public var name: String
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
    /// Raised (by Ctrl-C): the run ends after the epoch in progress, whose checkpoint `--resume` continues from.
    public var stop: StopFlag?
    /// Training on a pretrained backbone (`mode` head or finetune); on several, side by side (head mode: their
    /// features concatenated, a combined model).
    public var backbones: [BackboneReference] = []
    public var mode = TrainingMode.scratch
    /// Head mode: augmented views cached per training image besides the image itself.
    public var augmentViews = 0
    /// Fine-tuning: how many of the backbone's last blocks train.
    public var unfreeze = 2
    /// Head mode: only compute and cache the features of share K of N of the images (by file name), and train
    /// nothing: N array tasks fill one feature cache, then a head trains on it on one machine.
    public var featureShare: Share?

    public init(name: String) {
        self.name = name
    }
}

/// How to train; saved in the model file and the checkpoint (so `--resume` continues with the same settings).
public struct TrainingSettings: Codable, Sendable, Equatable {
    public var epochs = 20
    public var batchSize = 64
    public var schedule = LearningRateSchedule(base: 1e-3)
    public var optimizer = OptimizerSettings()
    public var labelSmoothing: Float = 0.1
    public var augmentation = Augmentation()
    public var seed: UInt64 = 1
    /// Weights classes by total / (classes * count), as scikit-learn's "balanced" (for imbalanced data).
    public var balanceClasses = false
    /// Stop after this many epochs without a better validation accuracy.
    public var patience: Int?
    public var cacheMegabytes = 1024
    /// Threads for the math (see `Parallel`); image loading has a thread of its own.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Train only the classification head.
    public var freeze = false
    /// Fine-tuning a backbone: its last blocks that train (at a tenth of the head's learning rate).
    public var unfreeze: Int?

    public init() {}
}

/// One epoch's numbers.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var learningRate: Float
    public var trainLoss: Float
    public var trainAccuracy: Float
    public var validationLoss: Float?
    public var validationAccuracy: Float?
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// What a `featureShare` run did.
public struct FeatureCounts: Codable, Sendable {
    public var images: Int
    public var computed: Int
    public var reused: Int
    public var folder: String
}

public struct TrainingSummary: Codable, Sendable {
    /// The model file ("" for a `featureShare` run, which trains none).
    public var model: String
    public var labels: [String]
    public var epochs: [EpochRecord]
    public var bestEpoch: Int
    public var bestValidationAccuracy: Float?
    public var stoppedEarly: Bool
    public var skippedFiles: [String: String]
    public var seconds: Double
    /// A `featureShare` run's features.
    public var features: FeatureCounts?
}

/// `imgcls train` in a workspace: a `TrainingRequest` in, a `TrainingSummary` out.
public struct TrainingRun {
    public let workspace: Workspace
    public let request: TrainingRequest

    public init(workspace: Workspace, request: TrainingRequest) {
        (self.workspace, self.request) = (workspace, request)
    }

    /// Where the model file, its checkpoint and its report go.
    public var modelFolder: String { workspace.modelFolder(request.name) }

    /// The model a backbone run starts from: a `--from` model on the same backbone (a head trained before), or
    /// the backbone's weights with a fresh head for `labels`; on several backbones, a combined model, with each
    /// backbone as loaded (head mode extracts each one's features with it).
    private func backboneModel(_ backbones: [BackboneReference], labels: [String], settings: TrainingSettings) throws
        -> (model: Model, parts: [(name: String, model: Model)])
    {
        if backbones.count > 1 {
            guard request.from == nil else { throw TrainError("--from continues a model on one backbone; a head on several trains anew") }
            let loaded = try backbones.map { (name: $0.name, model: try ModelFile.load($0.modelFile).model) }
            return (Model.onBackbones(loaded, labels: labels, hiddenUnits: request.spec.hiddenUnits, dropout: request.spec.dropout,
                                      seed: settings.seed), loaded)
        }
        let model = try singleBackboneModel(backbones[0], labels: labels, settings: settings)
        return (model, [(backbones[0].name, model)])
    }

    private func singleBackboneModel(_ backbone: BackboneReference, labels: [String], settings: TrainingSettings) throws -> Model {
        let pretrained = try ModelFile.load(backbone.modelFile).model
        if let from = request.from {
            var model = try ModelFile.load(try workspace.modelFile(from)).model
            // Every imported network is `imported`: its graph says which.
            guard model.spec.architecture == pretrained.spec.architecture, model.spec.graph == pretrained.spec.graph else {
                throw TrainError("--from \(from) is a \(model.spec.architecture.rawValue) model, not one on \(backbone.name)'s network")
            }
            if model.labels != labels { model = model.replaceHead(labels: labels, seed: settings.seed) }
            return model
        }
        return Model.onBackbone(pretrained, labels: labels, hiddenUnits: request.spec.hiddenUnits, dropout: request.spec.dropout,
                                seed: settings.seed)
    }

    /// Builds or loads the model, then trains it (see `Trainer`), and draws its training curves in the model's
    /// report folder, where the previous model's evaluation no longer applies (`evaluate` writes it again).
    public func run() throws -> TrainingSummary {
        let summary = try train()
        let report = Workspace.reportFolder(forModelFile: summary.model)
        for file in Workspace.ModelReportFile.evaluation { try? FileManager.default.removeItem(atPath: report + "/" + file) }
        guard !summary.epochs.isEmpty else { return summary }
        do {
            try FileIO.createDirectory(report)
            try FileIO.writeAtomically(Array(ReportCharts.trainingCurves(summary.epochs).utf8), to: report + "/" + Workspace.ModelReportFile.curves)
        } catch {
            // The model is saved: a chart that cannot be drawn does not undo the training.
            Logger(label: "imgcls.train").warning("\(report): cannot draw the training curves: \(error)")
        }
        return summary
    }

    private func train() throws -> TrainingSummary {
        let log = Logger(label: "imgcls.train")
        guard (try? Label(request.name)) != nil else {
            throw TrainError("\(request.name): not a usable model name (no /, .., or control characters)")
        }
        let trainFolder = try ImageFolder(request.trainFolder ?? workspace.folder(of: .train))
        let validationPath = request.validationFolder ?? workspace.folder(of: .validation)
        let validationFolder = request.validationFolder != nil || FileManager.default.fileExists(atPath: validationPath)
            ? try ImageFolder(validationPath) : nil
        let checkpointPath = modelFolder + "/" + Workspace.checkpointFileName

        var settings = request.settings
        let model: Model
        var backboneParts: [(name: String, model: Model)] = []
        var checkpoint: (file: SafeTensors.File, path: String)?
        if request.resume {
            guard FileManager.default.fileExists(atPath: checkpointPath) else {
                throw TrainError("\(checkpointPath): no checkpoint to resume from; start the run without --resume")
            }
            let loaded = try ModelFile.load(checkpointPath)
            model = loaded.model
            checkpoint = (loaded.file, checkpointPath)
            guard model.labels == trainFolder.labels else {
                throw TrainError("\(trainFolder.root): its labels (\(labelList(trainFolder.labels))) are not the interrupted run's (\(labelList(model.labels)))")
            }
        } else if !request.backbones.isEmpty {
            (model, backboneParts) = try backboneModel(request.backbones, labels: trainFolder.labels, settings: settings)
        } else if let from = request.from {
            let path = try workspace.modelFile(from)
            var loaded = try ModelFile.load(path).model
            if loaded.labels != trainFolder.labels {
                log.warning("the labels differ from \(path)'s (\(labelList(loaded.labels))): training a new head for \(labelList(trainFolder.labels))")
                loaded = loaded.replaceHead(labels: trainFolder.labels, seed: settings.seed)
            }
            model = loaded
        } else {
            var spec = request.spec
            spec.classes = trainFolder.labels.count
            model = Model(spec: spec, labels: trainFolder.labels, seed: settings.seed)
        }
        // Training from an int8 model trains its float weights: the calibration was for the weights it had, so the
        // model trained is a float one (`imgcls quantize` makes its int8 form again).
        model.int8 = [:]
        let usual: Float = settings.optimizer.kind == .sgd ? 0.05 : 1e-3
        let retraining = request.from != nil  // a trained model (a head too) moves less than a fresh one
        settings.schedule.base = request.learningRate ?? (retraining ? usual / 10 : usual)

        let train = trainFolder.samples
        let validation = try validationFolder?.samples(for: model.labels) ?? []
        guard !train.isEmpty else { throw TrainError("\(trainFolder.root): no images to train on") }
        log.info("training \(request.name) (\(model.spec.architecture.rawValue), \(model.spec.inputSize) px) on \(train.count) images, validating on \(validation.count); labels: \(labelList(model.labels))")
        if let backbone = request.backbones.first, !request.resume {
            switch request.mode {
            case .head:
                // The features cached for the backbone are its own: a head on another body would read wrong ones.
                guard request.from == nil else { throw TrainError("--mode head trains on the installed backbone's features; --from goes with --mode finetune") }
                let head = HeadTraining(model: model, backbones: backboneParts, settings: settings, augmentViews: request.augmentViews,
                                        train: train, validation: validation, workspace: workspace,
                                        folder: modelFolder, showProgress: request.showProgress, stop: request.stop)
                if let share = request.featureShare { return try head.extractFeatures(share) }
                return try head.run()
            case .finetune:
                guard request.backbones.count == 1 else {
                    throw TrainError("--mode finetune trains one backbone's last blocks; on several backbones side by side only the head trains (--mode head)")
                }
                // An imported network's last blocks train when their steps have a backward pass.
                if let graph = model.graphNetwork, let problem = graph.fineTuningProblem(request.unfreeze) {
                    throw TrainError("\(backbone.name) cannot fine-tune its last \(request.unfreeze) blocks: \(problem)")
                }
                settings.unfreeze = request.unfreeze
                if settings.augmentation == Augmentation() { settings.augmentation = .standard }
            case .scratch:
                throw TrainError("--backbone needs --mode head or --mode finetune")
            }
        }
        let trainer = try Trainer(model: model, settings: settings, train: train, validation: validation,
                                  folder: modelFolder, checkpoint: checkpoint, resumedEpochs: request.resumedEpochs,
                                  showProgress: request.showProgress, stop: request.stop)
        return try trainer.run()
    }
}
