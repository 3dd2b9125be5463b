import ArgumentParser
import Console
import Foundation
import Predict
import Serve

/// The original service's rule, as both commands take it.
struct FallbackOptions: ParsableArguments {
    @Option(help: "Below this top probability (0 to 1), answer --fallback-label instead (the original service used 0.75).")
    var minConfidence: Float?
    @Option(help: "The label answered below --min-confidence (the original service used neutral).")
    var fallbackLabel: String?

    func validate() throws {
        if (minConfidence == nil) != (fallbackLabel == nil) {
            throw ValidationError("--min-confidence and --fallback-label go together")
        }
    }

    var rule: FallbackRule? {
        guard let minConfidence, let fallbackLabel else { return nil }
        return FallbackRule(minimumConfidence: minConfidence, label: fallbackLabel)
    }
}
