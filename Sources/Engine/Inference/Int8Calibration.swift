import Files

/// Calibration for an int8 model (`imgcls quantize`): the float network on library kernels runs over a few hundred
/// images while each convolution that will run in int8 records the range of its inputs; each range gives that
/// convolution's input scale. Depthwise convolutions stay in float: they are memory-bound, so 8-bit products save
/// little there, and quantizing their wide inputs would cost a pass of its own.
public enum Int8Calibration {
    /// The input scales for `model`'s int8 form, from its float forward passes over `batches`. Nil when the
    /// library kernels cannot run here (int8 exists only on them).
    public static func scales(_ model: Model, batches: some Sequence<Tensor>) -> [String: InputQuantization]? {
        guard InferenceKernels.current == .library, model.int8.isEmpty else { return nil }
        let network = model.inferenceNetwork(kernels: .library)
        let observed = InferenceKernels.libraryConvolutions(in: network).filter { $0.groups == 1 }
        var ranges: [String: InputRange] = [:]
        for conv in observed {
            let range = ranges[conv.name] ?? InputRange()
            conv.observer = range
            ranges[conv.name] = range
        }
        for batch in batches { _ = network.forward(batch, training: false) }
        return ranges.compactMapValues { range in
            let bounds = range.bounds
            return bounds.lowest <= bounds.highest ? InputQuantization(range: bounds) : nil
        }
    }

    /// How many convolutions the network runs on the library, and how many of them `scales` would run in int8.
    public static func convolutionCounts(_ model: Model, scales: [String: InputQuantization]) -> (all: Int, int8: Int) {
        let convs = InferenceKernels.libraryConvolutions(in: model.inferenceNetwork(kernels: .library))
        return (convs.count, convs.filter { scales[$0.name] != nil }.count)
    }
}
