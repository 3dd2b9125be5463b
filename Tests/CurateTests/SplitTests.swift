import Catalog
@testable import Curate
import Files
import Foundation
import Imaging
import SampleImages
import Testing

@Suite struct SplitTests {
    /// Three labels of distinct scenes (60, 30, 12), plus a near-duplicate cluster kept in the data.
    static func fixture() throws -> CurateFixture {
        let fixture = try CurateFixture()
        var seed: UInt64 = 0
        for (label, count) in [("a", 60), ("b", 30), ("c", 12)] {
            for _ in 0..<count {
                seed += 1
                try fixture.add(SampleImages.png(SampleImages.scene(width: 96, height: 72, seed: seed)), label: label)
            }
        }
        let base = SampleImages.scene(width: 320, height: 240, seed: 999)
        for quality in [50, 70, 90] { try fixture.add(SampleImages.jpeg(base, quality: quality), label: "a", source: "cluster-\(quality)") }
        _ = try fixture.curate { $0.keepNearDuplicates = true }
        return fixture
    }

    func split(_ fixture: CurateFixture, _ configure: (inout SplitOptions) -> Void = { _ in }) throws -> SplitSummary {
        var options = SplitOptions()
        configure(&options)
        return try Splitter(workspace: fixture.workspace, options: options).run()
    }

    func files(_ folder: String) -> [String] {
        Array(DirectoryWalker(root: folder)).map { String($0.dropFirst(folder.count + 1)) }
    }

    @Test func stratifiedDeterministicAndLeakFree() throws {
        let fixture = try Self.fixture()
        let summary = try split(fixture) { $0.seed = 5 }
        for (label, total) in [("a", 63), ("b", 30), ("c", 12)] {
            let train = summary.counts["train"]?[label] ?? 0, validation = summary.counts["validation"]?[label] ?? 0
            #expect(train + validation == total)
            #expect(abs(Double(validation) - 0.2 * Double(total)) <= 3, "\(label): \(validation) of \(total) in validation")
        }
        #expect(summary.crossSplitPairs == 0)
        // The three near duplicates sit together.
        let sides = Set(try fixture.items().filter { $0.source.contains("cluster-") }.map(\.split))
        #expect(sides.count == 1)
        // Same seed: byte-identical list and folders; another seed: a different split.
        let csv = try FileIO.read(fixture.workspace.path("splits.csv"))
        let trainFiles = files(fixture.workspace.path("train"))
        _ = try split(fixture) { $0.seed = 5 }
        #expect(try FileIO.read(fixture.workspace.path("splits.csv")) == csv)
        #expect(files(fixture.workspace.path("train")) == trainFiles)
        _ = try split(fixture) { $0.seed = 6 }
        #expect(try FileIO.read(fixture.workspace.path("splits.csv")) != csv)
    }

    @Test func resplittingLeavesNoStaleFolders() throws {
        let fixture = try Self.fixture()
        _ = try split(fixture) { $0.ratios = [0.6, 0.2, 0.2] }
        #expect(FileIO.kind(of: fixture.workspace.path("test")) == .directory)
        _ = try split(fixture) { $0.ratios = [0.8, 0.2] }
        #expect(FileIO.kind(of: fixture.workspace.path("test")) == .missing)
        let listed = try String(decoding: FileIO.read(fixture.workspace.path("splits.csv")), as: UTF8.self)
            .split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
        let onDisk = files(fixture.workspace.path("train")).map { "train/" + $0 } + files(fixture.workspace.path("validation")).map { "validation/" + $0 }
        #expect(Set(listed) == Set(onDisk))
        #expect(try fixture.items().allSatisfy { $0.split == "train" || $0.split == "validation" })
    }

    @Test func fixedCountsCapsFoldsAndOversampling() throws {
        let fixture = try Self.fixture()
        let fixed = try split(fixture) { $0.fixed = [5, 3] }
        #expect(fixed.counts["validation"]?.values.allSatisfy { (5...7).contains($0) } == true)  // clusters are not cut
        #expect(fixed.counts["test"]?["c"] == 3)
        let capped = try split(fixture) { $0.maxPerClass = 20 }
        #expect(capped.counts.values.allSatisfy { counts in counts.values.allSatisfy { $0 <= 20 } })
        #expect((capped.counts["train"]?["a"] ?? 0) + (capped.counts["validation"]?["a"] ?? 0) == 20)
        let oversampled = try split(fixture) { $0.oversample = true }
        let train = oversampled.counts["train"]!
        #expect(Set(train.values).count == 1)  // every class as large as the largest in train
        #expect(files(fixture.workspace.path("train/c")).contains { $0.contains("-copy") })
        #expect(oversampled.counts["validation"]?["c"] == 2 || oversampled.counts["validation"]?["c"] == 3)
        let folds = try split(fixture) { $0.kfold = 3 }
        #expect(FileIO.kind(of: fixture.workspace.path("folds/2/validation/a")) == .directory)
        #expect(FileIO.kind(of: fixture.workspace.path("train")) == .missing)
        #expect(folds.crossSplitPairs == 0)
        // Each item validates in exactly one fold.
        let rows = try String(decoding: FileIO.read(fixture.workspace.path("splits.csv")), as: UTF8.self).split(separator: "\n").dropFirst()
        let validating = rows.filter { $0.hasSuffix(",validation") }.map { $0.split(separator: ",")[0].split(separator: "/").last! }
        #expect(validating.count == Set(validating).count && validating.count == 105)
    }

    @Test func linkModes() throws {
        let fixture = try Self.fixture()
        _ = try split(fixture) { $0.mode = .symlink }
        let first = fixture.workspace.path("train/a/" + files(fixture.workspace.path("train/a"))[0])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: first).hasPrefix("../../raw/a/"))
        #expect(try ImageDecoder.decode(file: first).width > 0)
        _ = try split(fixture) { $0.mode = .copy }
        var info = stat()
        stat(fixture.workspace.path("train/a/" + files(fixture.workspace.path("train/a"))[0]), &info)
        #expect(info.st_nlink == 1)
        _ = try split(fixture)
        stat(fixture.workspace.path("train/a/" + files(fixture.workspace.path("train/a"))[0]), &info)
        #expect(info.st_nlink == 2)  // a hard link to the stored file
    }

    @Test func splittingNeedsCuration() throws {
        let fixture = try CurateFixture()
        try fixture.add(SampleImages.png(SampleImages.scene(width: 50, height: 50, seed: 1)), label: "a")
        #expect(throws: CatalogError.self) { try split(fixture) }
    }
}
