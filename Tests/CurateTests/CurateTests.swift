import Catalog
@testable import Curate
import Files
import Foundation
import Imaging
import SampleImages
import StageContract
import Testing

@Suite struct CurateTests {
    static func scene(_ seed: UInt64) -> RGBImage { SampleImages.scene(width: 320, height: 240, seed: seed) }

    @Test func plantedDuplicatesConflictsPlaceholdersAndDamageAreFound() throws {
        let fixture = try CurateFixture()
        // 30 distinct pictures in two labels.
        var distinct: [String] = []
        for seed in 0..<30 {
            distinct.append(try fixture.add(SampleImages.png(Self.scene(UInt64(seed))), label: seed % 2 == 0 ? "cats" : "dogs"))
        }
        let base = Self.scene(100)
        let original = try fixture.add(SampleImages.png(base), label: "cats", source: "original")
        let sameBytes = try fixture.add(SampleImages.png(base), label: "cats", source: "same-bytes")
        let otherEncoding = try fixture.add(SampleImages.bmp(base), label: "cats", source: "bmp")
        // Same JPEG pixels, different metadata.
        let jpegBase = Self.scene(101)
        let plainJPEG = try fixture.add(SampleImages.jpeg(jpegBase, quality: 90), label: "cats", source: "plain-jpeg")
        let withEXIF = try fixture.add(SampleImages.jpeg(jpegBase, orientation: 1, quality: 90), label: "cats", source: "exif-jpeg")
        // Near duplicates of `base`: re-encoded, resized, trimmed by 1%.
        let reencoded = try fixture.add(SampleImages.jpeg(base, quality: 60), label: "cats", source: "q60")
        let smaller = try fixture.add(SampleImages.png(base.resized(width: 160, height: 120)), label: "cats", source: "half")
        let cropped = try fixture.add(SampleImages.png(base.cropped(x: 3, y: 2, width: 314, height: 236)), label: "cats", source: "crop")
        // The same picture under two labels.
        let conflictA = try fixture.add(SampleImages.png(Self.scene(102)), label: "cats", source: "conflict-a")
        let conflictB = try fixture.add(SampleImages.jpeg(Self.scene(102), quality: 80), label: "dogs", source: "conflict-b")
        // A host's "image removed" picture behind six URLs, under both labels.
        let removed = SampleImages.png(RGBImage(width: 161, height: 81, fill: RGB(230, 230, 230)))
        var placeholders: [String] = []
        for k in 0..<6 { placeholders.append(try fixture.add(removed, label: k % 2 == 0 ? "cats" : "dogs", source: "removed-\(k)", url: true)) }
        // Damage fetch's header check let through.
        let truncated = try fixture.add(SampleImages.truncated(SampleImages.jpeg(Self.scene(103)), keeping: 0.7), label: "dogs", source: "cut")

        let summary = try fixture.curate()
        func reason(_ source: String) throws -> Reason? { try fixture.item(source).reason }
        #expect(try reason(original) == nil)  // the largest file of its group: kept
        for source in [sameBytes, otherEncoding] { #expect(try reason(source) == .curation(.duplicate), "\(source)") }
        #expect(try [plainJPEG, withEXIF].compactMap(reason) == [.curation(.duplicate)])
        for source in [reencoded, smaller, cropped] { #expect(try reason(source) == .curation(.nearDuplicate), "\(source)") }
        #expect(try fixture.item(smaller).duplicateOf == fixture.item(original).id)
        #expect(try reason(conflictA) == .curation(.labelConflict) && reason(conflictB) == .curation(.labelConflict))
        for source in placeholders { #expect(try reason(source) == .curation(.placeholder)) }
        #expect(try reason(truncated) == .image(.truncated))
        for source in distinct { #expect(try reason(source) == nil, "distinct picture \(source) was merged") }
        #expect(summary.byReason[Reason.curation(.duplicate).code] == 3 && summary.byReason[Reason.curation(.nearDuplicate).code] == 3)
        // Everything a cluster holds shares its keeper's id, for the split.
        #expect(try fixture.item(cropped).cluster == fixture.item(original).id)

        // Idempotent, and undone by reset.
        let again = try fixture.curate()
        #expect(again.byReason == summary.byReason)
        #expect(again.analyzed == 1)  // only the damaged file is decoded again (failures are not cached)
        // Reports, until reset undoes what they describe.
        let reports = [fixture.workspace.report(CurateSummary.reportFiles.json),
                       fixture.workspace.path(Workspace.contactSheetsFolder.workspace + "/duplicates.jpg")]
        for report in reports { #expect(FileIO.kind(of: report) == .file, "\(report)") }
        #expect(try CurateRun.reset(fixture.workspace) == summary.excluded)
        #expect(try fixture.items().allSatisfy { $0.status == .ok })
        for report in reports { #expect(FileIO.kind(of: report) == .missing, "\(report) outlived the reset") }
    }

    @Test func qualityFlagsAreReportedAndExcludeOnlyWhenAsked() throws {
        let fixture = try CurateFixture()
        let sharp = Self.scene(7)
        let dark = RGBImage(width: 200, height: 150, fill: RGB(12, 10, 14))
        let blurred = Self.scene(9).resized(width: 40, height: 30).resized(width: 320, height: 240)
        let gray = SampleImages.picture(width: 200, height: 150, seed: 3)
        var grayPixels = gray
        for i in stride(from: 0, to: grayPixels.pixels.count, by: 3) {
            let v = grayPixels.pixels[i]
            grayPixels.pixels[i + 1] = v
            grayPixels.pixels[i + 2] = v
        }
        let strip = Self.scene(8).resized(width: 600, height: 100)
        let sources = [
            "sharp": try fixture.add(SampleImages.png(sharp), label: "x", source: "sharp"),
            "dark": try fixture.add(SampleImages.png(dark), label: "x", source: "dark"),
            "blurred": try fixture.add(SampleImages.png(blurred), label: "x", source: "blurred"),
            "gray": try fixture.add(SampleImages.png(grayPixels), label: "x", source: "gray"),
            "strip": try fixture.add(SampleImages.png(strip), label: "x", source: "strip"),
        ]
        _ = try fixture.curate()
        func flags(_ name: String) throws -> Set<QualityFlag> { Set(try fixture.item(sources[name]!).flags) }
        #expect(try !flags("sharp").contains(.blurry) && !flags("sharp").contains(.dark))
        #expect(try flags("dark").isSuperset(of: [.dark, .lowInformation]))
        #expect(try flags("blurred").contains(.blurry))
        #expect(try flags("gray").contains(.grayscale))
        #expect(try flags("strip").contains(.oddAspect))
        #expect(try fixture.items().allSatisfy { $0.status == .ok })
        _ = try fixture.curate { $0.exclude = [.blurry, .dark] }
        #expect(try fixture.item(sources["blurred"]!).reason == .flag(.blurry))
        #expect(try [.flag(.blurry), .flag(.dark)].contains(fixture.item(sources["dark"]!).reason))  // a flat dark picture is both
        #expect(try fixture.item(sources["sharp"]!).status == .ok)
    }
}

/// The real data in ../shared/data/animal_mnist (skipped when absent): 284 exact duplicates, all within a class.
@Suite(.enabled(if: SharedTestData.path("animal_mnist") != nil, "../shared/data/animal_mnist is absent"))
struct AnimalMNISTCurateTests {
    @Test func everyRealDuplicateIsFound() throws {
        let folder = TemporaryFolder("imgcls-animal")
        let workspace = Workspace(root: folder.file("data"))
        let imported = try ImportRun(workspace: workspace, request: ImportRequest(folder: SharedTestData.path("animal_mnist")!)).run()
        #expect(imported.added == 10_000)
        var request = CurateRequest()
        request.threads = 2
        let summary = try CurateRun(workspace: workspace, request: request).run()
        #expect(summary.byReason[Reason.curation(.duplicate).code] == 284)
        #expect(summary.byReason[Reason.curation(.labelConflict).code] == nil)
        // Each duplicate has exactly the bytes of the item kept in its place, in the same class.
        var items: [Int64: CatalogItem] = [:]
        try workspace.openCatalog().forEachItem { items[$0.id!] = $0 }
        for item in items.values where item.reason == .curation(.duplicate) {
            let keeperID = try #require(item.duplicateOf)
            let keeper = try #require(items[keeperID])
            #expect(keeper.sha256 == item.sha256 && keeper.label == item.label && keeper.status == .ok)
        }
        // Few distinct silhouettes are merged as near duplicates (documented; see the README).
        #expect((summary.byReason[Reason.curation(.nearDuplicate).code] ?? 0) < 100)
    }
}
