import ArgumentParser
import Catalog
import Console

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
}
