import Console
import Engine
import Files
import Foundation
import Logging
import StageContract

/// What `imgcls evaluate` asks for.
public struct EvaluationRequest: Sendable {
    /// A model name in the workspace or a model.safetensors path.
    public var model: String
    /// A folder with one sub-folder per label; default: the workspace's `split` folder.
    public var folder: String?
    public var split = Split.validation
    public var fallback: String?
    public var batchSize = 64
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Where the report goes; default: `report/` next to the model file.
    public var reportFolder: String?
    public var showProgress = true

    public init(model: String) {
        self.model = model
    }
}

/// What an evaluation produced: its metrics (also in `metrics.json`) and where the report went.
public struct EvaluationSummary: Sendable {
    public let metrics: EvaluationMetrics
    public let reportFolder: String
}

/// `imgcls evaluate` in a workspace: an `EvaluationRequest` in, an `EvaluationSummary` out.
public struct EvaluationRun {
    private typealias ReportFile = Workspace.ModelReportFile
    public let workspace: Workspace
    public let request: EvaluationRequest

    public init(workspace: Workspace, request: EvaluationRequest) {
        (self.workspace, self.request) = (workspace, request)
    }

    /// Measures the model on the folder and writes the report: metrics.json, confusion.svg, curves.svg (from
    /// the training history in the model file), misclassified.csv.
    public func run() throws -> EvaluationSummary {
        let path = try workspace.modelFile(request.model)
        let (model, file) = try ModelFile.load(path)
        if let fallback = request.fallback, !model.labels.contains(fallback) {
            throw TrainError("--fallback \(fallback) is not one of the model's labels (\(labelList(model.labels)))")
        }
        let folder = try ImageFolder(request.folder ?? workspace.folder(of: request.split))
        let samples = try folder.samples(for: model.labels)
        guard !samples.isEmpty else { throw TrainError("\(folder.root): no images to evaluate on") }
        Kernels.threads = request.threads
        let loader = BatchLoader(model.input, cacheMegabytes: 0)
        let progress = ProgressBar(title: "evaluate", total: samples.count, unit: "images", enabled: request.showProgress)
        let predictions = Evaluator.predict(model, samples, loader: loader, batchSize: request.batchSize) { progress.advance(by: $0) }
        progress.finish()
        let metrics = EvaluationMetrics(predictions, labels: model.labels, model: path, fallback: request.fallback,
                                        skipped: loader.skipped)

        let report = request.reportFolder ?? Workspace.reportFolder(forModelFile: path)
        try FileManager.default.createDirectory(atPath: report, withIntermediateDirectories: true)
        try FileIO.writeAtomically(Array(try Output.jsonString(metrics).utf8), to: report + "/" + ReportFile.metrics)
        try FileIO.writeAtomically(Array(ReportCharts.confusionMatrix(metrics.confusionMatrix, labels: model.labels).utf8),
                                   to: report + "/" + ReportFile.confusion)
        if let text = file.metadata["history"], let history = try? JSONDecoder().decode([EpochRecord].self, from: Data(text.utf8)),
           !history.isEmpty {
            try FileIO.writeAtomically(Array(ReportCharts.trainingCurves(history).utf8), to: report + "/" + ReportFile.curves)
        }
        var csv = "path,label,predicted,confidence\n"
        for miss in metrics.misclassified {
            csv += CSV.row([miss.path, miss.label, miss.predicted, String(format: "%.4f", miss.confidence)]) + "\n"
        }
        try FileIO.writeAtomically(Array(csv.utf8), to: report + "/" + ReportFile.misclassified)
        return EvaluationSummary(metrics: metrics, reportFolder: report)
    }
}
