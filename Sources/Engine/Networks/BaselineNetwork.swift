import Files

/// A few conv-BN-ReLU-maxpool blocks and global average pooling, for comparison with the residual network.
enum BaselineNetwork {
    static func make(_ spec: ModelSpec, _ random: inout SplitMix64) -> Sequential {
        let w = spec.width
        var layers: [Layer] = []
        var channels = 3
        for (index, width) in [w, 2 * w, 4 * w].enumerated() {
            layers += convBlock("block\(index + 1)", channels, width, stride: index == 0 ? spec.stemStride : 1, relu: true, &random)
            layers += [MaxPool(kernel: 2)]
            channels = width
        }
        return Sequential(layers + [GlobalAveragePool()])
    }
}
