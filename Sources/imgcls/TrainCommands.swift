import ArgumentParser
import Backbone
import Catalog
import Console
import Fetch
import Foundation
import Train

extension ModelSpec.Architecture: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension LearningRateSchedule.Shape: ExpressibleByArgument {}
extension Split: ExpressibleByArgument {}
extension TrainingMode: ExpressibleByArgument {}

/// The head on a backbone's features.
enum HeadKind: String, ExpressibleByArgument, CaseIterable {
    /// Dense(512, ReLU), dropout, softmax: the original project's head.
    case dense
    /// Dropout, softmax: a linear model on the features.
    case linear
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier on the split (or any train/validation folders) into data/models/NAME/.",
        discussion: """
            Labels are the sorted sub-folder names of the train folder, as Keras's flow_from_directory assigns \
            class indices. After each epoch the model is validated, the best one is kept as \
            data/models/NAME/model.safetensors, and a checkpoint is written so --resume continues a run that \
            was stopped or killed. --from continues from a saved model on new data (a new head when the labels \
            differ; --freeze trains only the head; the learning rate defaults to a tenth of the usual one).
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model's name (its folder under models/).") var name = "default"
    @Option(help: "Training images, one sub-folder per label (default: the workspace's train/).") var train: String?
    @Option(help: "Validation images, one sub-folder per label (default: the workspace's validation/ if present).") var validation: String?
    @Option(help: "Architecture: resnet (small residual network), baseline (a few conv blocks), or efficientnet-lite0/1/2 from scratch (--backbone trains on their pretrained weights).")
    var arch = ModelSpec.Architecture.resnet
    @Option(help: "Input side in pixels: images are resized to a square of this size.") var inputSize = 64
    @Option(help: "Channels of the first stage (the later ones have 2x and 4x).") var width = 16
    @Option(help: "Residual blocks per stage.") var blocks = 2
    @Option(help: "Dropout before the classification head.") var dropout: Float = 0.2
    @Option(help: "Passes over the training images (default 20; with --resume: the new total).") var epochs: Int?
    @Option(help: "Images per step.") var batchSize = TrainingSettings().batchSize
    @Option(help: "Learning rate (default: 0.001 for adam, adamw and rmsprop, 0.05 for sgd; a tenth with --from).") var lr: Float?
    @Option(help: "sgd (Nesterov momentum), adam, adamw or rmsprop.") var optimizer = OptimizerKind.adamw
    @Option(help: "Weight decay (L2 for sgd and rmsprop and adam, decoupled for adamw).") var weightDecay: Float = 1e-4
    @Option(help: "Learning-rate schedule: constant, step (x0.1 every 10 epochs) or cosine.") var schedule = LearningRateSchedule.Shape.cosine
    @Option(help: "Epochs of linear warm-up.") var warmup: Double = 0
    @Option(help: "Label smoothing.") var labelSmoothing: Float = 0.1
    @Flag(help: "Augment: flips, rotation, shifts, zoom, brightness (the options below tune it).") var augment = false
    @Flag(help: "Also flip images upside down when augmenting.") var verticalFlip = false
    @Option(help: "Augmentation: rotation range in degrees.") var rotation: Double?
    @Option(help: "Augmentation: shift range as a fraction of the side.") var shift: Double?
    @Option(help: "Augmentation: shear range in degrees.") var shear: Double?
    @Option(help: "Augmentation: zoom range (0.1 = 90% to 110%).") var zoom: Double?
    @Option(help: "Augmentation: brightness range (0.1 = 90% to 110%).") var brightness: Double?
    @Option(help: "Augmentation: channel shift range in pixel values.") var channelShift: Double?
    @Flag(help: "Weight classes by their inverse frequency (imbalanced data).") var balanceClasses = false
    @Option(help: "Stop after this many epochs without better validation accuracy.") var patience: Int?
    @Option(help: "Seed for initial weights, shuffling, augmentation and dropout.") var seed: UInt64 = 1
    @Option(help: "Memory for decoded, resized images, in MB.") var cacheMb = TrainingSettings().cacheMegabytes
    @Option(help: "Threads for the math (each runs OpenBLAS single-threaded on its share of a batch).") var threads = TrainingSettings().threads
    @Option(help: "Continue from this model (a name under models/ or a .safetensors path).") var from: String?
    @Option(help: "Train on a pretrained backbone (see `imgcls backbone list`); its input size replaces --input-size.") var backbone: String?
    @Option(help: "With --backbone: head (frozen backbone, cached features) or finetune.") var mode: TrainingMode?
    @Option(help: "With --backbone: dense (Dense(512, ReLU) + dropout + softmax) or linear.") var head = HeadKind.dense
    @Option(help: "With --mode head: augmented views cached per training image, besides the image itself.") var augmentViews = 0
    @Option(help: "With --mode finetune: the backbone's last blocks that train (at a tenth of the head's rate).") var unfreeze = 2
    @Flag(help: "With --from: train only the classification head.") var freeze = false
    @Flag(help: "With --mode head: compute and cache the backbone's features, train nothing (see --shard).") var featuresOnly = false
    @Option(help: "With --features-only: only share K of N of the images, as in --shard 3/16 (array jobs fill one cache).")
    var shard: String?
    @Flag(help: "Continue the interrupted run of this --name from its last checkpoint.") var resume = false
    @Flag(help: "Print the summary as JSON.") var json = false

    /// --shard K/N, or all of it.
    private func featureShare() throws -> FeatureShare {
        guard let shard else { return FeatureShare(index: 1, count: 1) }
        let parsed = try Shard(parsing: shard)  // fetch's: the same K/N rules and messages
        return FeatureShare(index: parsed.index, count: parsed.count)
    }

    func validate() throws {
        if freeze && from == nil { throw ValidationError("--freeze needs --from: a fresh model has nothing to keep") }
        if resume && from != nil { throw ValidationError("--resume continues a run with its own settings; drop --from") }
        if inputSize < 8 || inputSize > 1024 { throw ValidationError("--input-size must be between 8 and 1024") }
        if backbone == nil && (mode ?? .scratch) != .scratch { throw ValidationError("--mode \(mode!.rawValue) needs --backbone") }
        if backbone != nil && mode == .scratch { throw ValidationError("--backbone trains with --mode head or finetune") }
        if augmentViews < 0 || augmentViews > 32 { throw ValidationError("--augment-views must be between 0 and 32") }
        if unfreeze < 1 { throw ValidationError("--unfreeze must be at least 1") }
        if backbone != nil && (mode ?? .head) == .head && from != nil {
            throw ValidationError("--mode head trains a new head on the installed backbone's features; --from goes with --mode finetune")
        }
        if featuresOnly && (backbone == nil || (mode ?? .head) != .head) {
            throw ValidationError("--features-only computes a backbone's features for --mode head: give --backbone")
        }
        if shard != nil && !featuresOnly { throw ValidationError("--shard goes with --features-only") }
        if backbone != nil && (mode ?? .head) == .head && resume {
            throw ValidationError("--mode head needs no --resume: run the same command again, its features are cached")
        }
    }

    func run() throws {
        global.startLogging()
        var request = TrainingRequest(name: name, workspace: global.workspaceFolder)
        request.trainFolder = train
        request.validationFolder = validation
        request.spec.architecture = arch
        request.spec.inputSize = inputSize
        request.spec.width = width
        request.spec.blocksPerStage = blocks
        request.spec.dropout = dropout
        request.learningRate = lr
        request.from = from
        request.resume = resume
        request.resumedEpochs = resume ? epochs : nil
        if let backbone {
            request.backbone = BackboneReference(name: backbone, modelFile: try BackboneStore().installedModel(backbone))
            request.mode = mode ?? .head
            request.spec.hiddenUnits = head == .dense ? 512 : nil
            request.augmentViews = augmentViews
            request.unfreeze = unfreeze
            if featuresOnly { request.featureShare = try featureShare() }
        }
        request.showProgress = !global.quiet && !json
        var s = TrainingSettings()
        s.epochs = epochs ?? s.epochs
        s.batchSize = batchSize
        s.optimizer.kind = optimizer
        s.optimizer.weightDecay = weightDecay
        s.schedule.shape = schedule
        s.schedule.warmupEpochs = warmup
        s.labelSmoothing = labelSmoothing
        s.augmentation = augmentation()
        s.balanceClasses = balanceClasses
        s.patience = patience
        s.seed = seed
        s.cacheMegabytes = cacheMb
        s.threads = threads
        s.freeze = freeze
        request.settings = s
        // First Ctrl-C: finish the epoch in progress and its checkpoint; a second one quits at once.
        let stop = StopFlag()
        request.stop = stop
        let interruption = Interruption(notice: "stopping after this epoch (Ctrl-C again to quit now; --resume continues)") { stop.raise() }
        defer { interruption.cancel() }
        let summary = try TrainingRun.run(request)
        if json { return try Output.printJSON(summary) }
        if let features = summary.features {
            return print("features of \(features.images) images: \(features.computed) computed, \(features.reused) already cached, "
                         + String(format: "in %@ (%.0f s)", features.folder, summary.seconds))
        }
        global.updateReport()
        let best = summary.epochs.first { $0.epoch == summary.bestEpoch }
        var text = "\(summary.model): best epoch \(summary.bestEpoch) of \(summary.epochs.count)"
        if let accuracy = best?.validationAccuracy { text += String(format: ", validation accuracy %.4f", accuracy) }
        text += String(format: " (%.0f s)", summary.seconds)
        if summary.stoppedEarly { text += "; stopped early" }
        if !summary.skippedFiles.isEmpty { text += "; \(summary.skippedFiles.count) files skipped (see the warnings)" }
        print(text)
    }

    private func augmentation() -> Augmentation {
        var a = augment ? Augmentation.standard : Augmentation()
        if verticalFlip { a.verticalFlip = true }
        if let rotation { a.rotationDegrees = rotation }
        if let shift { (a.widthShift, a.heightShift) = (shift, shift) }
        if let shear { a.shearDegrees = shear }
        if let zoom { a.zoom = zoom }
        if let brightness { a.brightness = brightness }
        if let channelShift { a.channelShift = channelShift }
        return a
    }
}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a model: accuracy, top-k, per-class precision/recall/F1, confusion matrix, misclassified files.",
        discussion: """
            Evaluates on FOLDER (one sub-folder per label) or on the workspace's --split folder. The report \
            goes to report/ next to the model: metrics.json, confusion.svg, curves.svg (the training history) \
            and misclassified.csv. The threshold table shows, for each confidence X, how many images are \
            answered and how accurately; with --fallback LABEL, the accuracy when the rest get that label.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model: a name under models/ or a model.safetensors path.") var model = "default"
    @Argument(help: "A folder with one sub-folder per label (default: the workspace's --split folder).") var folder: String?
    @Option(help: "validation, test or train: the workspace folder to evaluate on.") var split = Split.validation
    @Option(help: "The label answered below the confidence threshold (the original service's policy).") var fallback: String?
    @Option(help: "Where to write the report (default: report/ next to the model).") var report: String?
    @Option(help: "Images per batch.") var batchSize = 64
    @Option(help: "Misclassified files to list in the terminal.") var show = 10
    @Flag(help: "Print the metrics document as JSON.") var json = false

    func run() throws {
        global.startLogging()
        var request = EvaluationRequest(model: model, workspace: global.workspaceFolder)
        request.folder = folder
        request.split = split
        request.fallback = fallback
        request.reportFolder = report
        request.batchSize = batchSize
        request.showProgress = !global.quiet && !json
        let summary = try EvaluationRun.run(request)
        global.updateReport()
        let metrics = summary.metrics
        if json { return try Output.printJSON(metrics) }
        let topK = metrics.topKAccuracy.sorted { $0.key < $1.key }.map { "\($0.key) " + String(format: "%.4f", $0.value) }
        print(String(format: "%d images: accuracy %.4f, macro-F1 %.4f, loss %.4f", metrics.images, metrics.accuracy, metrics.macroF1, metrics.loss)
              + " (" + topK.joined(separator: ", ") + ")")
        if !metrics.skippedFiles.isEmpty { print("\(metrics.skippedFiles.count) files could not be read and were skipped") }
        print("")
        var scores = TextTable(["label", "precision", "recall", "F1", "images"])
        for c in metrics.perClass {
            scores.add([c.label, String(format: "%.4f", c.precision), String(format: "%.4f", c.recall), String(format: "%.4f", c.f1), "\(c.support)"])
        }
        print(scores.render())
        print("\nconfusion matrix (rows: true label, columns: predicted)")
        var confusion = TextTable([""] + metrics.labels)
        for (label, row) in zip(metrics.labels, metrics.confusionMatrix) { confusion.add([label] + row.map(String.init)) }
        print(confusion.render())
        print("")
        var thresholds = TextTable(["confidence ≥", "answered", "accuracy answered"] + (fallback.map { ["accuracy, rest → \($0)"] } ?? []))
        for t in metrics.thresholds {
            thresholds.add([String(format: "%.2f", t.threshold), String(format: "%.1f%%", t.answered * 100),
                            String(format: "%.4f", t.answeredAccuracy)] + (t.accuracyWithFallback.map { [String(format: "%.4f", $0)] } ?? []))
        }
        print(thresholds.render())
        if !metrics.misclassified.isEmpty && show > 0 {
            print("\nmost confident mistakes (\(metrics.misclassified.count) in all):")
            for miss in metrics.misclassified.prefix(show) {
                print("  \(miss.path): \(miss.label), predicted \(miss.predicted) " + String(format: "(%.3f)", miss.confidence))
            }
        }
        print("\nreport: \(summary.reportFolder)/ (metrics.json, confusion.svg, curves.svg, misclassified.csv)")
    }
}
