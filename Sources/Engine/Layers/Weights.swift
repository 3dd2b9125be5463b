import Files

// Initial weights and bias gradients, shared by the layers that have them.

/// He-normal initial weights, right for layers followed by ReLU.
func heNormal(count: Int, fanIn: Int, _ random: inout SplitMix64) -> [Float] {
    let deviation = (2.0 / Double(fanIn)).squareRoot()
    return (0..<count).map { _ in Float(random.nextGaussian() * deviation) }
}

/// Adds the sum over all but the last axis of `gradient` to `parameter.gradient` (bias gradients).
func accumulateChannelSums(_ gradient: Tensor, into parameter: Parameter) {
    let channels = parameter.count
    gradient.data.withUnsafeBufferPointer { g in
        parameter.gradient.withUnsafeMutableBufferPointer { sums in
            for row in 0..<(g.count / channels) {
                for c in 0..<channels { sums[c] += g[row * channels + c] }
            }
        }
    }
}
