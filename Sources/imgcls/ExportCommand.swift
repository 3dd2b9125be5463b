import ArgumentParser
import Console
import Export
import Foundation
import StageContract

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a split as WebDataset tar shards, for trainers that stream data at scale.",
        discussion: """
            OUT/<split>-000000.tar, … hold --samples-per-shard samples each in a shuffled order (--seed); per \
            sample <key>.jpg (or .png, …: the stored file), <key>.cls (the class index) and <key>.json (URL, \
            sha256, label, width, height). OUT/classes.json lists the classes by index, the same for every \
            split. The same split and seed give byte-identical shards. Python: \
            webdataset.WebDataset("OUT/train-{000000..000009}.tar").
            """)

    enum Format: String, ExpressibleByArgument { case webdataset }

    @OptionGroup var global: GlobalOptions
    @Option(help: "The output format.") var format = Format.webdataset
    @Option(help: "train, validation or test.") var split = Split.train
    @Option(help: "Samples in each tar shard.") var samplesPerShard = 1000
    @Option(help: "The seed of the shuffled order.") var seed: UInt64 = 1
    @Flag(help: "Print the summary as JSON.") var json = false
    @Argument(help: "The folder for the shards.") var output: String

    func validate() throws {
        if samplesPerShard < 1 { throw ValidationError("--samples-per-shard must be at least 1") }
    }

    func run() throws {
        global.startLogging()
        var options = WebDatasetExport.Options()
        (options.split, options.samplesPerShard, options.seed) = (split, samplesPerShard, seed)
        let summary = try WebDatasetExport(workspace: global.workspaceFolder, options: options).run(into: output)
        if json { return try Output.printJSON(summary) }
        print(summary.text(output: output))
    }
}
