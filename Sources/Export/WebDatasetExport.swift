// Export: the split as files that trainers at scale read. Entry: `WebDatasetExport` (a split in, tar shards
// out). Files in reading order:
//   WebDatasetExport.swift  which samples, in which order, into which shards, with which per-sample files
//   TarWriter.swift         POSIX ustar archives with fixed headers, so the same input gives the same bytes

import Catalog
import Files
import Foundation
import StageContract

/// Writes one split in the WebDataset layout: tar shards `<split>-000000.tar`, … of `samplesPerShard` samples
/// each, in a seeded shuffled order; per sample `<key>.<ext>` (the stored file: the bytes as received, or the
/// resized copy fetch kept), `<key>.cls` (the class index in ASCII) and `<key>.json` (URL, sha256, label, width,
/// height); `classes.json` beside them lists the classes, index by index. Keys are the sample's position,
/// nine digits, so they hold no dots. The same catalog, split and seed give byte-identical shards.
public struct WebDatasetExport {
    public struct Options: Sendable {
        public var split: Split = .train
        public var samplesPerShard = 1000
        public var seed: UInt64 = 1

        public init() {}
    }

    public struct Summary: Sendable, Codable {
        public var split: String
        public var samples = 0
        public var shards: [String] = []
        public var bytes = 0
        public var classes: [String] = []
        public var seconds = 0.0
    }

    /// What each sample's `.json` holds.
    struct SampleMetadata: Codable {
        var url: String
        var sha256: String
        var label: String
        var width: Int?
        var height: Int?
    }

    let workspace: Workspace
    let options: Options
    /// One for every sample's `.json`: sorted keys, so the bytes are the same every time.
    private let metadataEncoder = JSONEncoder()

    public init(workspace: Workspace, options: Options) {
        self.workspace = workspace
        self.options = options
        metadataEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    }

    public func run(into folder: String) throws(ExportError) -> Summary {
        let started = monotonicSeconds()
        let (samples, classes) = try chosenSamples()
        guard !samples.isEmpty else {
            throw ExportError("\(workspace.catalogPath): no kept images in the \(options.split.rawValue) split; run `imgcls split` first")
        }
        var summary = Summary(split: options.split.rawValue, classes: classes)
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        do {
            try FileIO.createDirectory(folder)
            try FileIO.writeAtomically(Array(try JSONEncoder().encode(classes)) + [10], to: folder + "/classes.json")
            for (number, start) in stride(from: 0, to: samples.count, by: options.samplesPerShard).enumerated() {
                let name = String(format: "%@-%06d.tar", options.split.rawValue, number)
                var tar = TarWriter()
                for position in start..<min(start + options.samplesPerShard, samples.count) {
                    try add(samples[position], key: String(format: "%09d", position), classIndex: index[samples[position].label.name]!, to: &tar)
                }
                let bytes = tar.finish()
                try FileIO.writeAtomically(bytes, to: folder + "/" + name)
                summary.shards.append(name)
                summary.bytes += bytes.count
            }
            try removeStaleShards(in: folder, keeping: Set(summary.shards))
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError("\(folder): \(error)")
        }
        summary.samples = samples.count
        summary.seconds = monotonicSeconds() - started
        return summary
    }

    /// The split's kept items in a seeded shuffled order, and the classes: every label with kept items in any
    /// split, sorted, so a class has the same index in every split's shards.
    private func chosenSamples() throws(ExportError) -> ([CatalogItem], [String]) {
        var samples: [CatalogItem] = []
        var labels = Set<String>()
        do {
            try workspace.requireCatalog().forEachItem(status: .ok) { item in
                guard let split = item.split else { return }
                labels.insert(item.label.name)
                if split == options.split { samples.append(item) }
            }
        } catch {
            throw ExportError("\(error)")
        }
        var random = SplitMix64(seed: options.seed)
        samples.stableShuffle(using: &random)
        return (samples, labels.sorted())
    }

    private func add(_ item: CatalogItem, key: String, classIndex: Int, to tar: inout TarWriter) throws {
        guard let relative = item.path else { throw ExportError("\(item.source): kept but has no stored file; run `imgcls curate` again") }
        let bytes: [UInt8]
        do { bytes = try FileIO.read(workspace.path(relative)) } catch {
            throw ExportError("\(error); the catalog lists it for \(item.source): run `imgcls curate` to recheck the files")
        }
        let metadata = SampleMetadata(url: item.source, sha256: item.sha256 ?? SHA256.hex(bytes), label: item.label.name,
                                      width: item.width, height: item.height)
        try tar.add(name: key + "." + WebDatasetExport.fileExtension(of: item), bytes)
        try tar.add(name: key + ".cls", Array(String(classIndex).utf8))
        try tar.add(name: key + ".json", Array(try metadataEncoder.encode(metadata)))
    }

    /// The extension WebDataset's decoders key on: the stored file's own, or the format's.
    static func fileExtension(of item: CatalogItem) -> String {
        let stored = ((item.path ?? "") as NSString).pathExtension.lowercased()
        if !stored.isEmpty { return stored == "jpeg" ? "jpg" : stored }
        switch item.format ?? "" {
        case "jpeg": return "jpg"
        case "": return "bin"
        case let format: return format
        }
    }

    /// An earlier export of this split with more shards leaves its last ones behind: they are not this export.
    private func removeStaleShards(in folder: String, keeping: Set<String>) throws {
        let prefix = options.split.rawValue + "-"
        for name in try FileManager.default.contentsOfDirectory(atPath: folder)
        where name.hasPrefix(prefix) && name.hasSuffix(".tar") && !keeping.contains(name) {
            try FileManager.default.removeItem(atPath: folder + "/" + name)
        }
    }
}

public typealias ExportError = ErrorMessage

extension WebDatasetExport.Summary {
    /// What `imgcls export` prints.
    public func text(output: String) -> String {
        "\(split): \(samples) samples of \(classes.count) classes in \(shards.count) shards "
            + String(format: "(%.1f MB, %.1f s) in %@", Double(bytes) / 1e6, seconds, output)
    }
}
