import ArgumentParser
import Console
import StageContract
import Train

extension Split: ExpressibleByArgument {}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a model: accuracy, top-k, per-class precision/recall/F1, confusion matrix, misclassified files.",
        discussion: """
            Evaluates on FOLDER (one sub-folder per label) or on the workspace's --split folder. The report \
            goes to report/ next to the model: metrics.json, confusion.svg, curves.svg (the training history) \
            and misclassified.csv. The threshold table shows, for each confidence X, how many images are \
            answered and how accurately; with --fallback LABEL, the accuracy when the rest get that label.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The model: a name under models/ or a model.safetensors path.") var model = "default"
    @Argument(help: "A folder with one sub-folder per label (default: the workspace's --split folder).") var folder: String?
    @Option(help: "validation, test or train: the workspace folder to evaluate on.") var split = Split.validation
    @Option(help: "The label answered below the confidence threshold (the original service's policy).") var fallback: String?
    @Option(help: "Where to write the report (default: report/ next to the model).") var report: String?
    @Option(help: "Images per batch.") var batchSize = 64
    @Option(help: "Misclassified files to list in the terminal.") var show = 10
    @Flag(help: "Print the metrics document as JSON.") var json = false

    var request: EvaluationRequest {
        var request = EvaluationRequest(model: model)
        (request.folder, request.split, request.fallback, request.reportFolder) = (folder, split, fallback, report)
        (request.batchSize, request.showProgress) = (batchSize, !global.quiet && !json)
        return request
    }

    func run() throws {
        global.startLogging()
        let summary = try EvaluationRun(workspace: global.workspaceFolder, request: request).run()
        global.updateReport()
        if json { return try Output.printJSON(summary.metrics) }
        print(summary.text(show: show, fallback: fallback))
    }
}
