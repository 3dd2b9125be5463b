import Catalog
@testable import Curate
import Foundation
import SampleImages
import StageContract
import Testing

/// A person's decisions in the review app stand: a curate re-run keeps an item kept by hand (beside its cluster's
/// keeper, which stays kept) and keeps out an item excluded by hand (which then keeps no other item out);
/// `curate --reset` keeps both unless told to forget them.
@Suite struct ManualDecisionTests {
    @Test func curateReRunsAndResetHonourManualDecisions() throws {
        let fixture = try CurateFixture()
        let picture = SampleImages.scene(width: 120, height: 90, seed: 3)
        let first = try fixture.add(SampleImages.bmp(picture), label: "cat")
        let second = try fixture.add(SampleImages.png(picture), label: "cat")  // the same pixels: an exact duplicate
        let other = try fixture.add(SampleImages.jpeg(SampleImages.scene(width: 100, height: 100, seed: 9)), label: "cat")
        _ = try fixture.curate()
        let duplicate = try fixture.item(second)
        #expect(try fixture.item(first).status == .ok && duplicate.status == .excluded && duplicate.reason == .curation(.duplicate))

        let catalog = try fixture.workspace.requireCatalog()
        let kept = try catalog.decide(.keep, on: .items([ItemRevision(id: duplicate.id!, revision: duplicate.revision)]), note: "the sharper one")
        #expect(kept.changed == 1)
        let otherItem = try fixture.item(other)
        _ = try catalog.decide(.exclude, on: .items([ItemRevision(id: otherItem.id!, revision: otherItem.revision)]), note: "a drawing")

        _ = try fixture.curate()
        let keptByHand = try fixture.item(second), formerKeeper = try fixture.item(first), excludedByHand = try fixture.item(other)
        #expect(keptByHand.status == .ok && keptByHand.manualStatus == .ok && keptByHand.message == "kept by hand in the review app: the sharper one")
        // Kept by hand beside the keeper, which stays kept: keeping one does not push another out.
        #expect(formerKeeper.status == .ok && keptByHand.duplicateOf == formerKeeper.id && keptByHand.cluster == formerKeeper.id)
        #expect(excludedByHand.status == .excluded && excludedByHand.reason == .curation(.manual) && excludedByHand.message == "a drawing")

        #expect(try CurateRun.reset(fixture.workspace) == 0)  // the only excluded item was excluded by hand
        #expect(try fixture.item(other).status == .excluded && fixture.item(second).manualStatus == .ok)
        #expect(try CurateRun.reset(fixture.workspace, manual: true) == 1)
        #expect(try fixture.items().allSatisfy { $0.status == .ok && $0.manualStatus == nil })
        // The journal keeps the history.
        #expect(try catalog.journal().map(\.action) == ["exclude", "keep"])
    }

    @Test func undoRefusesWhenCurateChangedTheItemSince() throws {
        let fixture = try CurateFixture()
        let source = try fixture.add(SampleImages.jpeg(SampleImages.scene(width: 80, height: 60, seed: 1)), label: "cat")
        _ = try fixture.curate()
        let catalog = try fixture.workspace.requireCatalog()
        let item = try fixture.item(source)
        _ = try catalog.decide(.label(try Label("dog")), on: .items([ItemRevision(id: item.id!, revision: item.revision)]), note: nil)
        _ = try fixture.curate()  // bumps every row's revision
        #expect(throws: ReviewRefusal.self) { try catalog.undoLastDecision() }
        #expect(try fixture.item(source).label.name == "dog")
    }
}
