import ArgumentParser
import Engine
import Files
import Foundation
import Train

/// Training-step throughput of the built-in trainer on random batches, for `scripts/bench-train.sh`, which runs
/// the same network in PyTorch beside it.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train", abstract: "Time training steps (forward, backward, AdamW) of a model on random batches.")

    @Option(help: "resnet or baseline.") var arch = "resnet"
    @Option var inputSize = 32
    @Option var width = 16
    @Option var blocks = 2
    @Option var classes = 10
    @Option var batchSize = 64
    @Option(help: "Timed steps (after two untimed ones).") var steps = 20
    @Option var threads = 2
    @Option(help: "Write the trained model here (to check that Python's safetensors reads it).") var save: String?
    @Flag(help: "Only print how this build convolves.") var describeEngine = false
    @OptionGroup var output: MeasuredValues

    func run() throws {
        if describeEngine { return print(Kernels.convolutionDescription) }
        var spec = ModelSpec(classes: classes)
        spec.architecture = ModelSpec.Architecture(rawValue: arch) ?? .resnet
        (spec.inputSize, spec.width, spec.blocksPerStage) = (inputSize, width, blocks)
        let model = Model(spec: spec, labels: (0..<classes).map { "c\($0)" }, seed: 1)
        let seconds = TrainingStepBenchmark.run(model, batchSize: batchSize, steps: steps, threads: threads)
        let parameters = model.parameters.filter(\.trainable).reduce(0) { $0 + $1.count }
        output.report(String(format: "imgcls %@ %d px, width %d, %d blocks/stage, %d parameters, batch %d, %d threads: %.1f images/s (%.1f ms/step)",
                             arch, inputSize, width, blocks, parameters, batchSize, threads,
                             Double(batchSize * steps) / seconds, seconds / Double(steps) * 1000),
                      ["images_per_second": Double(batchSize * steps) / seconds, "parameters": Double(parameters)])
        if let save { try ModelFile.save(model, to: save) }
    }
}

/// One 3x3 convolution's passes on one thread, in GFLOPS, to see how near the core's peak each shape runs.
struct BenchConvolution: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-conv", abstract: "Time one 3x3 convolution's forward and backward passes (GFLOPS, one thread).")

    @Option(help: "Input and output channels.") var channels = 32
    @Option(help: "Image side in pixels.") var side = 32
    @Option var batch = 16
    @Option(help: "Passes per step; the fastest counts.") var repeats = 7

    func run() {
        for (pass, gflops) in ConvolutionBenchmark.run(channels: channels, side: side, batch: batch, repeats: repeats) {
            print(String(format: "%@ %.1f GFLOPS", pass, gflops))
        }
    }
}

/// Times whole training steps (forward, loss, backward, AdamW update) on random batches: the engine's speed
/// without image loading, which the benchmark script compares with PyTorch on the same network.
enum TrainingStepBenchmark {
    /// Seconds for `steps` steps, after two untimed warm-up steps.
    static func run(_ model: Model, batchSize: Int, steps: Int, threads: Int) -> Double {
        Kernels.threads = threads
        var random = SplitMix64(seed: 5)
        let side = model.spec.inputSize
        let input = Tensor(shape: [batchSize, side, side, 3],
                           data: (0..<(batchSize * side * side * 3)).map { _ in Float(random.nextGaussian()) })
        let labels = (0..<batchSize).map { _ in random.next(below: model.labels.count) }
        let optimizer = Optimizer(OptimizerSettings())
        let loss = SoftmaxCrossEntropy(smoothing: 0.1)
        func step() { _ = model.trainStep(input, labels: labels, loss: loss, optimizer: optimizer, rate: 1e-3) }
        step()
        step()
        let started = monotonicSeconds()
        for _ in 0..<steps { step() }
        return monotonicSeconds() - started
    }
}

/// One 3x3, stride-1 convolution's passes on one thread, in GFLOPS: the forward pass, the whole backward pass
/// (input and weight gradients) and the weight gradient alone, each the fastest of `repeats` runs.
enum ConvolutionBenchmark {
    static func run(channels: Int, side: Int, batch: Int, repeats: Int) -> [(pass: String, gflops: Double)] {
        let saved = Kernels.threads
        Kernels.threads = 1
        defer { Kernels.threads = saved }
        var random = SplitMix64(seed: 5)
        let convolution = Conv2D("bench", in: channels, out: channels, kernel: 3, random: &random)
        let count = batch * side * side * channels
        let input = Tensor(shape: [batch, side, side, channels], data: (0..<count).map { _ in Float(random.nextGaussian()) })
        let forwardOperations = 2.0 * Double(batch * side * side * 9 * channels * channels)
        return [("forward", 1.0), ("backward", 2.0), ("weight gradient", 1.0)].map { pass, products in
            convolution.computesInputGradient = pass != "weight gradient"
            var best = Double.infinity
            for _ in 0..<repeats {
                let output = convolution.forward(input, training: true)
                let started = monotonicSeconds()
                if pass == "forward" { _ = convolution.forward(input, training: true) } else { _ = convolution.backward(output) }
                best = min(best, monotonicSeconds() - started)
            }
            return (pass, products * forwardOperations / best / 1e9)
        }
    }
}

/// Feature extraction (the backbone up to its pooled features, inference) on random batches, for
/// `scripts/bench-features.sh`, which runs the same network in ONNX Runtime beside it.
struct BenchFeatures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-features", abstract: "Time a backbone's forward pass to its pooled features on random batches.")

    @Option(help: "An installed backbone's model file.") var model: String
    @Option var batchSize = 1
    @Option(help: "Timed batches (after one untimed).") var batches = 10
    @Option var threads = 2
    @Flag(help: "Also print the time per kind of layer.") var profile = false
    @OptionGroup var output: MeasuredValues
    @Option(help: "Write the features of the fixed input 1.5 sin(0.37 h + 0.23 w + 1.7 c) here (.npy) and stop.")
    var writeFeatures: String?

    func run() throws {
        let loaded = try ModelFile.load(model).model
        Kernels.threads = threads
        let side = loaded.spec.inputSize
        var random = SplitMix64(seed: 5)
        let input = Tensor(shape: [batchSize, side, side, 3], data: (0..<(batchSize * side * side * 3)).map { _ in Float(random.nextGaussian()) })
        let features = loaded.featureExtractor()
        if let writeFeatures {
            var fixed: [Float] = []
            for h in 0..<side { for w in 0..<side { for c in 0..<3 {
                fixed.append(Float(1.5 * sin(0.37 * Double(h) + 0.23 * Double(w) + 1.7 * Double(c))))
            } } }
            let output = features.forward(Tensor(shape: [1, side, side, 3], data: fixed), training: false)
            return try FileIO.writeAtomically(Self.npy(output), to: writeFeatures)
        }
        _ = features.forward(input, training: false)
        let started = monotonicSeconds()
        for _ in 0..<batches { _ = features.forward(input, training: false) }
        let seconds = monotonicSeconds() - started
        output.report(String(format: "imgcls %@, batch %d, %d threads: %.1f images/s (%.1f ms/batch)", loaded.spec.architecture.rawValue,
                             batchSize, threads, Double(batchSize * batches) / seconds, seconds / Double(batches) * 1000),
                      ["images_per_second": Double(batchSize * batches) / seconds])
        if profile {
            // The mean of `batches` passes (the first, which creates the library's primitives, not counted).
            var spent: [String: Double] = [:]
            _ = Self.timedForward(features, input, &spent)
            spent = [:]
            for _ in 0..<batches { _ = Self.timedForward(features, input, &spent) }
            for (kind, time) in spent.sorted(by: { $0.value > $1.value }) {
                print(String(format: "  %-28@ %7.2f ms", kind, time * 1000 / Double(batches)))
            }
        }
    }

    /// A float32 array in numpy's .npy format (version 1.0).
    static func npy(_ tensor: Tensor) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(tensor.shape.map(String.init).joined(separator: ", ")),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        for value in tensor.data { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }

    /// A forward pass layer by layer, adding each leaf layer's time to its kind (a 1x1 convolution apart).
    static func timedForward(_ layer: Layer, _ input: Tensor, _ spent: inout [String: Double]) -> Tensor {
        if let sequence = layer as? Sequential { return sequence.layers.reduce(input) { timedForward($1, $0, &spent) } }
        if let residual = layer as? Residual {
            var output = timedForward(residual.body, input, &spent)
            let started = monotonicSeconds()
            for i in output.data.indices { output.data[i] += input.data[i] }
            spent["residual add", default: 0] += monotonicSeconds() - started
            return output
        }
        if let graph = layer as? GraphNetwork {
            let image = Array(input.data[0..<input.itemSize])
            return graph.timedRun(Tensor(shape: [1] + input.shape.dropFirst(), data: image), &spent)
        }
        var kind = String(describing: type(of: layer))
        if let conv = layer as? Conv2D { kind += " \(conv.kernel)x\(conv.kernel)" }
        if let conv = layer as? DepthwiseConv2D { kind += " \(conv.kernel)x\(conv.kernel) s\(conv.stride)" }
        let started = monotonicSeconds()
        let output = layer.forward(input, training: false)
        spent[kind, default: 0] += monotonicSeconds() - started
        return output
    }
}

/// Fine-tuning steps on a backbone (its last blocks unfrozen, a new head) on random batches, for
/// `scripts/bench-finetune.sh`, which runs the same in PyTorch beside it.
struct BenchFinetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-finetune", abstract: "Time fine-tuning steps of a backbone's last blocks on random batches.")

    @Option(help: "An installed backbone's model file.") var model: String
    @Option var unfreeze = 2
    @Option var classes = 7
    @Option var batchSize = 16
    @Option(help: "Timed steps (after two untimed ones).") var steps = 5
    @Option var threads = 2
    @OptionGroup var output: MeasuredValues

    func run() throws {
        let backbone = try ModelFile.load(model).model
        let tuned = Model.onBackbone(backbone, labels: (0..<classes).map { "c\($0)" }, hiddenUnits: nil, dropout: 0.2, seed: 1)
        tuned.unfreezeLast(unfreeze, rateScale: 0.1)
        let seconds = TrainingStepBenchmark.run(tuned, batchSize: batchSize, steps: steps, threads: threads)
        let trainable = tuned.parameters.filter(\.trainable).reduce(0) { $0 + $1.count }
        output.report(String(format: "imgcls %@ last %d blocks, %d trainable parameters, batch %d, %d threads: %.1f images/s (%.0f ms/step)",
                             backbone.spec.architecture.rawValue, unfreeze, trainable, batchSize, threads,
                             Double(batchSize * steps) / seconds, seconds / Double(steps) * 1000),
                      ["images_per_second": Double(batchSize * steps) / seconds])
    }
}
