/// The tensor arithmetic that folding needs, on whole tensors: broadcasting, transposing, gathering, slicing,
/// concatenating. Written for clarity over speed; it runs once per import on shape arithmetic and, rarely, a
/// weight (a transposed matrix).
enum TensorMath {
    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in shape.indices.dropLast().reversed() { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }

    /// Numpy's broadcasting of two shapes, or nil where they do not broadcast.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let a = [Int](repeating: 1, count: rank - a.count) + a, b = [Int](repeating: 1, count: rank - b.count) + b
        var shape: [Int] = []
        for (x, y) in zip(a, b) {
            guard x == y || x == 1 || y == 1 else { return nil }
            shape.append(x == 1 ? y : x)
        }
        return shape
    }

    /// For each element of `shape`, the offset of the element of a tensor of shape `source` that broadcasting reads.
    static func broadcastOffsets(from source: [Int], to shape: [Int]) -> [Int] {
        let source = [Int](repeating: 1, count: shape.count - source.count) + source
        let sourceStrides = zip(source, strides(source)).map { $0 == 1 ? 0 : $1 }
        return stridedOffsets(shape: shape, strides: sourceStrides, start: 0)
    }

    /// Every index of `shape` in row-major order. (The engine has its own for its steps: this reader of untrusted
    /// files links nothing above Files.)
    static func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
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

    /// `op` element by element with broadcasting, in Double (exact for Float values and for integers below 2^53).
    /// Integers stay integers when both sides are; `op` then rounds toward zero, as ONNX's integer Div does.
    static func elementwise(_ a: ONNXTensor, _ b: ONNXTensor, _ op: (Double, Double) -> Double) -> ONNXTensor? {
        guard let shape = broadcast(a.shape, b.shape) else { return nil }
        let (ia, ib) = (broadcastOffsets(from: a.shape, to: shape), broadcastOffsets(from: b.shape, to: shape))
        if a.isInteger && b.isInteger {
            let (x, y) = (a.integers, b.integers)
            return ONNXTensor(shape: shape, integers: zip(ia, ib).map { i, j in
                let value = op(Double(x[i]), Double(y[j]))
                return value.isFinite ? Int64(max(-9e18, min(9e18, value.rounded(.towardZero)))) : 0
            })
        }
        let (x, y) = (a.floats, b.floats)
        return ONNXTensor(shape: shape, floats: zip(ia, ib).map { i, j in Float(op(Double(x[i]), Double(y[j]))) })
    }

    /// The same kind of values as `like`, gathered at `offsets`.
    static func take(_ like: ONNXTensor, _ offsets: [Int], shape: [Int]) -> ONNXTensor {
        switch like.values {
        case let .floats(values): ONNXTensor(shape: shape, floats: offsets.map { values[$0] })
        case let .integers(values): ONNXTensor(shape: shape, integers: offsets.map { values[$0] })
        }
    }

    /// Offsets of the input elements that make up an output of `shape` read through `strides` from `start`.
    static func stridedOffsets(shape: [Int], strides: [Int], start: Int) -> [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(shape.reduce(1, *))
        forEachIndex(shape) { index in offsets.append(zip(index, strides).reduce(start) { $0 + $1.0 * $1.1 }) }
        return offsets
    }

    static func transpose(_ t: ONNXTensor, _ perm: [Int]) -> ONNXTensor {
        let inStrides = strides(t.shape)
        let shape = perm.map { t.shape[$0] }
        return take(t, stridedOffsets(shape: shape, strides: perm.map { inStrides[$0] }, start: 0), shape: shape)
    }

    /// Elements along `axis` at `indices` (already made non-negative).
    static func gather(_ t: ONNXTensor, axis: Int, indices: [Int], indicesShape: [Int]) -> ONNXTensor {
        let outer = t.shape[..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *)
        var offsets: [Int] = []
        offsets.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices { for i in 0..<inner { offsets.append((o * t.shape[axis] + index) * inner + i) } }
        }
        return take(t, offsets, shape: Array(t.shape[..<axis]) + indicesShape + Array(t.shape[(axis + 1)...]))
    }

    /// A slice given per axis as (start, count, step) already clamped to the shape.
    static func slice(_ t: ONNXTensor, _ ranges: [(start: Int, count: Int, step: Int)]) -> ONNXTensor {
        let inStrides = strides(t.shape)
        let start = zip(ranges, inStrides).reduce(0) { $0 + $1.0.start * $1.1 }
        let shape = ranges.map(\.count)
        return take(t, stridedOffsets(shape: shape, strides: zip(ranges, inStrides).map { $0.step * $1 }, start: start), shape: shape)
    }

    static func concat(_ tensors: [ONNXTensor], axis: Int) -> ONNXTensor {
        let outer = tensors[0].shape[..<axis].reduce(1, *)
        var shape = tensors[0].shape
        shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        if tensors.allSatisfy(\.isInteger) {
            let parts = tensors.map { ($0.integers, $0.shape[axis...].reduce(1, *)) }
            var values: [Int64] = []
            for o in 0..<outer { for (data, block) in parts { values += data[o * block..<(o + 1) * block] } }
            return ONNXTensor(shape: shape, integers: values)
        }
        let parts = tensors.map { ($0.floats, $0.shape[axis...].reduce(1, *)) }
        var values: [Float] = []
        for o in 0..<outer { for (data, block) in parts { values += data[o * block..<(o + 1) * block] } }
        return ONNXTensor(shape: shape, floats: values)
    }
}
