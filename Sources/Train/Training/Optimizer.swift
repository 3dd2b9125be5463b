import Engine
import Foundation

/// The update rules. Weight decay is L2 added to the gradient for SGD and RMSprop (as Keras and PyTorch do)
/// and decoupled for AdamW; it applies only to parameters marked `decays` (weights, not biases or norms).
public enum OptimizerKind: String, CaseIterable, Codable, Sendable {
    case sgd, adam, adamw, rmsprop
}

public struct OptimizerSettings: Codable, Sendable, Equatable {
    public var kind: OptimizerKind = .adamw
    public var momentum: Float = 0.9          // SGD
    public var rho: Float = 0.9               // RMSprop's decay of the mean square (Keras's default)
    public var nesterov = true
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    public var weightDecay: Float = 1e-4

    public init() {}
}

/// Updates trainable parameters from their gradients; keeps its per-parameter state (momentum, moments) in
/// arrays named after the parameters, which the checkpoint saves so `--resume` continues exactly.
public final class Optimizer {
    public let settings: OptimizerSettings
    public private(set) var step = 0
    private(set) var state: [String: [Float]] = [:]

    public init(_ settings: OptimizerSettings) { self.settings = settings }

    /// One update with learning rate `rate`, then the gradients are zeroed.
    public func update(_ parameters: [Parameter], rate: Float) {
        step += 1
        for p in parameters where p.trainable {
            apply(p, rate: rate * p.learningRateScale)
            p.zeroGradient()
        }
    }

    private func apply(_ p: Parameter, rate: Float) {
        let s = settings
        let decay = p.decays ? s.weightDecay : 0
        let n = p.count
        // Unsafe buffers: element access through the class properties would cost more than the arithmetic.
        p.value.withUnsafeMutableBufferPointer { value in
            p.gradient.withUnsafeBufferPointer { gradient in
                switch s.kind {
                case .sgd:
                    update("\(p.name).momentum", n) { velocity in
                        for i in 0..<n {
                            let g = gradient[i] + decay * value[i]
                            velocity[i] = s.momentum * velocity[i] + g
                            value[i] -= rate * (s.nesterov ? g + s.momentum * velocity[i] : velocity[i])
                        }
                    }
                case .adam, .adamw:
                    let correction1 = 1 - pow(s.beta1, Float(step)), correction2 = 1 - pow(s.beta2, Float(step))
                    let decoupled = s.kind == .adamw
                    update("\(p.name).m", n) { m in
                        update("\(p.name).v", n) { v in
                            for i in 0..<n {
                                let g = gradient[i] + (decoupled ? 0 : decay * value[i])
                                m[i] = s.beta1 * m[i] + (1 - s.beta1) * g
                                v[i] = s.beta2 * v[i] + (1 - s.beta2) * g * g
                                if decoupled { value[i] -= rate * decay * value[i] }
                                value[i] -= rate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + s.epsilon)
                            }
                        }
                    }
                case .rmsprop:
                    update("\(p.name).mean_square", n) { meanSquare in
                        for i in 0..<n {
                            let g = gradient[i] + decay * value[i]
                            meanSquare[i] = s.rho * meanSquare[i] + (1 - s.rho) * g * g
                            value[i] -= rate * g / (meanSquare[i].squareRoot() + s.epsilon)
                        }
                    }
                }
            }
        }
    }

    /// Lends the named state array (zeros the first time) for an update in place.
    private func update(_ key: String, _ count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        var values = state.removeValue(forKey: key) ?? [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { body($0) }
        state[key] = values
    }

    /// The state as named arrays (for the checkpoint) and back.
    public var savedState: [String: [Float]] { state.merging(["step": [Float(step)]]) { a, _ in a } }

    public func restore(_ saved: [String: [Float]]) {
        step = Int(saved["step"]?.first ?? 0)
        state = saved.filter { $0.key != "step" }
    }
}

/// The learning rate over training: a base rate shaped by a schedule, after a linear warm-up.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public enum Shape: String, Codable, CaseIterable, Sendable {
        case constant, step, cosine
    }

    public var base: Float
    public var shape: Shape = .cosine
    public var warmupEpochs: Double = 0
    /// For `step`: multiply by `stepFactor` every `stepEpochs` epochs.
    public var stepEpochs: Double = 10
    public var stepFactor: Float = 0.1

    public init(base: Float, shape: Shape = .cosine, warmupEpochs: Double = 0) {
        self.base = base
        self.shape = shape
        self.warmupEpochs = warmupEpochs
    }

    /// The rate at `epoch` (fractional: the position within the epoch counts) of `totalEpochs`.
    public func rate(atEpoch epoch: Double, of totalEpochs: Int) -> Float {
        if warmupEpochs > 0 && epoch < warmupEpochs { return base * Float((epoch + 1e-3) / warmupEpochs) }
        switch shape {
        case .constant:
            return base
        case .step:
            return base * pow(stepFactor, Float((epoch / stepEpochs).rounded(.down)))
        case .cosine:
            let span = max(1e-9, Double(totalEpochs) - warmupEpochs)
            let progress = min(1, max(0, (epoch - warmupEpochs) / span))
            return base * Float(0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}

extension Model {
    /// One optimisation step on a batch (forward, loss, backward, update): what training runs and the training
    /// benchmark times.
    public func trainStep(_ input: Tensor, labels: [Int], loss: SoftmaxCrossEntropy, optimizer: Optimizer,
                          rate: Float) -> (loss: Float, gradient: Tensor, probabilities: Tensor) {
        let result = loss.evaluate(logits: logits(input, training: true), labels: labels)
        backward(result.gradient)
        optimizer.update(parameters, rate: rate)
        return result
    }
}
