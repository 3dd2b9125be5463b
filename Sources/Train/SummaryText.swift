import Console
import Engine
import Foundation

extension TrainingSummary {
    /// What `imgcls train` prints: the model, its best epoch and accuracy, or what a features-only run cached.
    public var text: String {
        if let features {
            return "features of \(features.images) images: \(features.computed) computed, \(features.reused) already cached, "
                + String(format: "in %@ (%.0f s)", features.folder, seconds)
        }
        let best = epochs.first { $0.epoch == bestEpoch }
        var text = "\(model): best epoch \(bestEpoch) of \(epochs.count)"
        if let accuracy = best?.validationAccuracy { text += String(format: ", validation accuracy %.4f", accuracy) }
        text += String(format: " (%.0f s)", seconds)
        if stoppedEarly { text += "; stopped early" }
        if !skippedFiles.isEmpty { text += "; \(skippedFiles.count) files skipped (see the warnings)" }
        return text
    }
}

extension EvaluationSummary {
    /// What `imgcls evaluate` prints: accuracy, per-class scores, the confusion matrix, the threshold table (with
    /// the accuracy under `fallback` when one is given) and the `show` most confident mistakes.
    public func text(show: Int, fallback: String?) -> String {
        var lines: [String] = []
        let topK = metrics.topKAccuracy.sorted { $0.key < $1.key }.map { "\($0.key) " + String(format: "%.4f", $0.value) }
        lines.append(String(format: "%d images: accuracy %.4f, macro-F1 %.4f, loss %.4f", metrics.images, metrics.accuracy, metrics.macroF1, metrics.loss)
                     + " (" + topK.joined(separator: ", ") + ")")
        if !metrics.skippedFiles.isEmpty { lines.append("\(metrics.skippedFiles.count) files could not be read and were skipped") }
        lines.append("")
        var scores = TextTable(["label", "precision", "recall", "F1", "images"])
        for c in metrics.perClass {
            scores.add([c.label, String(format: "%.4f", c.precision), String(format: "%.4f", c.recall), String(format: "%.4f", c.f1), "\(c.support)"])
        }
        lines.append(scores.render())
        lines.append("\nconfusion matrix (rows: true label, columns: predicted)")
        var confusion = TextTable([""] + metrics.labels)
        for (label, row) in zip(metrics.labels, metrics.confusionMatrix) { confusion.add([label] + row.map(String.init)) }
        lines.append(confusion.render())
        lines.append("")
        var thresholds = TextTable(["confidence ≥", "answered", "accuracy answered"] + (fallback.map { ["accuracy, rest → \($0)"] } ?? []))
        for t in metrics.thresholds {
            thresholds.add([String(format: "%.2f", t.threshold), String(format: "%.1f%%", t.answered * 100),
                            String(format: "%.4f", t.answeredAccuracy)] + (t.accuracyWithFallback.map { [String(format: "%.4f", $0)] } ?? []))
        }
        lines.append(thresholds.render())
        if !metrics.misclassified.isEmpty && show > 0 {
            lines.append("\nmost confident mistakes (\(metrics.misclassified.count) in all):")
            for miss in metrics.misclassified.prefix(show) {
                lines.append("  \(miss.path): \(miss.label), predicted \(miss.predicted) " + String(format: "(%.3f)", miss.confidence))
            }
        }
        lines.append("\nreport: \(reportFolder)/ (metrics.json, confusion.svg, curves.svg, misclassified.csv)")
        return lines.joined(separator: "\n")
    }
}

extension QuantizationSummary {
    /// What `imgcls quantize` prints: where the int8 model went and its accuracy beside the float model's.
    public var text: String {
        [
            "int8 model: \(modelFile ?? "not written")",
            String(format: "validation accuracy on %d images: float %.4f, int8 %.4f (%+.1f points); the same class for %.1f%% of them",
                   validationImages, floatAccuracy, int8Accuracy, Double(int8Accuracy - floatAccuracy) * 100, agreement * 100),
            "calibrated on \(calibrationImages) training images; \(int8Convolutions) of \(convolutions) convolutions in int8 (depthwise and grouped ones in float), on \(kernels)",
        ].joined(separator: "\n")
    }
}
