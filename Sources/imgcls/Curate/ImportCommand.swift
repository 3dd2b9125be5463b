import ArgumentParser
import Console
import Curate
import StageContract

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Register a folder of images (<label>/<files>) in the workspace, to curate, split and train on.",
        discussion: """
            The label of a file is the name of the first folder below the one given (or --label). Each file is \
            stored under raw/<label>/ by content (a hard link to the original when possible; --copy to copy). \
            Files that are not images get a failed row with the reason. Importing again adds only new files.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The folder to import.") var folder: String
    @Option(help: "The label for every file (instead of folder names).") var label: String?
    @Flag(help: "Copy files instead of hard-linking them.") var copy = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        global.startLogging()
        var request = ImportRequest(folder: folder)
        (request.label, request.copy) = (try label.map { try Label($0) }, copy)
        let summary = try ImportRun(workspace: global.workspaceFolder, request: request).run()
        global.updateReport()
        if json { return try Output.printJSON(summary) }
        print(summary.text)
    }
}
