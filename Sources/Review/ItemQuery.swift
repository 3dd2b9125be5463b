import Catalog
import HTTPBodies
import HTTPServing
import StageContract

/// The grid's question, from the page's query parameters (or a decision's `filter`): each value checked against
/// the catalog's own types, so a bad one is a 400 that names the field, and nothing unchecked reaches SQL.
struct ItemQuery {
    var filter = ItemFilter()
    var sort = ItemSort.id
    var page = 1
    var perPage = 60

    static let maxPerPage = 200
    static let pagingFields: Set<String> = ["sort", "page", "per_page"]

    init(_ fields: [String: String], paging: Bool) throws(Replies.Failure) {
        for (field, value) in fields {
            func bad(_ expected: String) -> Replies.Failure {
                Replies.Failure(status: .badRequest, message: "\(field)=\(value.prefix(80)): \(expected)")
            }
            switch field {
            case "label":
                do throws(LabelError) { filter.label = try Label(value) } catch { throw bad(error.description) }
            case "status":
                guard let status = ItemStatus(rawValue: value) else { throw bad("the statuses are \(ItemStatus.allCases.map(\.rawValue).joined(separator: ", "))") }
                filter.status = status
            case "reason":
                guard value == ItemFilter.none || Reason(code: value) != nil else { throw bad("not a reason code (see the README's tables), or \(ItemFilter.none)") }
                filter.reason = value
            case "flag":
                guard let flag = QualityFlag(rawValue: value) else { throw bad("the flags are \(QualityFlag.allCases.map(\.rawValue).joined(separator: ", "))") }
                filter.flag = flag
            case "split":
                guard value == ItemFilter.none || Split(rawValue: value) != nil else { throw bad("the splits are \(Split.allCases.map(\.rawValue).joined(separator: ", ")), or \(ItemFilter.none)") }
                filter.split = value
            case "cluster":
                guard let cluster = Int64(value), cluster > 0 else { throw bad("a cluster is the positive id of its keeper") }
                filter.cluster = cluster
            case "decided":
                guard value == "yes" || value == "no" else { throw bad("yes or no") }
                filter.decided = value == "yes"
            case "sort" where paging:
                guard let sort = ItemSort(rawValue: value) else { throw bad("the orders are \(ItemSort.allCases.map(\.rawValue).joined(separator: ", "))") }
                self.sort = sort
            case "page" where paging:
                guard let page = Int(value), page >= 1, page <= 1_000_000_000 else { throw bad("a page number from 1") }
                self.page = page
            case "per_page" where paging:
                guard let perPage = Int(value), (1...Self.maxPerPage).contains(perPage) else { throw bad("from 1 to \(Self.maxPerPage)") }
                self.perPage = perPage
            default:
                let known = ReviewDecisionBody.filterFields.union(paging ? Self.pagingFields : [])
                throw Replies.Failure(status: .badRequest, message: "unknown field \(field.prefix(40)); the fields are \(known.sorted().joined(separator: ", "))")
            }
        }
    }

    var offset: Int { (page - 1) * perPage }
}
