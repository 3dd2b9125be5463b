import Files
import Foundation
import Yams

// Pipeline: `imgcls run PIPELINE.yml`'s plan, apart from the stages it runs. Files in reading order:
// - PipelineFile.swift: `PipelineFile`, the YAML file read into stages (each stage's options as command-line
//   arguments, every key with its line, for errors that point at it);
// - PipelineState.swift: each stage's fingerprint (its options, its input files' contents, the stages before it)
//   and the record of the last completed ones in the workspace;
// - PipelinePlan.swift: which stages run and why, from that record.

/// A pipeline file that cannot be used: the key, its line and what was expected.
public typealias PipelineError = ErrorMessage

/// One stage of a pipeline file: the command it runs and that command's arguments.
public struct PipelineStage: Sendable {
    /// The command (`fetch`, `scrape`, ...).
    public let name: String
    /// The stage's name in the workspace's record: the command, or `scrape 2` for the second run of a stage
    /// given as a list.
    public let id: String
    public var arguments: [String]
    /// Which key (and line) gave each option, to point at it when the command refuses the option.
    public var keys: [(option: String, key: String, line: Int)]
    /// Files whose contents are the stage's input (manifests, a label map): their change reruns the stage.
    public var inputFiles: [String]
}

/// A pipeline file: the workspace, and the stages in their fixed order. Paths in it are relative to its folder.
public struct PipelineFile: Sendable {
    public static let stageOrder = ["fetch", "scrape", "curate", "split", "train", "evaluate"]
    /// Options that are the command's positional arguments, not `--options`.
    static let positional = ["fetch": "manifests", "scrape": "pages"]
    /// Options holding paths, resolved against the file's folder.
    static let pathOptions: Set<String> = ["manifests", "label-map", "train", "validation", "from"]

    public let path: String
    public let workspace: String
    public let stages: [PipelineStage]

    public static func load(_ path: String) throws(PipelineError) -> PipelineFile {
        let text: String
        do { text = String(decoding: try FileIO.read(path), as: UTF8.self) } catch { throw PipelineError("\(error)") }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw PipelineError("\(path): not valid YAML: \(error)") }
        guard let mapping = root?.mapping else { throw PipelineError("\(path): expected a mapping of stages (workspace:, fetch:, curate:, ...)") }
        let folder = FileIO.parentFolder(of: path)
        func resolve(_ value: String) -> String { value.hasPrefix("/") ? value : folder + "/" + value }
        func line(_ node: Node) -> Int { (node.mark?.line ?? 0) }
        var workspace = resolve("data")
        var stages: [String: [PipelineStage]] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw PipelineError("\(path) line \(line(keyNode)): a key must be a name") }
            if key == "workspace" {
                guard let text = value.scalar?.string else { throw PipelineError("\(path) line \(line(value)): workspace: expected a folder path (a string)") }
                workspace = resolve(text)
                continue
            }
            guard stageOrder.contains(key) else {
                throw PipelineError("\(path) line \(line(keyNode)): unknown key \(key); expected workspace or a stage: \(stageOrder.joined(separator: ", "))")
            }
            // A stage is a mapping of its options, or a list of them: one run of the command each, in order.
            let runs: [Node] = value.sequence.map(Array.init) ?? [value]
            guard !runs.isEmpty else { throw PipelineError("\(path) line \(line(value)): \(key): an empty list runs nothing; give its options, or remove the key") }
            stages[key] = try runs.enumerated().map { (index, run) throws(PipelineError) in
                guard let options = run.mapping ?? (run.null != nil ? Node.Mapping([]) : nil) else {
                    throw PipelineError("\(path) line \(line(run)): \(key): expected a mapping of its options (for example epochs: 20) or a list of them")
                }
                let id = runs.count == 1 ? key : "\(key) \(index + 1)"
                return try Self.stage(key, id: id, options, path: path, resolve: resolve, line: line)
            }
        }
        guard !stages.isEmpty else { throw PipelineError("\(path): no stage to run; add fetch:, curate:, split:, train: or evaluate:") }
        return PipelineFile(path: path, workspace: workspace, stages: stageOrder.flatMap { stages[$0] ?? [] })
    }

    /// One run of a stage's command: its options as the command's arguments, each with its key and line.
    private static func stage(_ key: String, id: String, _ options: Node.Mapping, path: String,
                              resolve: (String) -> String, line: (Node) -> Int) throws(PipelineError) -> PipelineStage {
        var stage = PipelineStage(name: key, id: id, arguments: [], keys: [], inputFiles: [])
        var arguments: [String] = []
        for (optionNode, optionValue) in options {
            guard let rawName = optionNode.string else { throw PipelineError("\(path) line \(line(optionNode)): an option must be a name") }
            let name = rawName.replacing("_", with: "-")
            let values: [Node] = optionValue.sequence.map(Array.init) ?? [optionValue]
            var texts: [String] = []
            for item in values {
                guard let scalar = item.scalar else {
                    throw PipelineError("\(path) line \(line(item)): \(key).\(rawName): expected a value or a list of values, not a mapping")
                }
                texts.append(pathOptions.contains(name) ? resolve(scalar.string) : scalar.string)
            }
            if name == Self.positional[key] {
                arguments += texts
                if key == "fetch" { stage.inputFiles += texts }
                stage.keys.append(("", "\(key).\(rawName)", line(optionNode)))
                continue
            }
            let flag = "--" + name
            stage.keys.append((flag, "\(key).\(rawName)", line(optionNode)))
            if name == "label-map" || name == "from" { stage.inputFiles += texts }
            if values.count == 1, let bool = optionValue.bool, optionValue.sequence == nil {
                if bool { stage.arguments.append(flag) }  // a flag; false leaves it out
                continue
            }
            for text in texts { stage.arguments += [flag, text] }
        }
        stage.arguments = arguments + stage.arguments
        return stage
    }

    /// Where the command's refusal of `stage`'s options came from: the key and line its message names, and what
    /// the option takes (its line of the command's `help`).
    public func locate(_ message: String, in stage: PipelineStage, help: String) -> String {
        let culprit = stage.keys.first { !$0.option.isEmpty && message.contains("'\($0.option)") }
            ?? stage.keys.first { !$0.option.isEmpty && message.contains($0.option) }
        guard let culprit else { return "\(path): \(stage.id): \(message)" }
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        let takes = lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(culprit.option + " ") || $0.trimmingCharacters(in: .whitespaces) == culprit.option }
            .map { lines[$0].trimmingCharacters(in: .whitespaces) }
        return "\(path) line \(culprit.line): \(culprit.key): \(message)" + (takes.map { "; the option: \($0)" } ?? "")
    }
}
