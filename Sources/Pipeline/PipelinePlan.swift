/// Which stages a run does, and why: a stage runs when asked for (`--only` it, or `--from` it or an earlier one),
/// when it never completed, when its options or inputs changed since (its fingerprint), or when an earlier stage
/// runs (its output would be stale). With `--only`, nothing else runs.
public struct PipelinePlan: Sendable {
    public struct Step: Sendable {
        public let stage: PipelineStage
        public let runs: Bool
        public let why: String
    }

    public let steps: [Step]

    public init(_ file: PipelineFile, state: PipelineState, fingerprints: [String], from: String?, only: String?) {
        let firstForced = from.flatMap { name in file.stages.firstIndex { $0.name == name } }
        var steps: [Step] = []
        var earlierRuns = false
        for (i, stage) in file.stages.enumerated() {
            let forced = only == stage.name || (firstForced.map { i >= $0 } ?? false)
            let unchanged = state.completed[stage.id] == fingerprints[i]
            let runs = only != nil ? only == stage.name : forced || !unchanged || earlierRuns
            let why = forced ? "asked for" : !runs ? "unchanged since it last completed"
                : state.completed[stage.id] == nil ? "never completed" : earlierRuns && unchanged ? "an earlier stage runs"
                : "its options, its inputs or an earlier stage changed"
            earlierRuns = earlierRuns || runs
            steps.append(Step(stage: stage, runs: runs, why: why))
        }
        self.steps = steps
    }

    /// What `imgcls run` prints before it starts (and all that `--dry-run` prints).
    public func text(pipeline: String, workspace: String) -> String {
        (["pipeline \(pipeline) (workspace \(workspace)):"] + steps.map { step in
            "  \(step.runs ? "run " : "skip") \(step.stage.id): \(step.why)"
                + (step.runs ? ": imgcls \(step.stage.name) \(step.stage.arguments.joined(separator: " "))" : "")
        }).joined(separator: "\n")
    }
}
