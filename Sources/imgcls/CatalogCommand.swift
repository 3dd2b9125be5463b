import ArgumentParser
import Catalog
import Console
import Foundation
import StageContract

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Work on workspace catalogs.",
        subcommands: [Merge.self])

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge other workspaces (as `fetch --shard` runs make them) into this one, files included.",
            discussion: """
                The shards of one fetch merge in the order of K, whatever order they are given in. Refused unless \
                --partial: a workspace without a completion marker (reports/shard.json: its fetch did not finish), \
                shards of other manifests or another N, and a set that does not hold each of 1…N exactly once. \
                For a URL under the same label in both, the row that got further wins (ok, then excluded, then \
                failed, then pending), then the newer one. Files come over as hard links when possible, copies otherwise.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Workspace folders (or their catalog.sqlite files) to merge in.") var others: [String]
        @Flag(help: "Take shards that did not finish, and sets that do not cover 1…N (or come from other manifests).")
        var partial = false
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() throws {
            global.startLogging()
            let workspaces = others.map { other in
                let folder = other.hasSuffix(".sqlite") ? (other as NSString).deletingLastPathComponent : other
                return Workspace(root: folder.isEmpty ? "." : folder)
            }
            var results: [String: MergeSummary] = [:]
            for (workspace, summary) in try global.workspaceFolder.mergeShards(workspaces, partial: partial) {
                results[workspace.root] = summary
                if !json {
                    print("\(workspace.root): \(summary.text)")
                }
            }
            if json { try Output.printJSON(results) }
            global.updateReport()
        }
    }
}
