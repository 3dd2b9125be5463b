import ArgumentParser
import Foundation
import Pipeline

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a whole pipeline from one YAML file, skipping the stages whose inputs and options have not changed.",
        discussion: """
            PIPELINE.yml names the workspace and each stage's options, as the stage's command takes them \
            (fetch: {manifests: [...], label_map: ..., validate: true}, curate: {...}, split: {ratio: 0.8,0.2}, \
            train: {epochs: 20, backbone: efficientnet-lite0, mode: head}, evaluate: {...}); paths are relative to \
            the file. Every stage's options are checked before anything runs. A stage runs when its options, its \
            input files or an earlier stage changed since it last completed (recorded in the workspace's \
            pipeline-state.json); --from and --only redo stages, --dry-run prints the plan.
            """)

    @Argument(help: "The pipeline file.") var pipeline: String
    @Option(help: "Run this stage and every one after it, changed or not.") var from: String?
    @Option(help: "Run only this stage, changed or not.") var only: String?
    @Flag(help: "Print the plan (what would run, what would be skipped, and why) and stop.") var dryRun = false
    @Flag(name: .shortAndLong, help: "Print only errors and results: no progress.") var quiet = false

    static let commands: [String: ParsableCommand.Type] = [
        "fetch": FetchCommand.self, "scrape": ScrapeCommand.self, "curate": CurateCommand.self, "split": SplitCommand.self,
        "train": TrainCommand.self, "evaluate": EvaluateCommand.self,
    ]

    func validate() throws {
        for stage in [from, only].compactMap({ $0 }) where !PipelineFile.stageOrder.contains(stage) {
            throw ValidationError("no stage \(stage); the stages are \(PipelineFile.stageOrder.joined(separator: ", "))")
        }
        if from != nil && only != nil { throw ValidationError("--from and --only do not go together") }
    }

    func run() throws {
        let file = try PipelineFile.load(pipeline)
        // Every stage's options, checked by its own command before anything runs.
        var commands: [(stage: PipelineStage, command: ParsableCommand)] = []
        for stage in file.stages {
            let type = Self.commands[stage.name]!
            let arguments = stage.arguments + ["--workspace", file.workspace] + (quiet ? ["--quiet"] : [])
            do { commands.append((stage, try type.parse(arguments))) } catch {
                throw PipelineError(file.locate(type.message(for: error), in: stage, help: type.helpMessage(columns: 200)))
            }
        }
        for stage in [from, only].compactMap({ $0 }) where !file.stages.contains(where: { $0.name == stage }) {
            throw PipelineError("\(pipeline) has no \(stage) stage; it has \(PipelineFile.stageOrder.filter { name in file.stages.contains { $0.name == name } }.joined(separator: ", "))")
        }
        var state = PipelineState(workspace: file.workspace)
        let fingerprints = PipelineState.fingerprints(file)
        let plan = PipelinePlan(file, state: state, fingerprints: fingerprints, from: from, only: only)
        print(plan.text(pipeline: pipeline, workspace: file.workspace))
        guard !dryRun else { return }
        for (i, (stage, command)) in commands.enumerated() where plan.steps[i].runs {
            print("\n== imgcls \(stage.name)\(stage.id == stage.name ? "" : " (\(stage.id))")")
            var command = command
            try command.run()
            // The stages after it that do not run now worked on its old output: the next run redoes them.
            for later in (i + 1)..<file.stages.count where !plan.steps[later].runs { state.forget(file.stages[later].id) }
            try state.record(stage.id, fingerprint: fingerprints[i])
        }
    }
}
