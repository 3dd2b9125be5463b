import ArgumentParser
import Backbone
import Engine
import StageContract
import Train

extension ModelSpec.Architecture: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension LearningRateSchedule.Shape: ExpressibleByArgument {}
extension TrainingMode: ExpressibleByArgument {}

/// The network trained from scratch (giving any of its options asks for one).
struct NetworkOptions: ParsableArguments {
    @Option(help: "Architecture, from scratch: resnet (small residual network, the default), baseline (a few conv blocks), or efficientnet-lite0/1/2 (--backbone trains on their pretrained weights).")
    var arch: ModelSpec.Architecture?
    @Option(help: "Input side in pixels, from scratch: images are resized to a square of this size (default 64).") var inputSize: Int?
    @Option(help: "Channels of the first stage, from scratch (the later ones have 2x and 4x; default 16).") var width: Int?
    @Option(help: "Residual blocks per stage, from scratch (default 2).") var blocks: Int?
    @Option(help: "Dropout before the classification head.") var dropout: Float = 0.2

    func validate() throws {
        if let inputSize, inputSize < 8 || inputSize > 1024 { throw ValidationError("--input-size must be between 8 and 1024") }
    }

    /// True when an option of the from-scratch network was given.
    var isGiven: Bool { arch != nil || inputSize != nil || width != nil || blocks != nil }

    var spec: ModelSpec {
        var spec = ModelSpec(classes: 0)
        (spec.architecture, spec.inputSize, spec.width, spec.blocksPerStage) = (arch ?? .resnet, inputSize ?? 64, width ?? 16, blocks ?? 2)
        spec.dropout = dropout
        return spec
    }
}

/// How the weights move: epochs, batches, the optimizer and its schedule, and the run's resources.
struct OptimizationOptions: ParsableArguments {
    @Option(help: "Passes over the training images (default 20; with --resume: the new total).") var epochs: Int?
    @Option(help: "Images per step.") var batchSize = TrainingSettings().batchSize
    @Option(help: "Learning rate (default: 0.001 for adam, adamw and rmsprop, 0.05 for sgd; a tenth with --from).") var lr: Float?
    @Option(help: "sgd (Nesterov momentum), adam, adamw or rmsprop.") var optimizer = OptimizerKind.adamw
    @Option(help: "Weight decay (L2 for sgd and rmsprop and adam, decoupled for adamw).") var weightDecay: Float = 1e-4
    @Option(help: "Learning-rate schedule: constant, step (x0.1 every 10 epochs) or cosine.") var schedule = LearningRateSchedule.Shape.cosine
    @Option(help: "Epochs of linear warm-up.") var warmup: Double = 0
    @Option(help: "Label smoothing.") var labelSmoothing: Float = 0.1
    @Flag(help: "Weight classes by their inverse frequency (imbalanced data).") var balanceClasses = false
    @Option(help: "Stop after this many epochs without better validation accuracy.") var patience: Int?
    @Option(help: "Seed for initial weights, shuffling, augmentation and dropout.") var seed: UInt64 = 1
    @Option(help: "Memory for decoded, resized images, in MB.") var cacheMb = TrainingSettings().cacheMegabytes
    @Option(help: "Threads for the math (each runs OpenBLAS single-threaded on its share of a batch).") var threads = TrainingSettings().threads

    /// The settings, with the augmentation its own options chose.
    func settings(augmentation: Augmentation) -> TrainingSettings {
        var s = TrainingSettings()
        s.epochs = epochs ?? s.epochs
        (s.batchSize, s.optimizer.kind, s.optimizer.weightDecay) = (batchSize, optimizer, weightDecay)
        (s.schedule.shape, s.schedule.warmupEpochs, s.labelSmoothing) = (schedule, warmup, labelSmoothing)
        (s.augmentation, s.balanceClasses, s.patience, s.seed) = (augmentation, balanceClasses, patience, seed)
        (s.cacheMegabytes, s.threads) = (cacheMb, threads)
        return s
    }
}

/// Keras ImageDataGenerator's augmentations: `--augment` for the usual set, each range on its own.
struct AugmentationOptions: ParsableArguments {
    @Flag(help: "Augment: flips, rotation, shifts, zoom, brightness (the options below tune it).") var augment = false
    @Flag(help: "Also flip images upside down when augmenting.") var verticalFlip = false
    @Option(help: "Augmentation: rotation range in degrees.") var rotation: Double?
    @Option(help: "Augmentation: shift range as a fraction of the side.") var shift: Double?
    @Option(help: "Augmentation: shear range in degrees.") var shear: Double?
    @Option(help: "Augmentation: zoom range (0.1 = 90% to 110%).") var zoom: Double?
    @Option(help: "Augmentation: brightness range (0.1 = 90% to 110%).") var brightness: Double?
    @Option(help: "Augmentation: channel shift range in pixel values.") var channelShift: Double?

    var augmentation: Augmentation {
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

/// The head on a backbone's features.
enum HeadKind: String, ExpressibleByArgument, CaseIterable {
    /// Dense(512, ReLU), dropout, softmax: the original project's head.
    case dense
    /// Dropout, softmax: a linear model on the features.
    case linear
}

/// Training on a pretrained backbone: its head on cached features, or fine-tuning its last blocks.
struct BackboneTrainingOptions: ParsableArguments {
    @Option(help: "Train on a pretrained backbone (see `imgcls backbone list`); its input size replaces --input-size. Several, comma-separated (efficientnet-lite0,open-nsfw): a head on their features side by side.")
    var backbone: String?
    @Option(help: "With --backbone: head (frozen backbone, cached features) or finetune.") var mode: TrainingMode?
    @Option(help: "With --backbone: dense (Dense(512, ReLU) + dropout + softmax) or linear.") var head = HeadKind.dense
    @Option(help: "With --mode head: augmented views cached per training image, besides the image itself.") var augmentViews = 0
    @Option(help: "With --mode finetune: the backbone's last blocks that train (at a tenth of the head's rate).") var unfreeze = 2
    @Flag(help: "With --mode head: compute and cache the backbone's features, train nothing (see --shard).") var featuresOnly = false
    @Option(help: "With --features-only: only share K of N of the images, as in --shard 3/16 (array jobs fill one cache).")
    var shard: String?
    @Flag(help: "Train the small network from scratch instead of on a pretrained backbone (the default for pictures of 64 px and more).")
    var fromScratch = false

    /// `--mode`, defaulting to head with a backbone.
    var isHead: Bool { backbone != nil && (mode ?? .head) == .head }

    /// The names in --backbone.
    var backboneNames: [String] { backbone.map(BackboneStore.names) ?? [] }

    func validate() throws {
        if backbone != nil, let problem = BackboneStore.problem(inNames: backbone!) { throw ValidationError("--backbone: \(problem)") }
        if backboneNames.count > 1 && (mode ?? .head) != .head {
            throw ValidationError("--backbone with several backbones trains a head on their features side by side: --mode head")
        }
        if backbone == nil && (mode ?? .scratch) != .scratch { throw ValidationError("--mode \(mode!.rawValue) needs --backbone") }
        if backbone != nil && mode == .scratch { throw ValidationError("--backbone trains with --mode head or finetune") }
        if augmentViews < 0 || augmentViews > 32 { throw ValidationError("--augment-views must be between 0 and 32") }
        if unfreeze < 1 { throw ValidationError("--unfreeze must be at least 1") }
        if featuresOnly && !isHead { throw ValidationError("--features-only computes a backbone's features for --mode head: give --backbone") }
        if shard != nil && !featuresOnly { throw ValidationError("--shard goes with --features-only") }
        if fromScratch && backbone != nil { throw ValidationError("--from-scratch and --backbone ask for different starts: give one") }
    }

    /// The backbone's part of the request: nothing without a backbone. `chosen` is the one the command chose
    /// when none was given.
    func apply(to request: inout TrainingRequest, chosen: BackboneReference? = nil) throws {
        let references = try chosen.map { [$0] } ?? backbone.map { try BackboneStore().references($0) } ?? []
        guard !references.isEmpty else { return }
        request.backbones = references
        request.mode = mode ?? .head
        request.spec.hiddenUnits = head == .dense ? 512 : nil
        (request.augmentViews, request.unfreeze) = (augmentViews, unfreeze)
        if featuresOnly {
            request.featureShare = try shard.map { try Share(parsing: $0) } ?? .all
        }
    }
}
