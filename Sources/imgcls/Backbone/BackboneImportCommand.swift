import ArgumentParser
import Backbone
import Console
import Engine
import Foundation

struct BackboneImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Install your own ONNX image network as a backbone (any ResNet, MobileNet, EfficientNet, RegNet, ConvNeXt, ViT, ... exported from PyTorch, timm or Keras).",
        discussion: """
            The network runs in imgcls's own engine. Its classifier (the last MatMul or Gemm) is kept, so `imgcls \
            classify --backbone NAME` gives its own answer, and what that classifier reads becomes the \
            features `train --backbone NAME --mode head` and `curate --backbone NAME` use. The input convention is \
            the one the network was trained with: ImageNet's mean and deviation on 0-1 values by default (torchvision \
            and timm); --range 255 with --mean 104,117,123 --std 1,1,1 --bgr for Caffe's.
            """)

    @Argument(help: "The .onnx file (external data, if any, beside it).") var file: String
    @Option(help: "The name to install it under (letters, digits, - _ .).") var name: String
    @Option(help: "Input height and width, for a network that leaves them open.") var size: Int?
    @Option(help: "Resize to this square side, then take the centre input-size square (e.g. 256 for a 224 network).") var resize: Int?
    @Option(help: "Channel means, in the --range's units, in the network's channel order.") var mean = "0.485,0.456,0.406"
    @Option(help: "Channel standard deviations, in the --range's units.") var std = "0.229,0.224,0.225"
    @Option(help: "The pixel range the mean and deviation are in: 1 (values 0-1) or 255.") var range: Float = 1
    @Flag(help: "Feed channels in BGR order (Caffe's networks).") var bgr = false
    @Option(help: "A JPEG round trip at this quality after resizing (for networks trained on JPEG artefacts).") var jpegRoundTrip: Int?
    @Option(help: "A file of labels, one per line in class order (default: ImageNet's for 1000 classes).") var labels: String?
    @Flag(help: "Replace an imported backbone of the same name.") var replace = false
    @Option(help: "The value (or node) whose output holds the features, pooled to a vector (a feature map averaged, a token sequence's first); default: what the network's classifier reads, which is then kept. Needed for a network without a classifier (DINOv2, a feature extractor).")
    var features: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    func values(_ text: String, _ option: String) throws -> [Float] {
        let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 3 else { throw ValidationError("\(option) takes three numbers, e.g. 0.485,0.456,0.406") }
        return values
    }

    func validate() throws {
        guard range == 1 || range == 255 else { throw ValidationError("--range is 1 or 255") }
        if let size, !(8...4096).contains(size) { throw ValidationError("--size must be between 8 and 4096") }
        if let resize, !(8...8192).contains(resize) { throw ValidationError("--resize must be between 8 and 8192") }
        if let jpegRoundTrip, !(1...100).contains(jpegRoundTrip) { throw ValidationError("--jpeg-round-trip is a quality from 1 to 100") }
        guard try values(std, "--std").allSatisfy({ $0 > 0 }) else { throw ValidationError("--std values must be above 0") }
        _ = try values(mean, "--mean")
    }

    func run() throws {
        var normalization = Normalization(mean: try values(mean, "--mean").map { $0 / range },
                                          deviation: try values(std, "--std").map { $0 / range })
        (normalization.resizeBeforeCrop, normalization.jpegRoundTrip) = (resize, jpegRoundTrip)
        if bgr { normalization.bgr = true }
        var request = BackboneImportRequest(file: file, name: name, normalization: normalization)
        (request.inputSize, request.labelsFile, request.replace, request.features) = (size, labels, replace, features)
        let summary = try BackboneImport(request: request).run()
        if json { return try Output.printJSON(summary) }
        print(summary.text)
    }
}
