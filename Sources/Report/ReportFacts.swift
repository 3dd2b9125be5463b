import Catalog

/// What the page counts, gathered in one pass over the catalog (a stream: only the counts, the split's cluster
/// map and the few items the page pictures are kept).
struct ReportFacts {
    var total = 0, stored = 0, failed = 0, pending = 0
    /// label -> "stored", "pending" or the failure's reason code -> items.
    var fetchOutcomes: [String: [String: Int]] = [:]
    var failuresByReason: [String: Int] = [:]
    /// label -> "kept" or the exclusion's reason code -> items, over stored items.
    var curateOutcomes: [String: [String: Int]] = [:]
    /// split -> label -> items.
    var splits: [String: [String: Int]] = [:]
    /// Near-duplicate clusters with members in more than one split.
    var leakingClusters: [Int64] = []
    /// Identical pictures (same decoded pixels) in more than one split.
    var leakingPictures = 0
    /// The items the page shows pictures of, by id.
    var shownItems: [Int64: CatalogItem] = [:]

    init(catalog: Catalog, itemsFor shownIDs: Set<Int64>) throws(CatalogError) {
        var clusterSplits: [Int64: Set<Split>] = [:]
        var pictureSplits: [String: Set<Split>] = [:]
        try catalog.forEachItem { item in
            total += 1
            let label = item.label.name
            switch item.status {
            case .pending:
                pending += 1
                fetchOutcomes[label, default: [:]]["pending", default: 0] += 1
            case .failed:
                failed += 1
                let reason = item.reason?.code ?? "failed"
                fetchOutcomes[label, default: [:]][reason, default: 0] += 1
                failuresByReason[reason, default: 0] += 1
            case .ok, .excluded:
                stored += 1
                fetchOutcomes[label, default: [:]]["stored", default: 0] += 1
                let outcome = item.status == .ok ? "kept" : (item.reason?.code ?? "excluded")
                curateOutcomes[label, default: [:]][outcome, default: 0] += 1
            }
            if let split = item.split {
                splits[split.rawValue, default: [:]][label, default: 0] += 1
                if let cluster = item.cluster { clusterSplits[cluster, default: []].insert(split) }
                if let pixels = item.pixelSHA256 { pictureSplits[pixels, default: []].insert(split) }
            }
            if let id = item.id, shownIDs.contains(id) { shownItems[id] = item }
        }
        leakingClusters = clusterSplits.filter { $0.value.count > 1 }.map(\.key).sorted()
        leakingPictures = pictureSplits.values.filter { $0.count > 1 }.count
    }
}
