import StageContract

/// Counts the report page needs, each one SQL query (the page is rewritten after every stage, and a catalog may
/// hold millions of rows: nothing here walks them in Swift).
extension Catalog {
    /// How many items have each label, status, reason and whether curate has measured them (it has when the
    /// item has a perceptual hash).
    public struct OutcomeCount: Sendable {
        public var label: String
        public var status: ItemStatus
        public var reason: String?
        public var curated: Bool
        public var count: Int
    }

    public func outcomeCounts() throws(CatalogError) -> [OutcomeCount] {
        try withConnection { c throws(CatalogError) in
            let rows = try c.statement("""
                SELECT label, status, reason, phash IS NOT NULL, count(*) FROM items GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                """)
            var counts: [OutcomeCount] = []
            while try rows.step() {
                counts.append(OutcomeCount(label: rows.text(0) ?? "", status: ItemStatus(rawValue: rows.text(1) ?? "") ?? .pending,
                                           reason: rows.text(2), curated: rows.int(3) == 1, count: Int(rows.int(4) ?? 0)))
            }
            return counts
        }
    }

    /// Leakage between splits: near-duplicate clusters, and identical pictures (the same decoded pixels), with
    /// members in more than one split.
    public func crossSplitGroups() throws(CatalogError) -> (clusters: Int, pictures: Int) {
        try withConnection { c throws(CatalogError) in
            func count(_ column: String) throws(CatalogError) -> Int {
                let statement = try c.statement("""
                    SELECT count(*) FROM (SELECT \(column) FROM items WHERE split IS NOT NULL AND \(column) IS NOT NULL
                    GROUP BY \(column) HAVING count(DISTINCT split) > 1)
                    """)
                defer { statement.reset() }
                return try statement.step() ? Int(statement.int(0) ?? 0) : 0
            }
            return (try count("cluster"), try count("pixel_sha256"))
        }
    }

    /// The items with these ids (in id order; ids not in the catalog are left out).
    public func items(ids: [Int64]) throws(CatalogError) -> [CatalogItem] {
        var found: [CatalogItem] = []
        let unique = Array(Set(ids)).sorted()
        for start in stride(from: 0, to: unique.count, by: 500) {  // SQLite's bound-parameter limit is far above 500
            let chunk = unique[start..<min(start + 500, unique.count)]
            try forEachItem(where: "id IN (" + chunk.map { _ in "?" }.joined(separator: ",") + ")", chunk.map { .integer($0) }) {
                found.append($0)
            }
        }
        return found
    }
}
