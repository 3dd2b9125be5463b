import Catalog
import StageContract

/// What the page counts, from the catalog's grouped counts (SQL, not a walk over the rows: the page is rewritten
/// after every stage of a catalog that may hold millions of rows), and the few items it pictures.
struct ReportFacts {
    var total = 0, stored = 0, failed = 0, pending = 0
    /// label -> "stored", "pending" or the failure's reason code -> items.
    var fetchOutcomes: [String: [String: Int]] = [:]
    var failuresByReason: [String: Int] = [:]
    /// label -> "kept", "not curated yet" or the exclusion's reason code -> items, over stored items.
    var curateOutcomes: [String: [String: Int]] = [:]
    /// Near-duplicate clusters, and identical pictures, with members in more than one split.
    var leakingClusters = 0, leakingPictures = 0
    /// The items the page shows pictures of, by id.
    var shownItems: [Int64: CatalogItem] = [:]

    static let notCurated = "not curated yet"

    init(catalog: Catalog, itemsFor shownIDs: [Int64]) throws(CatalogError) {
        for row in try catalog.outcomeCounts() {
            total += row.count
            switch row.status {
            case .pending:
                pending += row.count
                fetchOutcomes[row.label, default: [:]]["pending", default: 0] += row.count
            case .failed:
                failed += row.count
                let reason = row.reason ?? "failed"
                fetchOutcomes[row.label, default: [:]][reason, default: 0] += row.count
                failuresByReason[reason, default: 0] += row.count
            case .ok, .excluded:
                stored += row.count
                fetchOutcomes[row.label, default: [:]]["stored", default: 0] += row.count
                // Fetch and import store items as ok; only curate's measurements make "ok" mean kept.
                let outcome = row.status == .excluded ? (row.reason ?? "excluded") : row.curated ? "kept" : Self.notCurated
                curateOutcomes[row.label, default: [:]][outcome, default: 0] += row.count
            }
        }
        (leakingClusters, leakingPictures) = try catalog.crossSplitGroups()
        for item in try catalog.items(ids: shownIDs) { if let id = item.id { shownItems[id] = item } }
    }
}
