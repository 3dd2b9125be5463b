import Catalog
@testable import Export
import Files
import Foundation
import SampleImages
import StageContract
import Testing

/// The WebDataset shards, read back by GNU tar (an independent reader): every sample's class, bytes and
/// metadata match the catalog, and the same split and seed give the same bytes.
@Suite struct WebDatasetExportTests {
    /// 11 kept images in train, 3 in validation, one excluded; three labels.
    static func workspace(in folder: TemporaryFolder) throws -> Workspace {
        let workspace = Workspace(root: folder.file("data"))
        let catalog = try workspace.openCatalog()
        for i in 0..<15 {
            let label = ["cats", "dogs", "owls"][i % 3]
            let bytes = i % 2 == 0 ? SampleImages.png(SampleImages.picture(width: 12, height: 8, seed: UInt64(i)))
                : SampleImages.jpeg(SampleImages.picture(width: 12, height: 8, seed: UInt64(i)), quality: 90)
            let path = "raw/\(label)/\(i).\(i % 2 == 0 ? "png" : "jpg")"
            try workspace.storeOnce(bytes, at: path)
            var item = CatalogItem(source: "https://x.example/\(i)", sourceKind: .url, label: try Label(label))
            item.status = i == 14 ? .excluded : .ok
            item.path = path
            item.sha256 = SHA256.hex(bytes)
            item.format = i % 2 == 0 ? "png" : "jpeg"
            (item.width, item.height) = (12, 8)
            item.split = i < 11 || i == 14 ? .train : .validation
            try catalog.upsert(item)
        }
        return workspace
    }

    static func untar(_ shard: String, into folder: String) throws {
        try FileIO.createDirectory(folder)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-xf", shard, "-C", folder]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
    }

    @Test func shardsHoldEverySampleOnceAndAreReproducible() throws {
        let folder = TemporaryFolder()
        let workspace = try Self.workspace(in: folder)
        var options = WebDatasetExport.Options()
        options.samplesPerShard = 4
        let summary = try WebDatasetExport(workspace: workspace, options: options).run(into: folder.file("out"))
        #expect(summary.samples == 11)
        #expect(summary.shards == ["train-000000.tar", "train-000001.tar", "train-000002.tar"])
        #expect(summary.classes == ["cats", "dogs", "owls"])
        #expect(try JSONDecoder().decode([String].self, from: Data(FileIO.read(folder.file("out/classes.json")))) == summary.classes)

        var seen: [String: Int] = [:]  // url -> class index
        var keys: [String] = []
        let catalog = try workspace.openCatalog()
        for shard in summary.shards {
            let extracted = folder.file("x/\(shard)")
            try Self.untar(folder.file("out/\(shard)"), into: extracted)
            let names = try FileManager.default.contentsOfDirectory(atPath: extracted).sorted()
            let shardKeys = Set(names.map { String($0.prefix { $0 != "." }) }).sorted()
            keys += shardKeys
            for key in shardKeys {
                #expect(!key.contains(".") && key.count == 9)
                let metadata = try JSONDecoder().decode(WebDatasetExport.SampleMetadata.self,
                                                        from: Data(FileIO.read("\(extracted)/\(key).json")))
                let item = try #require(try catalog.item(source: metadata.url, label: Label(metadata.label)))
                let classIndex = Int(String(decoding: try FileIO.read("\(extracted)/\(key).cls"), as: UTF8.self))
                #expect(classIndex == summary.classes.firstIndex(of: item.label.name))
                let image = names.first { $0.hasPrefix(key + ".") && !$0.hasSuffix(".cls") && !$0.hasSuffix(".json") }!
                #expect(try FileIO.read("\(extracted)/\(image)") == FileIO.read(workspace.path(item.path!)))
                #expect(image.hasSuffix(item.format == "png" ? ".png" : ".jpg"))
                #expect(metadata.sha256 == item.sha256 && metadata.width == 12 && metadata.height == 8)
                seen[metadata.url] = classIndex
            }
        }
        #expect(seen.count == 11 && keys == (0..<11).map { String(format: "%09d", $0) })

        // The same bytes again; another seed, another order; a smaller export removes the shards it no longer has.
        let again = try WebDatasetExport(workspace: workspace, options: options).run(into: folder.file("again"))
        for shard in again.shards { #expect(try FileIO.read(folder.file("again/\(shard)")) == FileIO.read(folder.file("out/\(shard)"))) }
        options.seed = 2
        _ = try WebDatasetExport(workspace: workspace, options: options).run(into: folder.file("seed2"))
        #expect(try FileIO.read(folder.file("seed2/train-000000.tar")) != FileIO.read(folder.file("out/train-000000.tar")))
        options.samplesPerShard = 100
        #expect(try WebDatasetExport(workspace: workspace, options: options).run(into: folder.file("out")).shards == ["train-000000.tar"])
        #expect(FileIO.kind(of: folder.file("out/train-000001.tar")) == .missing)
        options.split = .test
        #expect(throws: ExportError.self) { try WebDatasetExport(workspace: workspace, options: options).run(into: folder.file("none")) }
    }
}
