import ArgumentParser
import Catalog
import Console
import Foundation

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Work on workspace catalogs.",
        subcommands: [Merge.self])

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge other workspaces (as `fetch --shard` runs make them) into this one, files included.",
            discussion: """
                For a URL under the same label in both, the row that got further wins (ok, then excluded, then \
                failed, then pending), then the newer one. Files come over as hard links when possible, copies otherwise.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Workspace folders (or their catalog.sqlite files) to merge in.") var others: [String]
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() throws {
            global.startLogging()
            var results: [String: MergeSummary] = [:]
            for other in others {
                let folder = other.hasSuffix(".sqlite") ? (other as NSString).deletingLastPathComponent : other
                let summary = try global.workspaceFolder.merge(from: Workspace(root: folder.isEmpty ? "." : folder))
                results[other] = summary
                if !json {
                    print("\(other): \(summary.added) added, \(summary.replaced) replaced, \(summary.kept) kept; "
                          + "\(summary.filesCopied) files brought over, \(summary.filesMissing) missing")
                }
            }
            if json { try Output.printJSON(results) }
        }
    }
}
