import Files
import Foundation

/// Which kernels inference runs on. `library`: oneDNN's (`LibraryConvolution`) for every convolution, with the
/// steps after it fused in; `reference`: the engine's own loops, which the tests check the library against
/// (`IMGCLS_KERNELS=reference` forces them, for debugging). Training runs the engine's own loops either way,
/// except through frozen layers, which run as inference.
public enum InferenceKernels: String, Sendable {
    case library, reference

    /// From `IMGCLS_KERNELS` (library when unset), or the reference when oneDNN cannot run on this machine.
    public nonisolated(unsafe) static var current: InferenceKernels = {
        if ProcessInfo.processInfo.environment["IMGCLS_KERNELS"] == "reference" || OneDNN.engine == nil { return .reference }
        return .library
    }()

    /// What runs, in words, for logs and reports: "oneDNN 2.6.3 (avx512_core_vnni)" or the engine's own loops and why.
    public static var description: String {
        switch current {
        case .library: return "\(OneDNN.version) (\(OneDNN.instructionSet))"
        case .reference where OneDNN.engine == nil: return "the engine's own loops (oneDNN found no CPU engine)"
        case .reference: return "the engine's own loops (IMGCLS_KERNELS=reference)"
        }
    }

    /// The layers with every convolution moved onto the library's kernels when `kernels` says so (else as they
    /// are): the input is folded layers (`InferenceFolding`), which this leaves unchanged. The convolutions that
    /// `int8` names run in int8 with its input scales.
    static func selected(_ layers: [Layer], _ kernels: InferenceKernels = current, int8: [String: InputQuantization] = [:]) -> [Layer] {
        kernels == .library && OneDNN.engine != nil ? onLibrary(layers, int8) : layers
    }

    /// A `ZeroPad` before a convolution becomes its uneven pads; a ReLU clamp its post-op; the last convolution
    /// of a residual body adds the shortcut in its own pass.
    private static func onLibrary(_ layers: [Layer], _ int8: [String: InputQuantization]) -> [Layer] {
        var result: [Layer] = []
        for layer in layers {
            if let (conv, tookPad) = libraryConvolution(layer, after: result.last as? ZeroPad, int8) {
                if tookPad { result.removeLast() }
                result.append(conv)
            } else if let sequence = layer as? Sequential {
                result.append(Sequential(onLibrary(sequence.layers, int8)))
            } else if let combined = layer as? CombinedBackbones {
                result.append(combined.mappingBodies { onLibrary($0, int8) })
            } else if let residual = layer as? Residual {
                result.append(LibraryResidual(residual, body: onLibrary(residual.body.layers, int8),
                                              shortcut: residual.shortcut.map { onLibrary($0.layers, int8) }))
            } else if let graph = layer as? GraphNetwork {
                result.append(graph.onLibrary(int8: int8))
            } else {
                result.append(layer)
            }
        }
        return result
    }

    /// Every library convolution in a network on library kernels, in order (calibration observes them).
    static func libraryConvolutions(in layer: Layer) -> [LibraryConvolution] {
        switch layer {
        case let sequence as Sequential: sequence.layers.flatMap(libraryConvolutions)
        case let residual as LibraryResidual:
            libraryConvolutions(in: residual.body) + (residual.fusedLast.map { [$0] } ?? [])
                + (residual.shortcut.map(libraryConvolutions) ?? [])
        case let combined as CombinedBackbones: combined.bodies.flatMap(libraryConvolutions)
        case let graph as GraphNetwork: graph.runners.compactMap(\.fused?.convolution)
        case let conv as LibraryConvolution: [conv]
        default: []
        }
    }

    /// A convolution's name, from its weight's ("blocks.3.expand.conv.weight", "backbone/graph.12.w0"): the key of
    /// its int8 input scale in a model file.
    static func convolutionName(weight: String) -> String {
        for suffix in [".weight", ".w0"] where weight.hasSuffix(suffix) { return String(weight.dropLast(suffix.count)) }
        return weight
    }

    /// The library convolution computing what `layer` computes (with a `ZeroPad` before it taken in, when it
    /// pads nothing itself: `tookPad`), or nil when `layer` is not a convolution.
    private static func libraryConvolution(_ layer: Layer, after pad: ZeroPad?,
                                           _ int8: [String: InputQuantization]) -> (LibraryConvolution, tookPad: Bool)? {
        var tookPad = false
        func pads(_ padding: Int) -> [Int] {
            guard padding == 0, let pad else { return [padding, padding, padding, padding] }
            tookPad = true
            return [pad.top, pad.left, pad.bottom, pad.right]
        }
        func clamp(_ cap: Float?) -> [PostOp] { cap.map { [.clamp(low: 0, high: $0)] } ?? [] }
        let name = convolutionName(weight: layer.parameters.first?.name ?? "convolution")
        if let conv = layer as? Conv2D {
            let window = Window(kernel: [conv.kernel, conv.kernel], strides: [conv.stride, conv.stride], pads: pads(conv.padding))
            return (LibraryConvolution(name, window: window, groups: 1, inChannels: conv.inChannels, outChannels: conv.outChannels,
                                       weights: conv.weight.value, bias: conv.bias?.value, postOps: clamp(conv.outputCap),
                                       quantization: int8[name]), tookPad)
        }
        if let conv = layer as? DepthwiseConv2D {
            let padding = conv.foldedPadding.map { [$0.before, $0.before, $0.after, $0.after] } ?? pads(conv.padding)
            let window = Window(kernel: [conv.kernel, conv.kernel], strides: [conv.stride, conv.stride], pads: padding)
            return (LibraryConvolution(name, window: window, groups: conv.channels, inChannels: conv.channels,
                                       outChannels: conv.channels, weights: conv.weight.value, bias: conv.bias?.value,
                                       postOps: clamp(conv.outputCap), quantization: int8[name]), tookPad)
        }
        return nil
    }
}

/// `Residual` on library kernels: the body's last convolution adds the shortcut (and applies the ReLU after it)
/// in its own pass, where it can; else the sum as `Residual` does it.
final class LibraryResidual: Layer {
    let body: Sequential
    let shortcut: Sequential?
    /// The body's last convolution with the addition (and ReLU) fused, or nil.
    let fusedLast: LibraryConvolution?
    let relu: Bool

    init(_ residual: Residual, body: [Layer], shortcut: [Layer]?) {
        if let last = body.last as? LibraryConvolution, !last.adds {
            fusedLast = LibraryConvolution(last.name, window: last.window, groups: last.groups, inChannels: last.inChannels,
                                           outChannels: last.outChannels, weights: last.weight.value, bias: last.bias?.value,
                                           postOps: last.postOps + [.addition] + (residual.relu ? [.clamp(low: 0, high: .infinity)] : []),
                                           quantization: last.quantization)
            self.body = Sequential(Array(body.dropLast()))
        } else {
            fusedLast = nil
            self.body = Sequential(body)
        }
        self.shortcut = shortcut.map(Sequential.init)
        relu = residual.relu
    }

    func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(!training, "a library residual block is for inference only")
        let inner = body.forward(input, training: false)
        let skip = shortcut?.forward(input, training: false) ?? input
        if let fusedLast { return fusedLast.forward(inner, adding: skip) }
        var output = inner
        add(skip.data, into: &output.data, relu: relu)
        return output
    }

    func backward(_ outputGradient: Tensor) -> Tensor {
        preconditionFailure("a library residual block is for inference only")
    }

    var parameters: [Parameter] { body.parameters + (fusedLast?.parameters ?? []) + (shortcut?.parameters ?? []) }
}
