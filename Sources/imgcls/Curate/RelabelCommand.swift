import ArgumentParser
import Assist
import Console

/// `imgcls relabel`: a person's corrections of label issues, through a CSV.
struct RelabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relabel",
        abstract: "Apply label corrections you accepted: export the label issues as CSV, fill in new_label, apply it.",
        discussion: """
            imgcls relabel --export issues.csv writes the items curate --label-issues flagged (id, source, path, \
            label, suggested_label, label_score, new_label). Fill in new_label where you agree (the suggestion \
            or another label; leave it empty to keep the label) and run imgcls relabel issues.csv. Changed items \
            lose the label_issue flag and their split; split again afterwards. Every row is checked before \
            anything changes.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The edited CSV to apply.") var file: String?
    @Option(help: "Write the label issues to this CSV instead.") var export: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if (file == nil) == (export == nil) { throw ValidationError("give either an edited CSV to apply or --export FILE") }
    }

    func run() throws {
        global.startLogging()
        let workspace = global.workspaceFolder
        if let export {
            let count = try Relabel.export(workspace, to: export)
            if json { return try Output.printJSON(["exported": count]) }
            print("\(count) items written to \(export) (label issues, and items decided on in imgcls review): fill in new_label where you agree, then imgcls relabel \(export)")
            return
        }
        let summary = try Relabel.apply(file!, to: workspace)
        global.updateReport()
        if json { return try Output.printJSON(summary) }
        print(summary.text)
    }
}
