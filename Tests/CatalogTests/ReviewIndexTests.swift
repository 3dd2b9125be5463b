@testable import Catalog
import SampleImages
import StageContract
import Testing

/// The review grid's filters each have the index the schema made for them: every quality flag (a flag added later
/// needs its own migration, and this test names the missing one), and "decided by hand".
@Suite struct ReviewIndexTests {
    @Test func everyFlagFilterUsesItsPartialIndex() throws {
        let folder = TemporaryFolder()
        let catalog = try Catalog(path: folder.file("catalog.sqlite"))
        var filters: [(ItemFilter, String)] = QualityFlag.allCases.map { flag in
            var filter = ItemFilter()
            filter.flag = flag
            return (filter, "items_flagged_\(flag.rawValue)")
        }
        var decided = ItemFilter()
        decided.decided = true
        filters.append((decided, "items_decided"))
        for (filter, index) in filters {
            let plan = try catalog.withConnection { c throws(CatalogError) in
                let (condition, values) = filter.sql()
                let statement = try c.statement("EXPLAIN QUERY PLAN SELECT id FROM items WHERE \(condition) ORDER BY id LIMIT 60").bind(values)
                var details: [String] = []
                while try statement.step() { details.append(statement.text(3) ?? "") }
                return details.joined(separator: "; ")
            }
            #expect(plan.contains(index), "\(index): \(plan)")
        }
    }
}
