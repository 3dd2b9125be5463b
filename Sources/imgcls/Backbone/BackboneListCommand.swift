import ArgumentParser
import Backbone
import Engine

struct BackboneListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The backbones imgcls knows, and which are installed.")

    @Flag(help: "Also say which kernels inference runs on (library and instruction set).") var verbose = false

    func run() {
        print(KnownBackbone.listing(BackboneStore()))
        if verbose {
            print("\ninference kernels: \(InferenceKernels.description)"
                  + (InferenceKernels.current == .library ? "; IMGCLS_KERNELS=reference runs the engine's own loops instead" : ""))
        }
    }
}
