import Files

/// Times whole training steps (forward, loss, backward, AdamW update) on random batches: the engine's speed
/// without image loading, which the benchmark script compares with PyTorch on the same network.
public enum TrainingStepBenchmark {
    /// How this build convolves, for benchmark reports.
    public static var engine: String {
        DirectConvolution.isFast
            ? "direct convolution loops built for AVX2/FMA where channels allow, im2col + OpenBLAS (single-threaded) elsewhere"
            : "im2col + OpenBLAS (single-threaded) in each (a portable build: no AVX2/FMA loops)"
    }

    /// Seconds for `steps` steps, after two untimed warm-up steps.
    public static func run(_ model: Model, batchSize: Int, steps: Int, threads: Int) -> Double {
        Parallel.threads = threads
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
