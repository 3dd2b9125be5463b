import ArgumentParser
import Backbone
import Console
import Engine
import Foundation
import Train

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
    @OptionGroup(title: "Network") var network: NetworkOptions
    @OptionGroup(title: "Optimization") var optimization: OptimizationOptions
    @OptionGroup(title: "Augmentation") var augmentation: AugmentationOptions
    @OptionGroup(title: "Pretrained backbone") var backbone: BackboneTrainingOptions
    @Option(help: "Continue from this model (a name under models/ or a .safetensors path).") var from: String?
    @Flag(help: "With --from: train only the classification head.") var freeze = false
    @Flag(help: "Continue the interrupted run of this --name from its last checkpoint.") var resume = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if freeze && from == nil { throw ValidationError("--freeze needs --from: a fresh model has nothing to keep") }
        if resume && from != nil { throw ValidationError("--resume continues a run with its own settings; drop --from") }
        if backbone.fromScratch && from != nil {
            throw ValidationError("--from continues a saved model; --from-scratch starts a new one: give one")
        }
        if backbone.isHead && from != nil {
            throw ValidationError("--mode head trains a new head on the installed backbone's features; --from goes with --mode finetune")
        }
        if backbone.isHead && resume {
            throw ValidationError("--mode head needs no --resume: run the same command again, its features are cached")
        }
    }

    /// Each option group's part, and the run's own: where from, and how the command line shows it.
    func request() throws -> TrainingRequest {
        var request = TrainingRequest(name: name)
        (request.trainFolder, request.validationFolder) = (train, validation)
        request.spec = network.spec
        request.settings = optimization.settings(augmentation: augmentation.augmentation)
        request.settings.freeze = freeze
        request.learningRate = optimization.lr
        (request.from, request.resume, request.resumedEpochs) = (from, resume, resume ? optimization.epochs : nil)
        try backbone.apply(to: &request, chosen: try chosenBackbone())
        request.showProgress = !global.quiet && !json
        return request
    }

    /// Not told how to start (no --backbone, --from-scratch, --from, --resume or from-scratch network option): on
    /// the best installed backbone, installing EfficientNet-Lite0 the first time, unless the pictures are too
    /// small for one (`StartingPoint`). The choice and its reason are printed.
    func chosenBackbone() throws -> BackboneReference? {
        guard backbone.backbone == nil, !backbone.fromScratch, from == nil, !resume, !network.isGiven else { return nil }
        let side = StartingPoint.medianShorterSide(workspace: global.workspaceFolder, trainFolder: train)
        let (fits, reason) = StartingPoint.picturesFitABackbone(side)
        guard fits else {
            global.note("training from scratch: \(reason)")
            return nil
        }
        switch DefaultBackbone.choose() {
        case let .success((name, modelFile)):
            global.note("training on \(name)'s features: \(reason) (--from-scratch trains the small network instead)")
            return BackboneReference(name: name, modelFile: modelFile)
        case let .failure(error):
            global.note("training from scratch: \(error)")
            return nil
        }
    }


    func run() throws {
        global.startLogging()
        var request = try request()
        // First Ctrl-C: finish the epoch in progress and its checkpoint; a second one quits at once.
        let stop = StopFlag()
        request.stop = stop
        let interruption = Interruption(notice: "stopping after this epoch (Ctrl-C again to quit now; --resume continues)") { stop.raise() }
        defer { interruption.cancel() }
        let summary = try TrainingRun(workspace: global.workspaceFolder, request: request).run()
        if json { return try Output.printJSON(summary) }
        if summary.features == nil { global.updateReport() }
        print(summary.text)
    }
}
