import ArgumentParser
import Backbone
import Console
import Foundation

struct BackboneClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "An installed backbone's own answer for photos: ImageNet's classes, open_nsfw's sfw and nsfw, an imported network's labels.")

    @Argument(help: "Image files.") var files: [String]
    @Option(help: "The backbone (see `imgcls backbone list`).") var backbone = "efficientnet-lite0"
    @Option(help: "Classes per image.") var top = 5
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if !(1...100_000).contains(top) { throw ValidationError("--top must be between 1 and 100000") }
    }

    func run() throws {
        let model = try BackboneStore().installedModel(backbone)
        let (answers, skipped) = try BackboneClassification.classify(files, modelFile: model, count: top)
        if json { return try Output.printJSON(answers) }
        for answer in answers { print(answer.text(skipped: skipped)) }
        if !skipped.isEmpty { throw ExitCode(1) }
    }
}
