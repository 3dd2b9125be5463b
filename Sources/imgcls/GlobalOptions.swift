import ArgumentParser
import Console
import Files
import Foundation
import Report
import StageContract

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The workspace folder (catalog, images, models).")
    var workspace = "./data"

    @Flag(name: .shortAndLong, help: "Log more detail.")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Print only errors and results: no progress.")
    var quiet = false

    func validate() throws {
        if verbose && quiet { throw ValidationError("--verbose and --quiet cannot be used together") }
    }

    var workspaceFolder: Workspace { Workspace(root: workspace) }

    func startLogging() {
        Output.bootstrapLogging(verbose: verbose, quiet: quiet)
    }

    /// A line on standard error for the person at the terminal (a choice made for them and why), unless --quiet.
    func note(_ line: String) {
        if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Rewrites the workspace's report page after a stage completed (on standard error, where it is, unless
    /// --quiet). A page that cannot be written is a warning: the stage's work is done and recorded.
    func updateReport() {
        // A command that worked outside any workspace (evaluate on a folder, with a model given by path) has none.
        guard FileIO.kind(of: workspace) == .directory else { return }
        do {
            let page = try WorkspaceReport(workspace: workspaceFolder).write()
            if !quiet { FileHandle.standardError.write(Data("report page: \(page)\n".utf8)) }
        } catch {
            FileHandle.standardError.write(Data("warning: the report page could not be written: \(error)\n".utf8))
        }
    }
}
