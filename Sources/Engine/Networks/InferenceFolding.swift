import Files

/// Batch norm folded into the convolution before it, for inference: y = (conv(x) - mean) / sqrt(var + eps) * gamma
/// + beta is conv'(x) + b' with each output channel's weights scaled by gamma / sqrt(var + eps) and
/// b' = beta - mean * that scale. One pass over memory fewer per layer; the values agree up to rounding (the
/// tests compare a folded network with the unfolded one).
enum InferenceFolding {
    /// New layers that compute what `layers` compute in inference mode, with every convolution + batch norm pair
    /// folded (inside `Sequential` and `Residual` too). The original layers are left as they are.
    static func folded(_ layers: [Layer]) -> [Layer] {
        mergingPadding(foldingNormalization(layers))
    }

    /// A `ZeroPad` before an unpadded depthwise convolution becomes the convolution's own uneven border (no
    /// padded copy of the whole batch).
    private static func mergingPadding(_ layers: [Layer]) -> [Layer] {
        var result: [Layer] = []
        for layer in layers {
            if let conv = layer as? DepthwiseConv2D, conv.padding == 0, conv.foldedPadding == nil,
               let pad = result.last as? ZeroPad, pad.top == pad.left, pad.bottom == pad.right {
                // A new layer: the network folded from keeps its own.
                let merged = depthwise(like: conv, weights: conv.weight.value, bias: conv.bias?.value)
                merged.outputCap = conv.outputCap
                merged.foldedPadding = (pad.top, pad.bottom)
                result.removeLast()
                result.append(merged)
                continue
            }
            result.append(layer)
        }
        return result
    }

    private static func foldingNormalization(_ layers: [Layer]) -> [Layer] {
        var result: [Layer] = []
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            if i + 1 < layers.count, let norm = layers[i + 1] as? BatchNorm, !norm.relu, let merged = fold(layer, norm) {
                i += 2
                // A ReLU right after clamps in the same pass.
                if i < layers.count, let relu = layers[i] as? ReLU {
                    if let conv = merged as? Conv2D { conv.outputCap = relu.cap } else if let conv = merged as? DepthwiseConv2D { conv.outputCap = relu.cap }
                    i += 1
                }
                result.append(merged)
                continue
            }
            if let sequence = layer as? Sequential {
                result.append(Sequential(folded(sequence.layers)))
            } else if let combined = layer as? CombinedBackbones {
                result.append(combined.mappingBodies(folded))
            } else if let residual = layer as? Residual {
                result.append(Residual(body: Sequential(folded(residual.body.layers)),
                                       shortcut: residual.shortcut.map { Sequential(folded($0.layers)) }, relu: residual.relu))
            } else {
                result.append(layer)
            }
            i += 1
        }
        return result
    }

    /// The per-channel scale and shift a batch norm applies in inference mode.
    private static func affine(_ norm: BatchNorm) -> (scale: [Float], shift: [Float]) {
        let scale = (0..<norm.scale.count).map { norm.scale.value[$0] / (norm.runningVariance.value[$0] + norm.epsilon).squareRoot() }
        let shift = (0..<scale.count).map { norm.shift.value[$0] - norm.runningMean.value[$0] * scale[$0] }
        return (scale, shift)
    }

    private static func fold(_ layer: Layer, _ norm: BatchNorm) -> Layer? {
        var random = SplitMix64(seed: 0)  // the weights are replaced below
        let (scale, shift) = affine(norm)
        if let conv = layer as? Conv2D, conv.outChannels == scale.count {
            let folded = Conv2D(conv.weight.name.replacingOccurrences(of: ".weight", with: ""), in: conv.inChannels,
                                out: conv.outChannels, kernel: conv.kernel, stride: conv.stride, padding: conv.padding,
                                bias: true, random: &random)
            folded.computesInputGradient = conv.computesInputGradient
            let out = conv.outChannels
            folded.weight.value = conv.weight.value.enumerated().map { $0.element * scale[$0.offset % out] }
            folded.bias!.value = (0..<out).map { shift[$0] + (conv.bias?.value[$0] ?? 0) * scale[$0] }
            return folded
        }
        if let conv = layer as? DepthwiseConv2D, conv.channels == scale.count {
            let c = conv.channels
            return depthwise(like: conv, weights: conv.weight.value.enumerated().map { $0.element * scale[$0.offset % c] },
                             bias: (0..<c).map { shift[$0] + (conv.bias?.value[$0] ?? 0) * scale[$0] })
        }
        return nil
    }

    /// A depthwise convolution shaped like `conv` holding `weights` (and `bias`, when given).
    private static func depthwise(like conv: DepthwiseConv2D, weights: [Float], bias: [Float]?) -> DepthwiseConv2D {
        var random = SplitMix64(seed: 0)  // the weights are replaced below
        let copy = DepthwiseConv2D(conv.weight.name.replacingOccurrences(of: ".weight", with: ""), channels: conv.channels,
                                   kernel: conv.kernel, stride: conv.stride, padding: conv.padding, bias: bias != nil, random: &random)
        copy.weight.value = weights
        if let bias { copy.bias!.value = bias }
        return copy
    }
}

extension Model {
    /// The network up to its pooled features (no dropout, no classifier), batch norm folded, on the inference
    /// kernels (`InferenceKernels`): what feature extraction runs. Built anew from the current weights; inference only.
    public func featureExtractor(kernels: InferenceKernels = .current) -> Sequential {
        Sequential(InferenceKernels.selected(InferenceFolding.folded(bodyLayers), kernels, int8: int8))
    }

    /// The whole network to its logits, batch norm folded, on the inference kernels: what prediction runs. Built anew from the current
    /// weights; inference only.
    public func inferenceNetwork(kernels: InferenceKernels = .current) -> Sequential {
        Sequential(InferenceKernels.selected(InferenceFolding.folded(bodyLayers), kernels, int8: int8) + headLayers)
    }
}
