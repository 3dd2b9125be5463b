import Console
import Engine
import Files
import Foundation
import Logging
import StageContract

/// `train --mode head`: the backbone is frozen; its pooled features are computed once per image (and per
/// augmented view) and cached, then only the head trains on them, which takes seconds per epoch.
struct HeadTraining {
    let model: Model
    let backboneName: String
    let settings: TrainingSettings
    let augmentViews: Int
    let train, validation: [ImageFolder.Sample]
    let workspace: Workspace
    /// Where the model file goes.
    let folder: String
    let showProgress: Bool
    /// Ctrl-C: extraction stops after the batch in progress (what it computed stays cached).
    let stop: StopFlag?
    private let log = Logger(label: "imgcls.train")

    private var cache: FeatureCache {
        FeatureCache(folder: workspace.featuresFolder(backbone: backboneName, inputSize: model.spec.inputSize),
                     width: model.featureWidth)
    }

    private func extraction(_ loader: BatchLoader) -> FeatureExtraction {
        let stop = self.stop
        return FeatureExtraction(model: model, cache: cache, loader: loader, augmentation: trainingAugmentation,
                                 progress: LoopProgress(display: ProgressBar(title: "features", total: nil, unit: "images", enabled: showProgress),
                                                        shouldStop: { stop?.isRaised == true }))
    }

    /// Only the features of one share of the images, into the cache; no model.
    func extractFeatures(_ share: Share) throws -> TrainingSummary {
        let started = monotonicSeconds()
        Kernels.threads = settings.threads
        let loader = BatchLoader(side: model.spec.inputSize, normalization: model.normalization, cacheMegabytes: 0)
        // The split's files are named by their content, so every machine picks the same ones whatever the folder's path.
        let inShare = { (sample: ImageFolder.Sample) in share.contains(key: (sample.path as NSString).lastPathComponent) }
        let (mine, mineValidation) = (train.filter(inShare), validation.filter(inShare))
        let extracted = try extraction(loader).features(train: mine, validation: mineValidation, views: 1 + augmentViews)
        log.info("features of share \(share.index)/\(share.count): \(extracted.computed) computed, \(extracted.reused) already in \(cache.folder)")
        return TrainingSummary(model: "", labels: model.labels, epochs: [], bestEpoch: 0, bestValidationAccuracy: nil, stoppedEarly: false,
                               skippedFiles: loader.skipped.merging(extracted.unreadable) { first, _ in first },
                               seconds: monotonicSeconds() - started,
                               features: FeatureCounts(images: mine.count + mineValidation.count, computed: extracted.computed,
                                                       reused: extracted.reused, folder: cache.folder))
    }

    func run() throws -> TrainingSummary {
        let started = monotonicSeconds()
        Kernels.threads = settings.threads
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let cache = self.cache
        let loader = BatchLoader(side: model.spec.inputSize, normalization: model.normalization, cacheMegabytes: 0)
        let extracted = try extraction(loader).features(train: train, validation: validation, views: 1 + augmentViews)
        guard !extracted.train.isEmpty else { throw TrainError("no training image could be read (see the warnings): nothing to train the head on") }
        log.info("features: \(extracted.computed) computed, \(extracted.reused) read from \(cache.folder) (\(String(format: "%.1f", extracted.seconds)) s)")

        model.freezeAllButHead()
        let head = Sequential(model.headLayers)
        let optimizer = Optimizer(settings.optimizer)
        let loss = SoftmaxCrossEntropy(smoothing: settings.labelSmoothing)
        var history: [EpochRecord] = []
        var best: (accuracy: Float, epoch: Int, values: [[Float]]) = (-1, 0, [])
        let trainable = head.parameters.filter(\.trainable)
        let width = cache.width
        for epoch in 0..<settings.epochs {
            let epochStarted = monotonicSeconds()
            var random = SplitMix64(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9)
            var order = Array(extracted.train.indices)
            order.stableShuffle(using: &random)
            for case let dropout as Dropout in head.layers { dropout.random = SplitMix64(seed: random.next()) }
            var (lossSum, correct) = (0.0, 0)
            var rate: Float = 0
            for start in stride(from: 0, to: order.count, by: settings.batchSize) {
                let rows = order[start..<min(start + settings.batchSize, order.count)]
                var input = Tensor(uninitialized: [rows.count, width])
                var labels: [Int] = []
                for (i, row) in rows.enumerated() {
                    let views = extracted.train[row].views
                    input.data.replaceSubrange(i * width..<(i + 1) * width, with: views[random.next(below: views.count)])
                    labels.append(extracted.train[row].label)
                }
                rate = settings.schedule.rate(atEpoch: Double(epoch) + Double(start) / Double(order.count), of: settings.epochs)
                let result = loss.evaluate(logits: head.forward(input, training: true), labels: labels)
                _ = head.backward(result.gradient)
                optimizer.update(trainable, rate: rate)
                lossSum += Double(result.loss) * Double(rows.count)
                correct += Evaluator.correctCount(result.probabilities, labels)
            }
            var record = EpochRecord(epoch: epoch + 1, learningRate: rate, trainLoss: Float(lossSum / Double(max(1, order.count))),
                                     trainAccuracy: Float(correct) / Float(max(1, order.count)), seconds: 0, imagesPerSecond: 0)
            if !extracted.validation.isEmpty {
                let input = Tensor(shape: [extracted.validation.count, width], data: extracted.validation.flatMap(\.views[0]))
                let labels = extracted.validation.map(\.label)
                let result = loss.evaluate(logits: head.forward(input, training: false), labels: labels)
                record.validationLoss = result.loss
                record.validationAccuracy = Float(Evaluator.correctCount(result.probabilities, labels)) / Float(labels.count)
            }
            record.seconds = monotonicSeconds() - epochStarted
            record.imagesPerSecond = Double(order.count) / max(record.seconds, 1e-9)
            history.append(record)
            let score = record.validationAccuracy ?? record.trainAccuracy
            if score > best.accuracy { best = (score, epoch + 1, trainable.map(\.value)) }
            let line = String(format: "epoch %d/%d: loss %.4f, accuracy %.4f", record.epoch, settings.epochs, record.trainLoss, record.trainAccuracy)
                + (record.validationAccuracy.map { String(format: "; validation accuracy %.4f", $0) } ?? "")
            log.info("\(line)")
        }
        for (p, values) in zip(trainable, best.values) { p.value = values }
        let path = folder + "/" + Workspace.modelFileName
        try ModelFile.save(model, to: path, extra: [
            "training": try ModelFile.json(settings), "history": try ModelFile.json(history),
            "metrics": try ModelFile.json(history.first { $0.epoch == best.epoch } ?? history.last),
            "backbone": backboneName,
        ])
        return TrainingSummary(model: path, labels: model.labels, epochs: history, bestEpoch: best.epoch,
                               bestValidationAccuracy: extracted.validation.isEmpty ? nil : best.accuracy, stoppedEarly: false,
                               skippedFiles: loader.skipped.merging(extracted.unreadable) { first, _ in first },
                               seconds: monotonicSeconds() - started)
    }

    /// The views past the first are augmented as `--augment` would (standard flips, rotation, shifts, zoom,
    /// brightness) unless the run set its own augmentation.
    private var trainingAugmentation: Augmentation {
        settings.augmentation == Augmentation() ? .standard : settings.augmentation
    }
}

