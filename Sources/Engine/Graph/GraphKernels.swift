import Foundation

/// The loops of the graph steps that no engine layer runs: plain, written to be read and checked (the tests
/// compare whole imported networks with ONNX Runtime); the fast kernels are the next issue's work.
enum GraphKernels {
    static func run(_ step: GraphStep, _ inputs: [Tensor], weights: [[Float]]) -> Tensor {
        switch step.op {
        case let .convolution(window, groups, cap):
            return convolution(inputs[0], weights, window, groups, cap, step.shape)
        case let .maxPool(window):
            return pool(inputs[0], window, step.shape, max: true, countsPadding: false)
        case let .averagePool(window, countsPadding):
            return pool(inputs[0], window, step.shape, max: false, countsPadding: countsPadding)
        case let .unary(function):
            var x = inputs[0]
            let f = unaryFunction(function)
            x.data.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = f(p[i]) } }
            return x
        case let .binary(function, constantFirst):
            let f = binaryFunction(function)
            let other = inputs.count > 1 ? inputs[1] : Tensor(shape: step.weights[0], data: weights[0])
            let (a, b) = constantFirst ? (other, inputs[0]) : (inputs[0], other)
            return broadcast(a, b, step.shape, f)
        case let .reduce(kind, axes):
            return reduce(inputs[0], kind, axes, step.shape)
        case let .softmax(axis, trailing):
            return softmax(inputs[0], axis: axis, trailing: trailing)
        case let .layerNormalization(size, epsilon):
            return layerNormalization(inputs[0], size: size, epsilon: epsilon, scale: weights[0], bias: weights[1])
        case .dense:
            let k = step.weights[0][0], n = step.weights[0][1], rows = inputs[0].count / k
            var out = Tensor(uninitialized: step.shape)
            inputs[0].data.withUnsafeBufferPointer { a in
                weights[0].withUnsafeBufferPointer { w in
                    out.data.withUnsafeMutableBufferPointer { o in
                        BLAS.gemm(a.baseAddress!, w.baseAddress!, into: o.baseAddress!, m: rows, n: n, k: k)
                    }
                }
            }
            if weights.count > 1 { for r in 0..<rows { for j in 0..<n { out.data[r * n + j] += weights[1][j] } } }
            return out
        case .matMul:
            return matMul(inputs[0], inputs[1], step.shape)
        case .reshape:
            return inputs[0].reshaped(step.shape)
        case let .transpose(perm):
            return transpose(inputs[0], perm)
        case let .concat(axis):
            return concat(inputs, axis: axis, step.shape)
        case let .slice(starts, counts, steps):
            return slice(inputs[0], starts, counts, steps, step.shape)
        case let .gather(axis, indices):
            let x = inputs[0]
            let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *), size = x.shape[axis]
            var data: [Float] = []
            data.reserveCapacity(outer * indices.count * inner)
            for o in 0..<outer { for index in indices { data += x.data[(o * size + index) * inner..<(o * size + index + 1) * inner] } }
            return Tensor(shape: step.shape, data: data)
        case let .pad(before, _, value):
            var out = Tensor(shape: step.shape, data: [Float](repeating: value, count: step.shape.reduce(1, *)))
            let strides = rowMajorStrides(step.shape)
            let start = zip(before, strides).reduce(0) { $0 + $1.0 * $1.1 }
            forEachOffset(inputs[0].shape, strides) { position, offset in out.data[start + offset] = inputs[0].data[position] }
            return out
        case .constant:
            return Tensor(shape: step.shape, data: weights[0])
        }
    }

    // MARK: Element-wise

    static func unaryFunction(_ function: UnaryFunction) -> (Float) -> Float {
        switch function {
        case .relu: return { x in Swift.max(x, 0) }
        case .sigmoid: return { x in 1 / (1 + Foundation.exp(-x)) }
        case .hardSwish: return { x in x * Swift.min(Swift.max(x + 3, 0), 6) / 6 }
        case .tanh: return { x in Foundation.tanh(x) }
        case .erf: return { x in Foundation.erf(x) }
        case .sqrt: return { x in x.squareRoot() }
        case .exp: return { x in Foundation.exp(x) }
        case .negate: return { x in -x }
        case .reciprocal: return { x in 1 / x }
        case .absolute: return { x in Swift.abs(x) }
        case let .clip(low, high): return { x in Swift.min(Swift.max(x, low), high) }
        case let .hardSigmoid(alpha, beta): return { x in Swift.min(Swift.max(alpha * x + beta, 0), 1) }
        case let .leakyRelu(alpha): return { x in x >= 0 ? x : alpha * x }
        case let .gelu(approximate): return approximate ? { x in geluTanh(x) } : { x in geluExact(x) }
        }
    }

    private static func geluTanh(_ x: Float) -> Float {
        let inner: Float = 0.7978845608 * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + Foundation.tanh(inner))
    }

    private static func geluExact(_ x: Float) -> Float {
        let scaled: Float = x * 0.70710678
        return 0.5 * x * (1 + Foundation.erf(scaled))
    }

    static func binaryFunction(_ function: BinaryFunction) -> (Float, Float) -> Float {
        switch function {
        case .add: (+)
        case .subtract: (-)
        case .multiply: (*)
        case .divide: (/)
        case .power: { $1 == 2 ? $0 * $0 : $1 == 0.5 ? $0.squareRoot() : Foundation.pow($0, $1) }
        }
    }

    /// `f(a, b)` with numpy's broadcasting into `shape`: the last axis runs in an inner loop (stride 0 or 1 on each
    /// side), the others through offsets.
    static func broadcast(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: shape, data: zip(a.data, b.data).map(f))
        }
        let rank = shape.count
        func strides(_ s: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - s.count) + s
            return zip(padded, rowMajorStrides(padded)).map { $0 == 1 ? 0 : $1 }
        }
        let (sa, sb) = (strides(a.shape), strides(b.shape))
        let n = shape.last ?? 1, (ia, ib) = (sa.last ?? 0, sb.last ?? 0)
        var out = Tensor(uninitialized: shape)
        let outer = Array(shape.dropLast())
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { po in
                    var row = 0
                    forEachIndex(outer) { index in
                        var (oa, ob) = (0, 0)
                        for axis in index.indices { oa += index[axis] * sa[axis]; ob += index[axis] * sb[axis] }
                        for j in 0..<n { po[row * n + j] = f(pa[oa + j * ia], pb[ob + j * ib]) }
                        row += 1
                    }
                }
            }
        }
        return out
    }

    // MARK: Windows

    /// A convolution in any form the engine layers do not take (rectangular windows, dilation, groups that are
    /// neither one nor one per channel): for each output pixel and group, the window's dot product with each filter.
    static func convolution(_ x: Tensor, _ weights: [[Float]], _ w: Window, _ groups: Int, _ cap: Float?, _ shape: [Int]) -> Tensor {
        let (h, wd, c) = (x.shape[1], x.shape[2], x.shape[3]), (oh, ow, m) = (shape[1], shape[2], shape[3])
        let perGroupIn = c / groups, perGroupOut = m / groups
        let filter = weights[0], bias = weights.count > 1 ? weights[1] : nil
        var out = Tensor(uninitialized: shape)
        for oy in 0..<oh {
            for ox in 0..<ow {
                for o in 0..<m {
                    let g = o / perGroupOut
                    var sum = bias?[o] ?? 0
                    for ky in 0..<w.kernel[0] {
                        let iy = oy * w.strides[0] + ky * w.dilations[0] - w.pads[0]
                        guard iy >= 0, iy < h else { continue }
                        for kx in 0..<w.kernel[1] {
                            let ix = ox * w.strides[1] + kx * w.dilations[1] - w.pads[1]
                            guard ix >= 0, ix < wd else { continue }
                            let pixel = (iy * wd + ix) * c + g * perGroupIn
                            let tap = ((ky * w.kernel[1] + kx) * perGroupIn) * m + o
                            for i in 0..<perGroupIn { sum += x.data[pixel + i] * filter[tap + i * m] }
                        }
                    }
                    if let cap { sum = min(max(sum, 0), cap) }
                    out.data[(oy * ow + ox) * m + o] = sum
                }
            }
        }
        return out
    }

    static func pool(_ x: Tensor, _ w: Window, _ shape: [Int], max isMax: Bool, countsPadding: Bool) -> Tensor {
        let (h, wd, c) = (x.shape[1], x.shape[2], x.shape[3]), (oh, ow) = (shape[1], shape[2])
        var out = Tensor(uninitialized: shape)
        var acc = [Float](repeating: 0, count: c)
        for oy in 0..<oh {
            for ox in 0..<ow {
                acc.withUnsafeMutableBufferPointer { $0.update(repeating: isMax ? -.infinity : 0) }
                var count = 0, padded = 0
                for ky in 0..<w.kernel[0] {
                    let iy = oy * w.strides[0] + ky * w.dilations[0] - w.pads[0]
                    for kx in 0..<w.kernel[1] {
                        let ix = ox * w.strides[1] + kx * w.dilations[1] - w.pads[1]
                        guard iy >= 0, iy < h, ix >= 0, ix < wd else {
                            // Inside the explicit pads counts for count_include_pad; past them (ceil mode) never does.
                            if iy >= -w.pads[0], iy < h + w.pads[2], ix >= -w.pads[1], ix < wd + w.pads[3] { padded += 1 }
                            continue
                        }
                        count += 1
                        let base = (iy * wd + ix) * c
                        if isMax { for i in 0..<c { acc[i] = max(acc[i], x.data[base + i]) } } else { for i in 0..<c { acc[i] += x.data[base + i] } }
                    }
                }
                let divisor = Float(max(1, countsPadding ? count + padded : count))
                for i in 0..<c { out.data[(oy * ow + ox) * c + i] = isMax ? acc[i] : acc[i] / divisor }
            }
        }
        return out
    }

    // MARK: Reductions and normalisation

    /// Over the contiguous physical axes `axes`: [outer, reduced, inner].
    static func reduce(_ x: Tensor, _ kind: ReduceKind, _ axes: [Int], _ shape: [Int]) -> Tensor {
        let first = axes.min()!, last = axes.max()!
        let outer = x.shape[..<first].reduce(1, *), mid = x.shape[first...last].reduce(1, *), inner = x.shape[(last + 1)...].reduce(1, *)
        var out = Tensor(shape: shape, data: [Float](repeating: kind == .max ? -.infinity : 0, count: outer * inner))
        for o in 0..<outer {
            for m in 0..<mid {
                let base = (o * mid + m) * inner
                for i in 0..<inner {
                    if kind == .max { out.data[o * inner + i] = max(out.data[o * inner + i], x.data[base + i]) } else { out.data[o * inner + i] += x.data[base + i] }
                }
            }
        }
        if kind == .mean { let scale = 1 / Float(mid); for i in out.data.indices { out.data[i] *= scale } }
        return out
    }

    static func softmax(_ x: Tensor, axis: Int, trailing: Bool) -> Tensor {
        let outer = x.shape[..<axis].reduce(1, *)
        let n = trailing ? x.shape[axis...].reduce(1, *) : x.shape[axis]
        let inner = trailing ? 1 : x.shape[(axis + 1)...].reduce(1, *)
        var out = x
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var largest = -Float.infinity
                for j in 0..<n { largest = max(largest, x.data[base + j * inner]) }
                var sum: Float = 0
                for j in 0..<n { let e = Foundation.exp(x.data[base + j * inner] - largest); out.data[base + j * inner] = e; sum += e }
                for j in 0..<n { out.data[base + j * inner] /= sum }
            }
        }
        return out
    }

    static func layerNormalization(_ x: Tensor, size: Int, epsilon: Float, scale: [Float], bias: [Float]) -> Tensor {
        var out = x
        for row in 0..<x.count / size {
            let base = row * size
            var mean: Float = 0
            for j in 0..<size { mean += x.data[base + j] }
            mean /= Float(size)
            var variance: Float = 0
            for j in 0..<size { let d = x.data[base + j] - mean; variance += d * d }
            let inverse = 1 / (variance / Float(size) + epsilon).squareRoot()
            for j in 0..<size { out.data[base + j] = (x.data[base + j] - mean) * inverse * scale[j] + bias[j] }
        }
        return out
    }

    // MARK: Products and moves

    /// [..., M, K] x [..., K, N], leading axes broadcast; one product per leading index.
    static func matMul(_ a: Tensor, _ b: Tensor, _ shape: [Int]) -> Tensor {
        let (m, k) = (a.shape[a.shape.count - 2], a.shape.last!), n = b.shape.last!
        let lead = Array(shape.dropLast(2))
        let leadA = Array(a.shape.dropLast(2)), leadB = Array(b.shape.dropLast(2))
        func offsets(_ l: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: lead.count - l.count) + l
            let strides = zip(padded, rowMajorStrides(padded)).map { $0 == 1 ? 0 : $1 }
            var result: [Int] = []
            forEachIndex(lead) { index in result.append(zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }) }
            return result
        }
        let (oa, ob) = (offsets(leadA), offsets(leadB))
        var out = Tensor(uninitialized: shape)
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { po in
                    for (i, (x, y)) in zip(oa, ob).enumerated() {
                        BLAS.gemm(pa.baseAddress! + x * m * k, pb.baseAddress! + y * k * n, into: po.baseAddress! + i * m * n, m: m, n: n, k: k)
                    }
                }
            }
        }
        return out
    }

    static func transpose(_ x: Tensor, _ perm: [Int]) -> Tensor {
        let inStrides = rowMajorStrides(x.shape)
        let shape = perm.map { x.shape[$0] }
        var out = Tensor(uninitialized: shape)
        var position = 0
        forEachOffset(shape, perm.map { inStrides[$0] }) { _, offset in
            out.data[position] = x.data[offset]
            position += 1
        }
        return out
    }

    static func concat(_ parts: [Tensor], axis: Int, _ shape: [Int]) -> Tensor {
        let outer = shape[..<axis].reduce(1, *)
        var data: [Float] = []
        data.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[axis...].reduce(1, *)
                data += part.data[o * block..<(o + 1) * block]
            }
        }
        return Tensor(shape: shape, data: data)
    }

    static func slice(_ x: Tensor, _ starts: [Int], _ counts: [Int], _ steps: [Int], _ shape: [Int]) -> Tensor {
        let strides = rowMajorStrides(x.shape)
        let start = zip(starts, strides).reduce(0) { $0 + $1.0 * $1.1 }
        var out = Tensor(uninitialized: shape)
        var position = 0
        forEachOffset(counts, zip(steps, strides).map { $0 * $1 }) { _, offset in
            out.data[position] = x.data[start + offset]
            position += 1
        }
        return out
    }

    // MARK: Index arithmetic

    static func rowMajorStrides(_ shape: [Int]) -> [Int] { RowMajor.strides(shape) }
    static func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) { RowMajor.forEachIndex(shape, body) }

    /// For every index of `shape` in row-major order: its position and its offset through `strides`.
    static func forEachOffset(_ shape: [Int], _ strides: [Int], _ body: (_ position: Int, _ offset: Int) -> Void) {
        var position = 0
        forEachIndex(shape) { index in
            body(position, zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 })
            position += 1
        }
    }
}

/// Row-major index arithmetic, for the graph's steps and for the importer that lays out their weights.
package enum RowMajor {
    package static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in shape.indices.dropLast().reversed() { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }

    /// Every index of `shape` in row-major order.
    package static func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<count {
            body(index)
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
