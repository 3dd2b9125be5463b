import ArgumentParser
import Catalog
import Console
import Foundation
import Report
import StageContract

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Summarise the workspace: items by status, label, rejection reason and split.")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        global.startLogging()
        let workspace = global.workspaceFolder
        guard workspace.hasCatalog else {
            if json {
                try Output.printJSON(["workspace": workspace.root, "catalog": "none"])
            } else {
                print("\(workspace.root): no catalog yet (\(workspace.catalogPath) is missing):")
                print("nothing has been fetched or imported into this workspace.")
            }
            return
        }
        let summary = try workspace.openCatalog().summary()
        if json {
            try Output.printJSON(summary)
        } else {
            print(StatusReport(workspace: workspace, summary: summary).text)
        }
    }
}
