import Files

/// The default network: a stem, three stages of basic residual blocks (widths w, 2w, 4w, stride 2 between
/// stages) and global average pooling; `Model` adds dropout and the head.
enum ResidualNetwork {
    static func make(_ spec: ModelSpec, _ random: inout SplitMix64) -> Sequential {
        let w = spec.width
        let network = Sequential(convBlock("stem", 3, w, stride: spec.stemStride, relu: true, &random))
        var channels = w
        for (stage, width) in [w, 2 * w, 4 * w].enumerated() {
            for block in 0..<spec.blocksPerStage {
                let name = "stage\(stage + 1).block\(block + 1)"
                let stride = stage > 0 && block == 0 ? 2 : 1
                let body = Sequential(convBlock("\(name).a", channels, width, stride: stride, relu: true, &random)
                                      + convBlock("\(name).b", width, width, stride: 1, relu: false, &random))
                let shortcut = stride != 1 || channels != width
                    ? Sequential([Conv2D("\(name).shortcut.conv", in: channels, out: width, kernel: 1, stride: stride, random: &random),
                                  BatchNorm("\(name).shortcut.bn", channels: width)])
                    : nil
                network.append(Residual(body: body, shortcut: shortcut, relu: true))
                channels = width
            }
        }
        network.append(GlobalAveragePool())
        return network
    }
}

/// Conv 3x3, batch norm, and (with `relu`) a ReLU fused into the batch norm.
func convBlock(_ name: String, _ input: Int, _ output: Int, stride: Int, relu: Bool,
              _ random: inout SplitMix64) -> [Layer] {
    [Conv2D("\(name).conv", in: input, out: output, kernel: 3, stride: stride, random: &random),
     BatchNorm("\(name).bn", channels: output, relu: relu)]
}
