// imgcls-dev: developer tools, not part of `imgcls`: sample files, studies and benchmarks against peer tools.
// Entry: `DevTool`. Files in reading order:
//   DevTool.swift              the subcommands (this file)
//   ServeFolder.swift          a folder over HTTP on 127.0.0.1
//   BenchJPEGDecode.swift, BenchResize.swift, BenchTrain.swift, BenchPredict.swift  the engines' benchmarks
//   CurateCorpus.swift, NearDuplicateStudy.swift, BenchNearDuplicates.swift        curate's thresholds and scale
//   BenchAssist.swift          model-assisted curation: the semantic study and label issues
//   ONNXRun.swift              an imported ONNX network on a raw tensor, against ONNX Runtime
//   ReviewCatalog.swift        a synthetic catalog of millions of rows for the review app's benchmark
//   PDQHashes.swift            PDQ hashes in the reference script's format (scripts/pdq-reference.sh)

import ArgumentParser
import Files
import Foundation
import Imaging
import SampleImages

extension SampleImages.CorpusSizes: ExpressibleByArgument {}

/// Developer tools: sample files for the demo, and benchmarks against peer tools. Not part of `imgcls`.
@main
struct DevTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imgcls-dev",
        abstract: "Sample files and benchmarks for imgcls developers.",
        subcommands: [Samples.self, JPEGCorpus.self, BenchJPEGDecode.self, ServeFolder.self, ServeDemoSite.self, BenchResize.self, BenchFeatures.self, BenchFinetune.self,
                      NearDuplicateStudy.self, BenchNearDuplicates.self, CurateCorpus.self, BenchTrain.self, SemanticStudy.self, BenchSemanticSearch.self, LabelIssueBench.self,
                      BenchConvolution.self, BenchPredict.self, ONNXRun.self, ReviewCatalog.self, PDQHashes.self])
}

struct Samples: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one valid file per format and each kind of broken file into a folder.")

    @Argument(help: "The folder to write.") var folder: String

    func run() throws {
        for sample in try SampleImages.writeSampleSet(to: folder) {
            print("\(sample.name.padding(toLength: 26, withPad: " ", startingAt: 0)) expect \(sample.expected?.rawValue ?? "ok")")
        }
    }
}

struct JPEGCorpus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jpeg-corpus", abstract: "Write JPEGs of mixed sizes for benchmarks.")

    @Argument(help: "The folder to write.") var folder: String
    @Option(help: "How many files.") var count = 60
    @Option(help: "photo (0.3–12 megapixels) or web (160x120 to 1600x1200).") var sizes = SampleImages.CorpusSizes.photo
    @Option(help: "Cut web-sized JPEGs (500-1200 px, q85) from the real photos in this folder instead of drawing pictures.")
    var from: String?

    func run() throws {
        try FileIO.createDirectory(folder)
        let files: [(name: String, bytes: [UInt8])]
        if let from {
            let photos = DirectoryWalker(root: from).filter { $0.lowercased().hasSuffix(".jpg") || $0.lowercased().hasSuffix(".jpeg") }.sorted()
            guard !photos.isEmpty else { throw ValidationError("\(from): no JPEG photos") }
            files = try SampleImages.webCorpus(from: photos, count: count)
        } else {
            files = SampleImages.jpegCorpus(count: count, sizes: sizes)
        }
        for file in files {
            try FileIO.writeAtomically(file.bytes, to: folder + "/" + file.name)
        }
        print("wrote \(count) JPEGs to \(folder)")
    }
}

/// `--values`: the measured numbers on standard output, one `name value` line each, for the benchmark scripts
/// (scripts/bench-lib.sh reads them with `value NAME`), and the line written for people on standard error: scripts
/// never read that one.
struct MeasuredValues: ParsableArguments {
    @Flag(help: "Print the measured values on standard output, one `name value` line each (for scripts/bench-*.sh), the rest on standard error.")
    var values = false

    func report(_ text: String, _ measured: KeyValuePairs<String, Double>) {
        guard values else { return print(text) }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        for (name, value) in measured { print("\(name) \(value)") }
    }
}
