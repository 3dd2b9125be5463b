import Console
import Engine
import Files
import Foundation
import Logging
import StageContract

/// Where a run stands; the checkpoint's metadata, rewritten after every epoch.
struct RunState: Codable {
    var settings: TrainingSettings
    var history: [EpochRecord] = []
    var bestAccuracy: Float = -1
    var bestEpoch = 0
    var trainSamples = 0
    var validationSamples = 0
}

/// The training loop: shuffled batches prepared on loader threads while the network trains on the current one,
/// validation after each epoch, the best model kept as `model.safetensors`, and a checkpoint (weights, optimizer
/// state, history) written atomically after each epoch so a killed run resumes from its last finished epoch.
public final class Trainer {
    let model: Model
    let folder: String
    let train: [ImageFolder.Sample]
    let validation: [ImageFolder.Sample]
    let loader: BatchLoader
    let optimizer: Optimizer
    var state: RunState
    let showProgress: Bool
    let stop: StopFlag?
    private let log = Logger(label: "imgcls.train")

    /// A new run, or the continuation of the one saved in `checkpoint` (whose weights `model` already has).
    init(model: Model, settings: TrainingSettings, train: [ImageFolder.Sample], validation: [ImageFolder.Sample],
         folder: String, checkpoint: (file: SafeTensors.File, path: String)?, resumedEpochs: Int? = nil,
         showProgress: Bool, stop: StopFlag? = nil) throws {
        (self.model, self.folder, self.train, self.validation) = (model, folder, train, validation)
        (self.showProgress, self.stop) = (showProgress, stop)
        state = RunState(settings: settings, trainSamples: train.count, validationSamples: validation.count)
        if let checkpoint {
            state = try ModelFile.decode("run", checkpoint.file, checkpoint.path)
            if let resumedEpochs { state.settings.epochs = resumedEpochs }
        }
        optimizer = Optimizer(state.settings.optimizer)
        if let checkpoint {
            let prefix = "optimizer/"
            optimizer.restore(Dictionary(uniqueKeysWithValues: checkpoint.file.tensors.filter { $0.key.hasPrefix(prefix) }
                .map { (String($0.key.dropFirst(prefix.count)), $0.value.data) }))
        }
        if state.settings.freeze { model.freezeAllButHead() }
        if let blocks = state.settings.unfreeze { model.unfreezeLast(blocks, rateScale: 0.1) }
        loader = BatchLoader(model.input, cacheMegabytes: state.settings.cacheMegabytes)
    }

    public var settings: TrainingSettings { state.settings }

    public func run() throws -> TrainingSummary {
        let started = monotonicSeconds()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        Kernels.threads = settings.threads
        let loss = SoftmaxCrossEntropy(smoothing: settings.labelSmoothing, classWeights: classWeights())
        var stoppedEarly = false
        let firstEpoch = state.history.count
        if firstEpoch > 0 { log.info("resuming after epoch \(firstEpoch) of \(settings.epochs)") }
        // A run resumed with fewer epochs than it has done has nothing left to do.
        for epoch in firstEpoch..<max(firstEpoch, settings.epochs) {
            if let patience = settings.patience, epoch - state.bestEpoch >= patience, state.bestEpoch > 0 {
                log.info("stopping early: no better validation accuracy for \(patience) epochs")
                stoppedEarly = true
                break
            }
            if stop?.isRaised == true {
                log.info("stopped after epoch \(epoch) of \(settings.epochs); `imgcls train --resume` continues")
                stoppedEarly = true
                break
            }
            var record = trainEpoch(epoch, loss)
            if !validation.isEmpty {
                let result = Evaluator.predict(model, validation, loader: loader, batchSize: settings.batchSize)
                record.validationLoss = result.loss
                record.validationAccuracy = result.accuracy
            }
            state.history.append(record)
            let score = record.validationAccuracy ?? record.trainAccuracy
            if score > state.bestAccuracy {
                (state.bestAccuracy, state.bestEpoch) = (score, epoch + 1)
                try saveModel()
            }
            try saveCheckpoint()
            log.info("\(describe(record))")
        }
        if state.history.isEmpty || state.bestEpoch == 0 {
            try saveModel()
        } else if state.bestEpoch < state.history.count {
            // The best model was saved epochs ago: give it the whole run's history (for the report's curves).
            let path = folder + "/" + Workspace.modelFileName
            var best = try SafeTensors.read(path)
            best.metadata["history"] = try ModelFile.json(state.history)
            try SafeTensors.write(best, to: path)
        }
        return TrainingSummary(
            model: folder + "/" + Workspace.modelFileName, labels: model.labels, epochs: state.history, bestEpoch: state.bestEpoch,
            bestValidationAccuracy: validation.isEmpty ? nil : state.bestAccuracy, stoppedEarly: stoppedEarly,
            skippedFiles: loader.skipped, seconds: monotonicSeconds() - started)
    }

    private func classWeights() -> [Float]? {
        guard settings.balanceClasses else { return nil }
        var counts = [Int](repeating: 0, count: model.labels.count)
        for s in train { counts[s.label] += 1 }
        return counts.map { $0 == 0 ? 0 : Float(train.count) / Float(model.labels.count * $0) }
    }

    private func trainEpoch(_ epoch: Int, _ loss: SoftmaxCrossEntropy) -> EpochRecord {
        let started = monotonicSeconds()
        var order = train
        var random = SplitMix64(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
        order.stableShuffle(using: &random)
        for case let dropout as Dropout in model.network.layers { dropout.random = SplitMix64(seed: random.next()) }
        let batchSize = settings.batchSize
        let batches = stride(from: 0, to: order.count, by: batchSize).map { $0..<min($0 + batchSize, order.count) }
        let progress = ProgressBar(title: "epoch \(epoch + 1)/\(settings.epochs)", total: order.count, unit: "images",
                                   enabled: showProgress)
        var (lossSum, correct, seen) = (0.0, 0, 0)
        var rate: Float = 0
        let seeds = batches.map { _ in random.next() }
        let (loader, shuffled, augmentation) = (self.loader, order, settings.augmentation)
        // Batches are prepared two ahead on a loader thread while this thread trains.
        parallelMap(Array(zip(batches, seeds)), threads: 1, window: 2, { range, seed in
            loader.batch(shuffled[range], augmentation: augmentation, seed: seed)
        }) { batch in
            guard !batch.labels.isEmpty else { return }
            let step = Double(seen) / Double(max(1, order.count))
            rate = settings.schedule.rate(atEpoch: Double(epoch) + step, of: settings.epochs)
            let result = model.trainStep(batch.input, labels: batch.labels, loss: loss, optimizer: optimizer, rate: rate)
            lossSum += Double(result.loss) * Double(batch.labels.count)
            correct += Evaluator.correctCount(result.probabilities, batch.labels)
            seen += batch.labels.count
            progress.advance(by: batch.labels.count)
            progress.setDetail(String(format: "loss %.4f, accuracy %.4f", lossSum / Double(max(seen, 1)), Double(correct) / Double(max(seen, 1))))
        }
        progress.finish()
        let seconds = monotonicSeconds() - started
        return EpochRecord(epoch: epoch + 1, learningRate: rate, trainLoss: Float(lossSum / Double(max(seen, 1))),
                           trainAccuracy: Float(correct) / Float(max(seen, 1)), seconds: seconds,
                           imagesPerSecond: Double(seen) / max(seconds, 1e-9))
    }

    private func describe(_ r: EpochRecord) -> String {
        var text = String(format: "epoch %d/%d: loss %.4f, accuracy %.4f", r.epoch, settings.epochs, r.trainLoss, r.trainAccuracy)
        if let l = r.validationLoss, let a = r.validationAccuracy {
            text += String(format: "; validation loss %.4f, accuracy %.4f", l, a)
        }
        return text + String(format: "; %.0f images/s, %.1f s", r.imagesPerSecond, r.seconds)
    }

    private func metadata() throws -> [String: String] {
        [
            "training": try ModelFile.json(settings),
            "history": try ModelFile.json(state.history),
            "metrics": try ModelFile.json(state.history.first { $0.epoch == state.bestEpoch } ?? state.history.last),
        ]
    }

    private func saveModel() throws {
        try ModelFile.save(model, to: folder + "/" + Workspace.modelFileName, extra: try metadata())
    }

    private func saveCheckpoint() throws {
        let optimizerTensors = optimizer.savedState.reduce(into: [String: Tensor]()) {
            $0["optimizer/" + $1.key] = Tensor(shape: [$1.value.count], data: $1.value)
        }
        try ModelFile.save(model, to: folder + "/" + Workspace.checkpointFileName,
                           extra: try metadata().merging(["run": try ModelFile.json(state)]) { $1 }, tensors: optimizerTensors)
    }
}
