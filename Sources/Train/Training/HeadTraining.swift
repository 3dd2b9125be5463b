import Console
import Engine
import Files
import Foundation
import Logging
import StageContract

/// `train --mode head`: the backbone is frozen; its pooled features are computed once per image (and per
/// augmented view) and cached, then only the head trains on them, which takes seconds per epoch. On several
/// backbones (a combined model), each backbone's features are cached as its own and concatenated in order.
struct HeadTraining {
    /// The model whose head trains.
    let model: Model
    /// The backbones whose features the head reads: the model's own, or each of a combined model's (its own model).
    let backbones: [(name: String, model: Model)]
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

    private func cache(_ backbone: (name: String, model: Model)) -> FeatureCache {
        FeatureCache(folder: workspace.featuresFolder(backbone: backbone.name, inputSize: backbone.model.spec.inputSize),
                     width: backbone.model.featureWidth)
    }

    /// Every backbone's features of `train` and `validation`, each sample's views concatenated across backbones
    /// (samples a backbone could not read are left out).
    private func features(train: [ImageFolder.Sample], validation: [ImageFolder.Sample]) throws
        -> (train: [FeatureExtraction.Item], validation: [FeatureExtraction.Item], computed: Int, reused: Int, seconds: Double,
            skipped: [String: String], folders: [String])
    {
        let stop = self.stop
        var joined: [Int: FeatureExtraction.Item]?
        var (computed, reused, seconds, skipped) = (0, 0, 0.0, [String: String]())
        for backbone in backbones {
            let loader = BatchLoader(backbone.model.input, cacheMegabytes: 0)
            let title = backbones.count == 1 ? "features" : "features (\(backbone.name))"
            let extracted = try FeatureExtraction(
                model: backbone.model, cache: cache(backbone), loader: loader, augmentation: trainingAugmentation,
                progress: LoopProgress(display: ProgressBar(title: title, total: nil, unit: "images", enabled: showProgress),
                                       shouldStop: { stop?.isRaised == true }))
                .features(train: train, validation: validation, views: 1 + augmentViews)
            (computed, reused, seconds) = (computed + extracted.computed, reused + extracted.reused, seconds + extracted.seconds)
            skipped.merge(loader.skipped.merging(extracted.unreadable) { first, _ in first }) { first, _ in first }
            let items = Dictionary(uniqueKeysWithValues: (extracted.train + extracted.validation).map { ($0.sample, $0) })
            guard let before = joined else { joined = items; continue }
            joined = before.compactMapValues { item in
                guard let other = items[item.sample] else { return nil }
                var both = item
                // View v is the same picture for every backbone; a view missing from one cache leaves the image as it is.
                both.views = item.views.count == other.views.count ? zip(item.views, other.views).map { $0 + $1 } : [item.views[0] + other.views[0]]
                return both
            }
        }
        let items = (joined ?? [:]).values.sorted { $0.sample < $1.sample }
        return (items.filter { $0.sample < train.count }, items.filter { $0.sample >= train.count }, computed, reused, seconds,
                skipped, backbones.map { cache($0).folder })
    }

    /// Only the features of one share of the images, into the cache; no model.
    func extractFeatures(_ share: Share) throws -> TrainingSummary {
        let started = monotonicSeconds()
        Kernels.threads = settings.threads
        // The split's files are named by their content, so every machine picks the same ones whatever the folder's path.
        let inShare = { (sample: ImageFolder.Sample) in share.contains(key: (sample.path as NSString).lastPathComponent) }
        let (mine, mineValidation) = (train.filter(inShare), validation.filter(inShare))
        let extracted = try features(train: mine, validation: mineValidation)
        let folders = extracted.folders.joined(separator: ", ")
        log.info("features of share \(share.index)/\(share.count): \(extracted.computed) computed, \(extracted.reused) already in \(folders)")
        return TrainingSummary(model: "", labels: model.labels, epochs: [], bestEpoch: 0, bestValidationAccuracy: nil, stoppedEarly: false,
                               skippedFiles: extracted.skipped, seconds: monotonicSeconds() - started,
                               features: FeatureCounts(images: mine.count + mineValidation.count, computed: extracted.computed,
                                                       reused: extracted.reused, folder: folders))
    }

    func run() throws -> TrainingSummary {
        let started = monotonicSeconds()
        Kernels.threads = settings.threads
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let extracted = try features(train: train, validation: validation)
        guard !extracted.train.isEmpty else { throw TrainError("no training image could be read (see the warnings): nothing to train the head on") }
        log.info("features: \(extracted.computed) computed, \(extracted.reused) read from \(extracted.folders.joined(separator: ", ")) (\(String(format: "%.1f", extracted.seconds)) s)")

        model.freezeAllButHead()
        let head = Sequential(model.headLayers)
        let optimizer = Optimizer(settings.optimizer)
        let loss = SoftmaxCrossEntropy(smoothing: settings.labelSmoothing)
        var history: [EpochRecord] = []
        var best: (accuracy: Float, epoch: Int, values: [[Float]]) = (-1, 0, [])
        let trainable = head.parameters.filter(\.trainable)
        let width = model.featureWidth
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
            "backbone": backbones.map(\.name).joined(separator: ","),
        ])
        return TrainingSummary(model: path, labels: model.labels, epochs: history, bestEpoch: best.epoch,
                               bestValidationAccuracy: extracted.validation.isEmpty ? nil : best.accuracy, stoppedEarly: false,
                               skippedFiles: extracted.skipped, seconds: monotonicSeconds() - started)
    }

    /// The views past the first are augmented as `--augment` would (standard flips, rotation, shifts, zoom,
    /// brightness) unless the run set its own augmentation.
    private var trainingAugmentation: Augmentation {
        settings.augmentation == Augmentation() ? .standard : settings.augmentation
    }
}

