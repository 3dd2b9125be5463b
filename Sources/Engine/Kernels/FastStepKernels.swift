import Files
import Foundation

/// Tight loops for the steps around an imported network's convolutions when it runs on library kernels: the
/// activations no convolution took as a post-op, element-wise arithmetic with a tensor of the same shape or a
/// per-channel one (squeeze-excite's scaling), pooling over positions, max pooling. `GraphKernels` holds the
/// plain loops they are checked against (the network tests compare the two paths); a step of any other form runs
/// there. (MobileNetV3-Large at batch 1: the plain loops of these steps took a third of its time.)
enum FastStepKernels {
    /// The step's output, or nil when these loops do not take its form.
    static func run(_ step: GraphStep, _ inputs: [Tensor], weights: [[Float]]) -> Tensor? {
        switch step.op {
        case let .unary(function):
            return unary(function, inputs[0])
        case let .binary(function, constantFirst):
            let other = inputs.count > 1 ? inputs[1] : Tensor(shape: step.weights[0], data: weights[0])
            let (a, b) = constantFirst ? (other, inputs[0]) : (inputs[0], other)
            return binary(function, a, b, step.shape)
        case let .reduce(kind, axes) where kind != .max:
            return reduce(inputs[0], mean: kind == .mean, axes, step.shape)
        case let .maxPool(window) where window.dilations == [1, 1]:
            return maxPool(inputs[0], window, step.shape)
        default:
            return nil
        }
    }

    /// `f` applied to every value, in place when `x` is not shared.
    @inline(__always)
    private static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        var y = x
        y.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = f(p[i]) } }
        return y
    }

    private static func unary(_ function: UnaryFunction, _ x: Tensor) -> Tensor? {
        switch function {
        case .relu: map(x) { max($0, 0) }
        case let .clip(low, high): map(x) { min(max($0, low), high) }
        case let .hardSigmoid(alpha, beta): map(x) { min(max(alpha * $0 + beta, 0), 1) }
        case .hardSwish: map(x) { $0 * min(max($0 + 3, 0), 6) / 6 }
        case .sigmoid: map(x) { 1 / (1 + Foundation.exp(-$0)) }
        default: nil
        }
    }

    /// `f(a, b)` where one operand has the output's shape and the other either the same or its trailing axes
    /// (a per-channel vector, a scalar): the smaller repeats along the larger. Nil for other broadcasts.
    private static func binary(_ function: BinaryFunction, _ a: Tensor, _ b: Tensor, _ shape: [Int]) -> Tensor? {
        let count = shape.reduce(1, *)
        func repeats(_ small: Tensor) -> Bool {
            let trimmed = small.shape.drop { $0 == 1 }
            return shape.count >= trimmed.count && Array(shape.suffix(trimmed.count)) == Array(trimmed)
        }
        guard count > 0, a.count == count || b.count == count, repeats(a), repeats(b), function != .power else { return nil }
        return combine(a, b, shape, function)
    }

    /// Row by row, the smaller operand repeating along the larger; a large tensor's rows shared by the threads (one
    /// image on the calling thread uses them all).
    private static func combine(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ function: BinaryFunction) -> Tensor {
        var out = Tensor(uninitialized: shape)
        let count = out.count
        // Same shapes: rows of the last axis; else the smaller operand's size, which repeats.
        let period = a.count == b.count ? max(1, shape.last ?? count) : min(a.count, b.count)
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { po in
                    let shared = SendableBox((pa.baseAddress!, pb.baseAddress!, po.baseAddress!))
                    Parallel.forEachRange(po.count / period, minimum: max(1, (1 << 15) / period)) { _, rows in
                        let (baseA, baseB, baseOut) = shared.value
                        for row in rows {
                            let start = row * period
                            let (x, y, o) = (baseA + (a.count == count ? start : 0), baseB + (b.count == count ? start : 0), baseOut + start)
                            switch function {
                            case .add: for j in 0..<period { o[j] = x[j] + y[j] }
                            case .subtract: for j in 0..<period { o[j] = x[j] - y[j] }
                            case .multiply: for j in 0..<period { o[j] = x[j] * y[j] }
                            case .divide: for j in 0..<period { o[j] = x[j] / y[j] }
                            case .power: preconditionFailure("power has no fast loop")
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Sum or mean over the contiguous axes `axes`, as [outer, reduced, inner].
    private static func reduce(_ x: Tensor, mean: Bool, _ axes: [Int], _ shape: [Int]) -> Tensor? {
        let first = axes.min()!, last = axes.max()!
        guard axes.count == last - first + 1 else { return nil }
        let outer = x.shape[..<first].reduce(1, *), mid = x.shape[first...last].reduce(1, *), inner = x.shape[(last + 1)...].reduce(1, *)
        var out = Tensor(zeros: shape)
        let scale: Float = mean ? 1 / Float(max(1, mid)) : 1
        x.data.withUnsafeBufferPointer { px in
            out.data.withUnsafeMutableBufferPointer { po in
                for o in 0..<outer {
                    let target = po.baseAddress! + o * inner
                    for m in 0..<mid {
                        let source = px.baseAddress! + (o * mid + m) * inner
                        for i in 0..<inner { target[i] += source[i] }
                    }
                    for i in 0..<inner { target[i] *= scale }
                }
            }
        }
        return out
    }

    /// NHWC max pooling, the channels of each tap at once.
    private static func maxPool(_ x: Tensor, _ w: Window, _ shape: [Int]) -> Tensor {
        let (h, wd, c) = (x.shape[1], x.shape[2], x.shape[3]), (oh, ow) = (shape[1], shape[2])
        var out = Tensor(uninitialized: shape)
        x.data.withUnsafeBufferPointer { px in
            out.data.withUnsafeMutableBufferPointer { po in
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let target = po.baseAddress! + (oy * ow + ox) * c
                        target.update(repeating: -.infinity, count: c)
                        for ky in 0..<w.kernel[0] {
                            let iy = oy * w.strides[0] + ky - w.pads[0]
                            guard iy >= 0, iy < h else { continue }
                            for kx in 0..<w.kernel[1] {
                                let ix = ox * w.strides[1] + kx - w.pads[1]
                                guard ix >= 0, ix < wd else { continue }
                                let source = px.baseAddress! + (iy * wd + ix) * c
                                for i in 0..<c { target[i] = max(target[i], source[i]) }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
