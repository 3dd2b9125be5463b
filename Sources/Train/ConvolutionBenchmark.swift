import Files

/// One 3x3, stride-1 convolution's passes on one thread, in GFLOPS: the forward pass, the whole backward pass
/// (input and weight gradients) and the weight gradient alone, each the fastest of `repeats` runs.
public enum ConvolutionBenchmark {
    public static func run(channels: Int, side: Int, batch: Int, repeats: Int) -> [(pass: String, gflops: Double)] {
        let saved = Parallel.threads
        Parallel.threads = 1
        defer { Parallel.threads = saved }
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
