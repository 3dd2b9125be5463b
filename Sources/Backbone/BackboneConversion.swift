import Engine
import Files
import TorchCheckpoint

/// A PyTorch EfficientNet-Lite state dict (the `efficientnet-lite-pytorch` package's names and layouts) as an
/// imgcls model: the ImageNet classifier with its 1000 labels, whose weights `train --backbone` starts from.
enum BackboneConversion {
    static func model(_ checkpoint: TorchCheckpoint, variant: EfficientNetLite.Variant, source: String) throws(BackboneError) -> Model {
        var spec = ModelSpec(classes: ImageNetClasses.names.count)
        spec.architecture = switch variant {
        case .lite0: .efficientnetLite0
        case .lite1: .efficientnetLite1
        case .lite2: .efficientnetLite2
        }
        spec.inputSize = variant.inputSize
        spec.dropout = variant.dropout
        let model = Model(spec: spec, labels: ImageNetClasses.names, normalization: .efficientNetLite, seed: 0)
        var unused = Set(checkpoint.names.filter { !$0.hasSuffix(".num_batches_tracked") })
        for parameter in model.parameters {
            guard let key = torchKey(for: parameter.name), let tensor = checkpoint.tensors[key] else {
                throw BackboneError("\(source): no tensor for \(parameter.name) (expected \(torchKey(for: parameter.name) ?? "?")); is this an EfficientNet-Lite \(variant.rawValue.dropFirst(4)) checkpoint?")
            }
            unused.remove(key)
            let values = reordered(tensor, for: parameter.shape)
            guard let values else {
                throw BackboneError("\(source): \(key) has shape \(tensor.shape), which does not fit \(parameter.name) \(parameter.shape)")
            }
            parameter.value = values
        }
        guard unused.isEmpty else {
            throw BackboneError("\(source): \(unused.count) tensors have no place in EfficientNet-Lite \(variant.rawValue.dropFirst(4)) (\(unused.sorted().prefix(3).joined(separator: ", ")), …)")
        }
        return model
    }

    /// The PyTorch name of an imgcls parameter.
    static func torchKey(for name: String) -> String? {
        let parts = name.split(separator: ".").map(String.init)
        let field = parts.last!
        func normalization(_ prefix: String) -> String { "\(prefix).\(field)" }
        switch parts.count {
        case 3 where parts[0] == "stem": return parts[1] == "conv" ? "_conv_stem.\(field)" : normalization("_bn0")
        case 3 where parts[0] == "top": return parts[1] == "conv" ? "_conv_head.\(field)" : normalization("_bn1")
        case 2 where parts[0] == "head": return "_fc.\(field)"
        case 5 where parts[0] == "blocks":
            let block = "_blocks.\(parts[1])"
            switch (parts[2], parts[3]) {
            case ("expand", "conv"): return "\(block)._expand_conv.\(field)"
            case ("expand", "bn"): return "\(block)._bn0.\(field)"
            case ("depthwise", "conv"): return "\(block)._depthwise_conv.\(field)"
            case ("depthwise", "bn"): return "\(block)._bn1.\(field)"
            case ("project", "conv"): return "\(block)._project_conv.\(field)"
            case ("project", "bn"): return "\(block)._bn2.\(field)"
            default: return nil
            }
        default: return nil
        }
    }

    /// PyTorch's layouts in imgcls's: convolutions [out, in, kh, kw] as [kh, kw, in, out], depthwise [c, 1, kh, kw]
    /// as [kh, kw, c], dense [out, in] as [in, out]; vectors as they are. Nil when the shapes do not correspond.
    static func reordered(_ tensor: TorchCheckpoint.Tensor, for shape: [Int]) -> [Float]? {
        let t = tensor.shape, v = tensor.values
        switch (t.count, shape.count) {
        case (1, 1) where t == shape:
            return v
        case (4, 4) where shape == [t[2], t[3], t[1], t[0]]:
            let (o, i, kh, kw) = (t[0], t[1], t[2], t[3])
            var out = [Float](repeating: 0, count: v.count)
            for a in 0..<o { for b in 0..<i { for y in 0..<kh { for x in 0..<kw {
                out[((y * kw + x) * i + b) * o + a] = v[((a * i + b) * kh + y) * kw + x]
            } } } }
            return out
        case (4, 3) where t[1] == 1 && shape == [t[2], t[3], t[0]]:
            let (c, kh, kw) = (t[0], t[2], t[3])
            var out = [Float](repeating: 0, count: v.count)
            for a in 0..<c { for y in 0..<kh { for x in 0..<kw { out[(y * kw + x) * c + a] = v[(a * kh + y) * kw + x] } } }
            return out
        case (2, 2) where shape == [t[1], t[0]]:
            let (rows, columns) = (t[0], t[1])
            var out = [Float](repeating: 0, count: v.count)
            for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = v[r * columns + c] } }
            return out
        default:
            return nil
        }
    }
}

/// A backbone that cannot be installed or used: what went wrong, and what to do.
public typealias BackboneError = ErrorMessage
