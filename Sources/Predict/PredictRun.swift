import Console
import Files
import Foundation
import Imaging

/// What `imgcls predict` was asked.
public struct PredictRequest: Sendable {
    public var modelFile: String
    /// Files, folders (every file below, in name order) and `-` (paths from standard input, one a line); with
    /// `base64`, base64 texts, `-` or nothing meaning standard input (one image a line).
    public var sources: [String]
    public var base64 = false
    public var topK = 1
    public var fallback: FallbackRule?
    public var format = OutputFormat.text
    public var batchSize = 16
    public var threads = 2
    public var showProgress = true

    public init(modelFile: String, sources: [String]) {
        (self.modelFile, self.sources) = (modelFile, sources)
    }
}

public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json, jsonl, csv
}

/// How a run went: the exit status is non-zero when any image was refused.
public struct PredictSummary: Sendable {
    public var classified = 0
    public var refused = 0
    public var fallbackApplied = 0

    /// What `imgcls predict` says at the end of a text run (on standard error, after the answers).
    public func text(fallback: FallbackRule?) -> String {
        let fallbacks = fallback.map { ", \(fallbackApplied) answered \($0.label) by the fallback rule" } ?? ""
        return "\(classified + refused) images: \(classified) classified, \(refused) refused\(fallbacks)"
    }
}

/// `imgcls predict`: streams the inputs in batches through one `Predictor`, writing each batch's answers as they
/// come (JSON at the end, as one document).
public struct PredictRun {
    /// The largest file read (the decoders' pixel limit applies after it).
    static let fileLimit = 256 << 20
    public let request: PredictRequest

    public init(request: PredictRequest) {
        self.request = request
    }

    public func run(write: (String) -> Void = { print($0) }) throws(PredictError) -> PredictSummary {
        guard request.topK >= 1 else { throw PredictError("--top-k must be at least 1") }
        guard request.batchSize >= 1 else { throw PredictError("--batch-size must be at least 1") }
        Predictor.threads = request.threads
        let predictor = try Predictor(modelFile: request.modelFile)
        if let fallback = request.fallback, !(0...1).contains(fallback.minimumConfidence) {
            throw PredictError("--min-confidence must be between 0 and 1, not \(fallback.minimumConfidence)")
        }
        var inputs = try InputStream(request)
        let progress = ProgressBar(title: "predict", total: inputs.total, unit: "images", enabled: request.showProgress && inputs.total != nil)
        var summary = PredictSummary()
        var records: [PredictionRecord] = []
        if request.format == .csv { write("file,label,confidence,fallback_applied,top,reason,message") }
        while case let batch = inputs.next(request.batchSize), !batch.isEmpty {
            // The ones that could be read are decoded and run together.
            var answers = predictor.classify(batch.compactMap { try? $0.get() }, topK: request.topK, fallback: request.fallback)[...]
            for input in batch {
                let result: ImageResult
                switch input {
                case .success: result = answers.removeFirst()
                case let .failure(error): result = ImageResult(name: error.file ?? "?", outcome: .failure(error))
                }
                if let c = result.classification {
                    summary.classified += 1
                    if c.fallbackApplied { summary.fallbackApplied += 1 }
                } else {
                    summary.refused += 1
                }
                let record = PredictionRecord(result)
                switch request.format {
                case .text: write(Self.text(record))
                case .jsonl: write((try? Output.jsonString(record, pretty: false)) ?? "{}")
                case .csv: write(Self.csvRow(record))
                case .json: records.append(record)
                }
            }
            progress.advance(by: batch.count)
        }
        progress.finish()
        if request.format == .json {
            let document = AnswerDocument(predictor, results: records)
            write((try? Output.jsonString(document)) ?? "{}")
        }
        return summary
    }

    static func text(_ r: PredictionRecord) -> String {
        if let error = r.error { return "\(r.name): refused (\(error.reason)): \(error.message)" }
        let top = r.top!.map { "\($0.label) " + String(format: "%.4f", $0.probability) }
        if r.fallbackApplied == true { return "\(r.name): \(r.label!) (fallback: below the minimum confidence; \(top.joined(separator: ", ")))" }
        return "\(r.name): " + top.joined(separator: ", ")
    }

    static func csvRow(_ r: PredictionRecord) -> String {
        let top = r.top?.map { "\($0.label):" + String(format: "%.4f", $0.probability) }.joined(separator: ";") ?? ""
        return [r.name, r.label ?? "", r.confidence.map { String(format: "%.4f", $0) } ?? "", r.fallbackApplied.map(String.init) ?? "",
                top, r.error?.reason ?? "", r.error?.message ?? ""].map(CSV.field).joined(separator: ",")
    }
}

/// The inputs of a run, read a batch at a time: files as they are listed, folders walked lazily, standard input a
/// line at a time. A file that cannot be read, or base64 that is not, is a refused input (reason `unreadable` or
/// `not_an_image`) and the run goes on.
struct InputStream {
    private var pending: [Source]
    private var walker: DirectoryWalker?
    private let base64: Bool
    private var lineNumber = 0
    /// The number of inputs when known before the run (files and folders only), for the progress bar.
    let total: Int?

    private enum Source { case file(String), folder(String), standardInput, base64Text(String, Int) }

    init(_ request: PredictRequest) throws(PredictError) {
        base64 = request.base64
        var sources: [Source] = []
        if request.base64 {
            let texts = request.sources.filter { $0 != "-" }
            sources = texts.enumerated().map { .base64Text($1, $0 + 1) }
            if texts.count < request.sources.count || request.sources.isEmpty { sources.append(.standardInput) }
        } else {
            guard !request.sources.isEmpty else { throw PredictError("give image files, folders, or - to read paths from standard input") }
            for source in request.sources {
                switch source == "-" ? .other : FileIO.kind(of: source) {
                case .directory: sources.append(.folder(source))
                case .missing: throw PredictError("\(source): no such file or folder")
                default: sources.append(source == "-" ? .standardInput : .file(source))
                }
            }
        }
        pending = sources.reversed()
        var count = 0
        for source in sources {
            switch source {
            case .file, .base64Text: count += 1
            case let .folder(path): count += DirectoryWalker(root: path).reduce(0) { n, _ in n + 1 }
            case .standardInput: count = -1
            }
            if count < 0 { break }
        }
        total = count < 0 ? nil : count
    }

    /// Up to `count` inputs; empty at the end.
    mutating func next(_ count: Int) -> [Result<ImageInput, ImageError>] {
        var batch: [Result<ImageInput, ImageError>] = []
        while batch.count < count, let input = nextInput() { batch.append(input) }
        return batch
    }

    private mutating func nextInput() -> Result<ImageInput, ImageError>? {
        while true {
            if var walk = walker {
                let path = walk.next()
                walker = walk
                if let path { return read(path) }
                walker = nil
            }
            guard let source = pending.popLast() else { return nil }
            switch source {
            case let .file(path): return read(path)
            case let .folder(path): walker = DirectoryWalker(root: path)
            case let .base64Text(text, n): return decode(text, name: "argument \(n)")
            case .standardInput:
                guard let line = readLine(strippingNewline: true) else { continue }
                lineNumber += 1
                pending.append(.standardInput)
                if line.isEmpty { continue }
                return base64 ? decode(line, name: "stdin:\(lineNumber)") : read(line)
            }
        }
    }

    private func read(_ path: String) -> Result<ImageInput, ImageError> {
        do { return .success(ImageInput(name: path, bytes: try FileIO.read(path, limit: PredictRun.fileLimit))) } catch {
            return .failure(ImageError(.unreadable, "\(error.detail)", file: path))
        }
    }

    private func decode(_ text: String, name: String) -> Result<ImageInput, ImageError> {
        do { return .success(try ImageInput.base64(text, name: name)) } catch {
            return .failure(ImageError(.notAnImage, error.description, file: name))
        }
    }
}
