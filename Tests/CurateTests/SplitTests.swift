@testable import Curate
import Files
import Foundation
import Imaging
import SampleImages
import StageContract
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

    func split(_ fixture: CurateFixture, _ configure: (inout SplitRequest) -> Void = { _ in }) throws -> SplitSummary {
        var request = SplitRequest()
        configure(&request)
        return try SplitRun(workspace: fixture.workspace, request: request).run()
    }

    /// The first file of label a in train.
    func trainFile(_ fixture: CurateFixture) -> String {
        let folder = fixture.workspace.path(Workspace.splitFolder(.train, label: "a"))
        return folder + "/" + files(folder)[0]
    }

    func files(_ folder: String) -> [String] {
        Array(DirectoryWalker(root: folder)).map { String($0.dropFirst(folder.count + 1)) }
    }

    @Test func stratifiedDeterministicAndLeakFree() throws {
        let fixture = try Self.fixture()
        let summary = try split(fixture) { $0.seed = 5 }
        for (label, total) in [("a", 63), ("b", 30), ("c", 12)] {
            let train = summary.counts[Split.train.rawValue]?[label] ?? 0, validation = summary.counts[Split.validation.rawValue]?[label] ?? 0
            #expect(train + validation == total)
            #expect(abs(Double(validation) - 0.2 * Double(total)) <= 3, "\(label): \(validation) of \(total) in validation")
        }
        #expect(summary.crossSplitPairs == 0)
        // The three near duplicates sit together.
        let sides = Set(try fixture.items().filter { $0.source.contains("cluster-") }.map(\.split))
        #expect(sides.count == 1)
        // Same seed: byte-identical list and folders; another seed: a different split.
        let csv = try FileIO.read(fixture.workspace.splitListPath)
        let trainFiles = files(fixture.workspace.folder(of: .train))
        _ = try split(fixture) { $0.seed = 5 }
        #expect(try FileIO.read(fixture.workspace.splitListPath) == csv)
        #expect(files(fixture.workspace.folder(of: .train)) == trainFiles)
        _ = try split(fixture) { $0.seed = 6 }
        #expect(try FileIO.read(fixture.workspace.splitListPath) != csv)
    }

    @Test func resplittingLeavesNoStaleFolders() throws {
        let fixture = try Self.fixture()
        _ = try split(fixture) { $0.ratios = [0.6, 0.2, 0.2] }
        #expect(FileIO.kind(of: fixture.workspace.folder(of: .test)) == .directory)
        _ = try split(fixture) { $0.ratios = [0.8, 0.2] }
        #expect(FileIO.kind(of: fixture.workspace.folder(of: .test)) == .missing)
        let listed = try String(decoding: FileIO.read(fixture.workspace.splitListPath), as: UTF8.self)
            .split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) }
        let onDisk = files(fixture.workspace.folder(of: .train)).map { Split.train.rawValue + "/" + $0 } + files(fixture.workspace.folder(of: .validation)).map { Split.validation.rawValue + "/" + $0 }
        #expect(Set(listed) == Set(onDisk))
        #expect(try fixture.items().allSatisfy { $0.split == .train || $0.split == .validation })
    }

    @Test func fixedCountsCapsFoldsAndOversampling() throws {
        let fixture = try Self.fixture()
        let fixed = try split(fixture) { $0.fixed = [5, 3] }
        #expect(fixed.counts[Split.validation.rawValue]?.values.allSatisfy { (5...7).contains($0) } == true)  // clusters are not cut
        #expect(fixed.counts[Split.test.rawValue]?["c"] == 3)
        let capped = try split(fixture) { $0.maxPerClass = 20 }
        #expect(capped.counts.values.allSatisfy { counts in counts.values.allSatisfy { $0 <= 20 } })
        #expect((capped.counts[Split.train.rawValue]?["a"] ?? 0) + (capped.counts[Split.validation.rawValue]?["a"] ?? 0) == 20)
        let oversampled = try split(fixture) { $0.oversample = true }
        let train = oversampled.counts[Split.train.rawValue]!
        #expect(Set(train.values).count == 1)  // every class as large as the largest in train
        #expect(files(fixture.workspace.path(Workspace.splitFolder(.train, label: "c"))).contains { $0.contains("-copy") })
        #expect(oversampled.counts[Split.validation.rawValue]?["c"] == 2 || oversampled.counts[Split.validation.rawValue]?["c"] == 3)
        let folds = try split(fixture) { $0.kfold = 3 }
        #expect(FileIO.kind(of: fixture.workspace.path(Workspace.splitFolder(.validation, label: "a", fold: 2))) == .directory)
        #expect(FileIO.kind(of: fixture.workspace.folder(of: .train)) == .missing)
        #expect(folds.crossSplitPairs == 0)
        // Each item validates in exactly one fold.
        let rows = try String(decoding: FileIO.read(fixture.workspace.splitListPath), as: UTF8.self).split(separator: "\n").dropFirst()
        let validating = rows.filter { $0.hasSuffix("," + Split.validation.rawValue) }.map { $0.split(separator: ",")[0].split(separator: "/").last! }
        #expect(validating.count == Set(validating).count && validating.count == 105)
    }

    @Test func linkModes() throws {
        let fixture = try Self.fixture()
        _ = try split(fixture) { $0.mode = .symlink }
        let first = trainFile(fixture)
        // A relative link from train/a/ back into the stored files.
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: first)
        #expect(target.hasPrefix("../../") && FileIO.kind(of: fixture.workspace.path(String(target.dropFirst(6)))) == .file)
        #expect(try fixture.items().contains { "../../" + ($0.path ?? "") == target })
        #expect(try ImageDecoder.decode(file: first).width > 0)
        _ = try split(fixture) { $0.mode = .copy }
        var info = stat()
        stat(trainFile(fixture), &info)
        #expect(info.st_nlink == 1)
        _ = try split(fixture)
        stat(trainFile(fixture), &info)
        #expect(info.st_nlink == 2)  // a hard link to the stored file
    }

    @Test func splittingNeedsCuration() throws {
        let fixture = try CurateFixture()
        try fixture.add(SampleImages.png(SampleImages.scene(width: 50, height: 50, seed: 1)), label: "a")
        #expect(throws: CatalogError.self) { try split(fixture) }
    }
}
