import Catalog
import Files
import Foundation
import StageContract

/// The catalog as the review app uses it: every call on one thread of its own (SQLite blocks; the server's handlers
/// never wait on it inside the concurrency pool), and the counts behind the grid's filters (`ReviewGroups`) kept in
/// memory, rebuilt when this app decides something or another process (curate, split) commits.
final class ReviewStore: @unchecked Sendable {
    let catalog: Catalog
    let workspace: Workspace
    private let thread = BlockingWorkers(name: "imgcls review catalog", threads: 1)
    // Touched only on `thread`.
    private var cachedGroups: ReviewGroups?
    private var cachedVersion: Int64 = -1

    init(catalog: Catalog, workspace: Workspace) {
        (self.catalog, self.workspace) = (catalog, workspace)
    }

    /// Runs `body` on the catalog's thread.
    func run<T: Sendable>(_ body: @escaping @Sendable (ReviewStore) -> T) async -> T {
        await thread.run { body(self) }
    }

    // What follows runs on the catalog's thread.

    /// The counts of every item, fresh.
    func groups() throws(CatalogError) -> ReviewGroups {
        let version = catalog.dataVersion
        if let cachedGroups, version == cachedVersion { return cachedGroups }
        let groups = try catalog.reviewGroups()
        (cachedGroups, cachedVersion) = (groups, version)
        return groups
    }

    /// Counts of the items the filter may match: of its cluster only when it names one (an indexed read), else of all.
    func groups(for filter: ItemFilter) throws(CatalogError) -> ReviewGroups {
        if let cluster = filter.cluster { return try catalog.reviewGroups(cluster: cluster) }
        return try groups()
    }

    /// A decision, and the counts moved by what it changed (reading them all again took 2.5 s on a million rows).
    func decide(_ action: ReviewAction, on target: ReviewTarget, note: String?) throws(ReviewRefusal) -> ReviewOutcome {
        let outcome = try catalog.decide(action, on: target, note: note)
        cachedGroups = cachedGroups?.applying(outcome.groups)
        return outcome
    }

    func undo() throws(ReviewRefusal) -> ReviewOutcome? {
        let outcome = try catalog.undoLastDecision()
        if let outcome { cachedGroups = cachedGroups?.applying(outcome.groups) }
        return outcome
    }

    /// Items decided on since the split folders were last written (they do not show there until `imgcls split` runs).
    func itemsDecidedSinceSplit() -> Int {
        let split = workspace.report(Workspace.ReportFile.split)
        guard let modified = try? FileManager.default.attributesOfItem(atPath: split)[.modificationDate] as? Date else { return 0 }
        return (try? catalog.itemsDecided(since: modified.timeIntervalSince1970)) ?? 0
    }
}
