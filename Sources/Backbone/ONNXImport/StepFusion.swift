import Engine

/// Steps merged into the convolution or window before them, where that convolution's output has no other
/// reader: a zero pad into a convolution's pads, a -infinity pad (edge padding before a max pool) into the pool's;
/// per-channel multiplications and additions (batch norm, plain or decomposed into Sub/Mul/Add, and biases) into
/// the convolution's weights and bias; then a ReLU or ReLU6 as the convolution's clamp. Each merge leaves the
/// network's values as they were up to rounding (the reference comparisons check it).
enum StepFusion {
    static func fuse(_ original: [EmittedStep], output: Int) -> [EmittedStep] {
        var steps = original
        var removed = Set<Int>()
        func readers(of value: Int) -> [Int] {
            value == output ? [-1] : steps.indices.filter { !removed.contains($0) && steps[$0].step.inputs.contains(value) }
        }

        for i in steps.indices {
            guard case let .pad(before, after, value) = steps[i].step.op, before.count == 4, before[0] == 0, after[0] == 0,
                  before[3] == 0, after[3] == 0, case let found = readers(of: steps[i].step.output), found.count == 1, found[0] >= 0 else { continue }
            let r = found[0]
            switch steps[r].step.op {
            case .convolution(var window, let groups, let cap) where value == 0:
                window.pads = zip(window.pads, [before[1], before[2], after[1], after[2]]).map(+)
                steps[r].step.op = .convolution(window, groups: groups, cap: cap)
            case .maxPool(var window) where value == -.infinity:
                window.pads = zip(window.pads, [before[1], before[2], after[1], after[2]]).map(+)
                steps[r].step.op = .maxPool(window)
            default:
                continue
            }
            steps[r].step.inputs = steps[i].step.inputs
            removed.insert(i)
        }

        for i in steps.indices where !removed.contains(i) {
            guard case .convolution = steps[i].step.op else { continue }
            while case let found = readers(of: steps[i].step.output), found.count == 1, found[0] >= 0,
                  merge(&steps[i], into: steps[found[0]]) {
                steps[i].step.output = steps[found[0]].step.output
                removed.insert(found[0])
            }
        }
        return steps.indices.filter { !removed.contains($0) }.map { steps[$0] }
    }

    /// Folds `next` into the convolution `conv` when it can; false when it cannot.
    private static func merge(_ conv: inout EmittedStep, into next: EmittedStep) -> Bool {
        guard case let .convolution(window, groups, cap) = conv.step.op, cap == nil else { return false }
        let m = conv.step.shape[3]
        switch next.step.op {
        case .unary(.relu):
            conv.step.op = .convolution(window, groups: groups, cap: .infinity)
            return true
        case let .unary(.clip(low, high)) where low == 0 && high > 0:
            conv.step.op = .convolution(window, groups: groups, cap: high)
            return true
        case let .binary(function, constantFirst) where next.step.inputs.count == 1:
            let c = next.weights[0], shape = next.step.weights[0]
            guard c.count == 1 || (c.count == m && shape.last == m) else { return false }
            func channel(_ j: Int) -> Float { c.count == 1 ? c[0] : c[j] }
            if conv.weights.count == 1 {
                conv.weights.append([Float](repeating: 0, count: m))
                conv.step.weights.append([m])
            }
            switch (function, constantFirst) {
            case (.add, _):
                for j in 0..<m { conv.weights[1][j] += channel(j) }
            case (.subtract, false):
                for j in 0..<m { conv.weights[1][j] -= channel(j) }
            case (.subtract, true):
                for j in conv.weights[0].indices { conv.weights[0][j] = -conv.weights[0][j] }
                for j in 0..<m { conv.weights[1][j] = channel(j) - conv.weights[1][j] }
            case (.multiply, _):
                for j in conv.weights[0].indices { conv.weights[0][j] *= channel(j % m) }
                for j in 0..<m { conv.weights[1][j] *= channel(j) }
            case (.divide, false):
                for j in conv.weights[0].indices { conv.weights[0][j] /= channel(j % m) }
                for j in 0..<m { conv.weights[1][j] /= channel(j) }
            default:
                return false
            }
            return true
        default:
            return false
        }
    }
}
