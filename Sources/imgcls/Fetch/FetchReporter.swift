import ArgumentParser
import Console
import Fetch
import Foundation
import StageContract

/// Runs a fetch with Ctrl-C handling and prints its summary.
enum FetchReporter {
    @discardableResult
    static func run(_ request: FetchRequest, workspace: Workspace, quiet: Bool, json: Bool) throws -> FetchSummary {
        var request = request
        request.showProgress = !quiet && !json
        let run = FetchRun(workspace: workspace, request: request)
        // First Ctrl-C: finish the transfers in flight and commit; a second one quits at once.
        // SIGTERM too: schedulers (Slurm's scancel and time limit, GNU parallel's --timeout) send it first.
        let interruption = Interruption(signals: [SIGINT, SIGTERM],
                                        notice: "stopping: finishing transfers in flight (Ctrl-C again to quit now)") { run.stop() }
        defer { interruption.cancel() }
        let summary = try run.run()
        if summary.alreadyComplete {
            let shard = request.shard.map { "shard \($0) of these manifests" } ?? "this fetch"
            if json { try Output.printJSON(summary) } else {
                print("\(shard) already completed here (\(workspace.shardCompletionPath)): nothing to do")
            }
            return summary
        }
        if json {
            try Output.printJSON(summary)
        } else {
            print(summary.text(request: request, workspace: workspace))
        }
        // Not completed: a scheduler retries it, and the rerun continues where this one stopped.
        if !request.dryRun && (summary.stoppedEarly || summary.pending > 0) { throw ExitCode(75) }
        return summary
    }
}
