import ArgumentParser
import Console
import Foundation
import Train

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write an int8 form of a trained model, checked against the float one on the validation split.",
        discussion: """
            Calibrates each convolution's input scale on a seeded sample of the train split (--calibration-images), \
            quantizes the weights per output channel, measures both models on the validation split, and writes \
            models/NAME-int8/model.safetensors unless the int8 model loses more than --max-accuracy-drop points \
            of accuracy. predict, serve and evaluate take it like any model (--model NAME-int8); its convolutions \
            run as 8-bit products on oneDNN (VNNI where the CPU has it), depthwise and grouped ones in float.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model: a name under models/ or a model.safetensors path.") var model = "default"
    @Option(help: "The int8 model's name (default: the model's name with -int8).") var name: String?
    @Option(help: "Refuse when the int8 model's validation accuracy is more than this many points lower.") var maxAccuracyDrop = 1.0
    @Option(help: "Training images to calibrate on.") var calibrationImages = 300
    @Option(help: "Images per batch.") var batchSize = 32
    @Flag(help: "Print what was measured as JSON.") var json = false

    func validate() throws {
        guard maxAccuracyDrop >= 0 else { throw ValidationError("--max-accuracy-drop takes points of accuracy, 0 or more") }
        guard calibrationImages > 0 else { throw ValidationError("--calibration-images must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        global.startLogging()
        var request = QuantizationRequest(model: model)
        (request.name, request.maxAccuracyDrop, request.calibrationImages) = (name, maxAccuracyDrop, calibrationImages)
        (request.batchSize, request.showProgress) = (batchSize, !global.quiet && !json)
        let summary = try QuantizationRun(workspace: global.workspaceFolder, request: request).run()
        if json { return try Output.printJSON(summary) }
        print(summary.text)
    }
}
