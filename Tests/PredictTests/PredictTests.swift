import Files
import Foundation
import Imaging
import Predict
import SampleImages
import Testing
@testable import Engine

/// A model as `train` writes it (random weights, batch-norm statistics away from the identity so that folding
/// matters), saved under `folder/models/<name>/`.
func writeModel(_ folder: TemporaryFolder, name: String = "tiny", labels: [String] = ["cat", "dog", "fish"],
                architecture: ModelSpec.Architecture = .resnet, seed: UInt64 = 1) throws -> (file: String, model: Model) {
    var spec = ModelSpec(classes: labels.count)
    spec.architecture = architecture
    spec.inputSize = 32
    let model = Model(spec: spec, labels: labels, normalization: architecture == .resnet ? Normalization() : .efficientNetLite, seed: seed)
    var random = SplitMix64(seed: seed)
    for p in model.parameters where p.name.contains("running_var") || p.name.contains("running_mean") {
        for i in 0..<p.count { p.value[i] = p.name.hasSuffix("running_var") ? 0.5 + Float(random.nextUnit()) : 0.2 * Float(random.nextGaussian()) }
    }
    let file = folder.file("models/\(name)/model.safetensors")
    try FileManager.default.createDirectory(atPath: FileIO.parentFolder(of: file), withIntermediateDirectories: true)
    try ModelFile.save(model, to: file)
    return (file, model)
}

@Suite struct PredictorTests {
    let pictures = (0..<5).map { SampleImages.png(SampleImages.scene(width: 40 + 3 * $0, height: 30, seed: UInt64($0))) }

    /// The predictor's folded network and shared preprocessing against the unfolded model on the loader's batch
    /// (what `evaluate` runs): the same probabilities, in input order, for either architecture `train` writes.
    @Test(arguments: [ModelSpec.Architecture.resnet, .efficientnetLite0])
    func agreesWithTheModelAsEvaluated(_ architecture: ModelSpec.Architecture) throws {
        let folder = TemporaryFolder()
        let (file, model) = try writeModel(folder, architecture: architecture)
        let predictor = try Predictor(modelFile: file)
        #expect(predictor.modelName == "tiny" && predictor.labels == ["cat", "dog", "fish"] && predictor.modelVersion.count == 12)
        for (i, bytes) in pictures.enumerated() { try FileIO.writeAtomically(bytes, to: folder.file("\(i).png")) }
        let samples = pictures.indices.map { ImageFolder.Sample(path: folder.file("\($0).png"), label: 0) }
        let loader = BatchLoader(side: 32, normalization: model.normalization, cacheMegabytes: 0)
        let reference = softmax(model.logits(loader.batch(samples[...], seed: 0).input, training: false))
        let results = predictor.classify(pictures.enumerated().map { ImageInput(name: "p\($0)", bytes: $1) }, topK: 3)
        #expect(results.map(\.name) == ["p0", "p1", "p2", "p3", "p4"])
        for (i, result) in results.enumerated() {
            let c = try #require(result.classification)
            let expected = Array(reference.data[i * 3..<(i + 1) * 3])
            #expect(zip(c.probabilities, expected).allSatisfy { abs($0 - $1) < 1e-4 }, "\(c.probabilities) vs \(expected)")
            #expect(c.top.map(\.probability) == c.probabilities.sorted(by: >))
            #expect(c.top[0].label == c.label && c.confidence == c.top[0].probability && !c.fallbackApplied)
            #expect(abs(c.probabilities.reduce(0, +) - 1) < 1e-5)
        }
    }

    @Test func fallbackRuleFiresBelowTheMinimumConfidence() throws {
        let folder = TemporaryFolder()
        let predictor = try Predictor(modelFile: try writeModel(folder).file)
        let input = [ImageInput(name: "a", bytes: pictures[0])]
        let plain = try #require(predictor.classify(input)[0].classification)
        let above = try #require(predictor.classify(input, fallback: FallbackRule(minimumConfidence: plain.confidence + 0.01, label: "neutral"))[0].classification)
        #expect(above.fallbackApplied && above.label == "neutral" && above.confidence == plain.confidence && above.top == plain.top)
        let below = try #require(predictor.classify(input, fallback: FallbackRule(minimumConfidence: plain.confidence - 0.01, label: "neutral"))[0].classification)
        #expect(!below.fallbackApplied && below.label == plain.label)
        // The original service's bug: int(probability) < 0.75 is true for every probability below 1.
        let rule = Classification([0.9, 0.05, 0.05], labels: ["porn", "political", "neutral"], topK: 1,
                                  fallback: FallbackRule(minimumConfidence: 0.75, label: "neutral"))
        #expect(rule.label == "porn" && !rule.fallbackApplied)
    }

    @Test func refusedImagesSayWhyAndTheRestAreAnswered() throws {
        let folder = TemporaryFolder()
        let predictor = try Predictor(modelFile: try writeModel(folder).file)
        let results = predictor.classify([
            ImageInput(name: "good", bytes: pictures[1]),
            ImageInput(name: "page.jpg", bytes: Array("<html>404</html>".utf8)),
            ImageInput(name: "cut.png", bytes: SampleImages.truncated(pictures[2], keeping: 0.4)),
            ImageInput(name: "empty", bytes: []),
        ])
        #expect(results[0].classification != nil)
        #expect(results[1].error?.reason == .notAnImage && results[1].error?.file == "page.jpg")
        #expect(results[2].error?.reason == .truncated)
        #expect(results[3].error?.reason == .empty)
    }

    @Test func aFileThatIsNotAModelIsRefusedWithTheReason() throws {
        let folder = TemporaryFolder()
        try FileIO.writeAtomically(Array("not a model".utf8), to: folder.file("model.safetensors"))
        #expect(throws: PredictError.self) { try Predictor(modelFile: folder.file("model.safetensors")) }
        #expect(throws: PredictError.self) { try Predictor(modelFile: folder.file("missing.safetensors")) }
    }
}

@Suite struct Base64Tests {
    let bytes: [UInt8] = Array(0...255) + [1, 2, 3]

    @Test func acceptsTheFormsClientsSend() throws {
        let plain = Data(bytes).base64EncodedString()
        for text in [plain, "data:image/png;base64," + plain, plain.replacing("=", with: ""),
                     plain.replacing("+", with: " "), plain.replacing("+", with: "-").replacing("/", with: "_"),
                     String(plain.prefix(40)) + "\r\n" + String(plain.dropFirst(40))] {
            #expect(try ImageInput.base64(text, name: "x").bytes == bytes, "\(text.prefix(50))")
        }
    }

    @Test func refusesWhatIsNotBase64() {
        for text in ["", "data:image/png;base64,", "data:image/png,abcd", "abc*def", "a", "ab=cd"] {
            #expect(throws: PredictError.self, "\(text)") { try ImageInput.base64(text, name: "field") }
        }
    }

    /// Random text (bounded): an answer or an error, never a crash.
    /// Random text (bounded in count and time): the bytes Foundation's base64 decoder gives for the same text once
    /// line breaks are dropped, the URL-safe alphabet and spaces mapped and padding completed, or a refusal that
    /// names the input, and never anything else.
    @Test(.timeLimit(.minutes(1))) func randomTextDecodesAsFoundationDoesOrIsRefused() {
        var random = SplitMix64(seed: 11)
        let alphabet = Array("ABCxyz019+/=-_ \r\n:;,data*é".unicodeScalars)
        var (decoded, refused) = (0, 0)
        for _ in 0..<3000 {
            let text = String(String.UnicodeScalarView((0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
            if text.hasPrefix("data:") { continue }  // data URLs have their own test
            // By scalars: "\r\n" is one Character.
            var plain = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }.map {
                $0 == " " || $0 == "-" ? "+" : $0 == "_" ? "/" : $0
            }))
            while plain.hasSuffix("=") { plain.removeLast() }
            let reference = plain.isEmpty ? nil : Data(base64Encoded: plain + String(repeating: "=", count: (4 - plain.utf8.count % 4) % 4))
            switch Result(catching: { () throws(PredictError) in try ImageInput.base64(text, name: "fuzz") }) {
            case .success(let input):
                decoded += 1
                #expect(reference.map { [UInt8]($0) } == input.bytes, "\(text.debugDescription)")
            case .failure(let refusal):
                refused += 1
                #expect(refusal.description.hasPrefix("fuzz: "))
                #expect(reference == nil, "\(text.debugDescription): \(refusal)")
            }
        }
        #expect(decoded > 100 && refused > 100, "decoded \(decoded), refused \(refused)")
    }
}

@Suite struct PredictRunTests {
    @Test func formatsAndTheRefusedCount() throws {
        let folder = TemporaryFolder()
        let file = try writeModel(folder).file
        try FileManager.default.createDirectory(atPath: folder.file("images/sub"), withIntermediateDirectories: true)
        try FileIO.writeAtomically(SampleImages.png(SampleImages.scene(width: 30, height: 30, seed: 3)), to: folder.file("images/a.png"))
        try FileIO.writeAtomically(SampleImages.jpeg(SampleImages.scene(width: 30, height: 30, seed: 4)), to: folder.file("images/sub/b.jpg"))
        try FileIO.writeAtomically(Array("<html>".utf8), to: folder.file("images/sub/c.jpg"))
        for format in OutputFormat.allCases {
            var request = PredictRequest(modelFile: file, sources: [folder.file("images")])
            (request.format, request.topK, request.batchSize, request.showProgress) = (format, 2, 2, false)
            var lines: [String] = []
            let summary = try PredictRun(request: request).run { lines.append($0) }
            #expect(summary.classified == 2 && summary.refused == 1, "\(format)")
            let text = lines.joined(separator: "\n")
            switch format {
            case .text:
                #expect(lines.count == 3 && text.contains("c.jpg: refused (not_an_image)"))
            case .jsonl:
                let records = try lines.map { try JSONDecoder().decode(PredictionRecord.self, from: Data($0.utf8)) }
                #expect(records.map { FileIO.parentFolder(of: $0.name).hasSuffix("images") || $0.name.hasSuffix("b.jpg") || $0.name.hasSuffix("c.jpg") } == [true, true, true])
                #expect(records.filter { $0.error?.reason == "not_an_image" }.count == 1 && records.compactMap(\.top).allSatisfy { $0.count == 2 })
            case .csv:
                #expect(lines.count == 4 && lines[0] == "file,label,confidence,fallback_applied,top,reason,message")
            case .json:
                let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                #expect((document["results"] as? [Any])?.count == 3 && document["model"] as? String == "tiny")
            }
        }
    }

    @Test func base64Arguments() throws {
        let folder = TemporaryFolder()
        var request = PredictRequest(modelFile: try writeModel(folder).file,
                                     sources: [Data(SampleImages.png(SampleImages.scene(width: 30, height: 30, seed: 5))).base64EncodedString(), "!!"])
        (request.base64, request.showProgress, request.format) = (true, false, .jsonl)
        var lines: [String] = []
        let summary = try PredictRun(request: request).run { lines.append($0) }
        #expect(summary.classified == 1 && summary.refused == 1 && lines[1].contains("argument 2"))
    }
}
