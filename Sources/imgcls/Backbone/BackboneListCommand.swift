import ArgumentParser
import Backbone

struct BackboneListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The backbones imgcls knows, and which are installed.")

    func run() {
        print(KnownBackbone.listing(BackboneStore()))
    }
}
