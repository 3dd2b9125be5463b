import StageContract

/// Which items the review grid shows: every field optional, all given ones must hold.
public struct ItemFilter: Sendable, Equatable, Codable {
    public var label: Label?
    public var status: ItemStatus?
    /// A reason code, or `ItemFilter.none` for items without one.
    public var reason: String?
    public var flag: QualityFlag?
    /// A split, or `ItemFilter.none` for items in none.
    public var split: String?
    /// A cluster's id (the id of its keeper).
    public var cluster: Int64?
    /// Items a person decided on in the review app (kept, excluded or labelled by hand).
    public var decided: Bool?

    /// The value of `reason` and `split` that asks for rows without one.
    public static let none = "none"

    public init() {}

    /// The SQL condition and its values. Flags are written as literals (from `QualityFlag`, never from the request)
    /// so that each matches its partial index, and so is "decided". Without `usingIndexes`, each column is written
    /// `+column`, which SQLite takes as "no index for this term": the query then walks the index of its order.
    func sql(usingIndexes: Bool = true) -> (condition: String, values: [SQLiteValue]) {
        let p = usingIndexes ? "" : "+"
        var terms: [String] = [], values: [SQLiteValue] = []
        if let label { terms.append("\(p)label = ?"); values.append(.text(label.name)) }
        if let status { terms.append("\(p)status = ?"); values.append(.text(status.rawValue)) }
        if let reason { if reason == Self.none { terms.append("\(p)reason IS NULL") } else { terms.append("\(p)reason = ?"); values.append(.text(reason)) } }
        if let flag { terms.append(usingIndexes ? CatalogBrowse.flagCondition(flag) : "instr(',' || +flags || ',', ',\(flag.rawValue),') > 0") }
        if let split { if split == Self.none { terms.append("\(p)split IS NULL") } else { terms.append("\(p)split = ?"); values.append(.text(split)) } }
        if let cluster { terms.append("cluster = ?"); values.append(.integer(cluster)) }
        if let decided { terms.append(decided ? (usingIndexes ? CatalogBrowse.decidedCondition : "(+manual_status IS NOT NULL OR +manual_label = 1)")
                                              : "(\(p)manual_status IS NULL AND \(p)manual_label = 0)") }
        return (terms.isEmpty ? "1" : terms.joined(separator: " AND "), values)
    }

    /// Whether a group of `ReviewGroups` is in.
    func admits(_ group: ReviewGroups.Group, ignoring facet: Facet? = nil) -> Bool {
        (facet == .label || label == nil || group.label == label!.name)
            && (facet == .status || status == nil || group.status == status!.rawValue)
            && (facet == .reason || reason == nil || group.reason == (reason == Self.none ? "" : reason!))
            && (facet == .flag || flag == nil || group.flags.contains(flag!.rawValue))
            && (facet == .split || split == nil || group.split == (split == Self.none ? "" : split!))
            && (facet == .decided || decided == nil || group.decided == decided!)
    }
}

/// The grid's orders. Sorting by a score shows the items that have one (the others have not been scored).
public enum ItemSort: String, Sendable, CaseIterable, Codable {
    case id
    case newest
    /// The given label's held-out probability, lowest first: the likeliest label mistakes.
    case labelScore = "label_score"
    case offTopicScore = "off_topic_score"
    case nsfwScore = "nsfw_score"
    /// File size, largest first; `smallest` the other way.
    case largest, smallest

    /// The bit of `presence` that says an item has this order's value (0: every item has one).
    var presenceBit: Int {
        switch self {
        case .id, .newest: 0
        case .labelScore: 1
        case .offTopicScore: 2
        case .nsfwScore: 4
        case .largest, .smallest: 8
        }
    }

    /// SQL for the bits of `presenceBit` an item has: the counts then give every order's total (counting the scored
    /// items of one label took 90 ms on a million rows).
    static let presence = "(label_score IS NOT NULL) | ((off_topic_score IS NOT NULL) << 1) | ((nsfw_score IS NOT NULL) << 2) | ((bytes IS NOT NULL) << 3)"

    var sql: (condition: String?, order: String) {
        switch self {
        case .id: (nil, "id")
        case .newest: (nil, "id DESC")
        case .labelScore: ("label_score IS NOT NULL", "label_score, id")
        case .offTopicScore: ("off_topic_score IS NOT NULL", "off_topic_score DESC, id DESC")
        case .nsfwScore: ("nsfw_score IS NOT NULL", "nsfw_score DESC, id DESC")
        case .largest: ("bytes IS NOT NULL", "bytes DESC, id DESC")
        case .smallest: ("bytes IS NOT NULL", "bytes, id")
        }
    }
}

/// The grid's filter fields, each counted per value.
public enum Facet: String, Sendable, CaseIterable, Codable {
    case label, status, reason, flag, split, decided
}

/// Counts per (status, label, reason, split, flags, decided): small (hundreds to thousands of rows on any catalog),
/// and from it every facet's counts and every filter's total follow without touching the items again. The review
/// app keeps one, moves it by each of its decisions' changes (`applying`), and reads it again when another process
/// changes the catalog.
public struct ReviewGroups: Sendable {
    public struct Group: Sendable, Hashable {
        let status: String
        let label: String
        let reason: String
        let split: String
        let flags: Set<String>
        let decided: Bool
        /// Which of the orders' values the items have (`ItemSort.presence`), one bit each.
        let scored: Int
    }

    var counts: [Group: Int]

    /// Items matching `filter` (its cluster, if any, was applied when the groups were read); with a score or size
    /// `sort`, those that have that value (the ones the grid shows).
    public func total(_ filter: ItemFilter, sort: ItemSort = .id) -> Int {
        let bit = sort.presenceBit
        return counts.reduce(0) { $0 + (filter.admits($1.key) && (bit == 0 || $1.key.scored & bit != 0) ? $1.value : 0) }
    }

    /// For each facet, the count of each value among the items matching the other fields of `filter` (so each
    /// count says how many the grid would show on choosing that value).
    public func facets(_ filter: ItemFilter) -> [Facet: [String: Int]] {
        var facets: [Facet: [String: Int]] = [:]
        for facet in Facet.allCases {
            var values: [String: Int] = [:]
            for (group, count) in counts where filter.admits(group, ignoring: facet) {
                switch facet {
                case .label: values[group.label, default: 0] += count
                case .status: values[group.status, default: 0] += count
                case .reason: values[group.reason.isEmpty ? ItemFilter.none : group.reason, default: 0] += count
                case .split: values[group.split.isEmpty ? ItemFilter.none : group.split, default: 0] += count
                case .decided: values[group.decided ? "yes" : "no", default: 0] += count
                case .flag: for flag in group.flags { values[flag, default: 0] += count }
                }
            }
            facets[facet] = values
        }
        return facets
    }

    /// Every label in the catalog, sorted.
    public var labels: [String] { Set(counts.keys.map(\.label)).sorted() }

    /// The counts after a change that turned the items counted in `removed` into those counted in `added`.
    public func applying(_ change: ReviewGroupChange) -> ReviewGroups {
        var counts = counts
        for (group, count) in change.removed.counts { counts[group, default: 0] -= count }
        for (group, count) in change.added.counts { counts[group, default: 0] += count }
        return ReviewGroups(counts: counts.filter { $0.value > 0 })
    }
}

/// The items a decision or an undo changed, counted as they were and as they are.
public struct ReviewGroupChange: Sendable {
    public let removed: ReviewGroups
    public let added: ReviewGroups
}

/// The review grid's queries.
public enum CatalogBrowse {
    /// The SQL condition "the item carries `flag`" (the one spelling, shared with its partial index).
    static func flagCondition(_ flag: QualityFlag) -> String {
        "instr(',' || flags || ',', ',\(flag.rawValue),') > 0"
    }

    /// The SQL condition "a person decided on the item" (likewise shared with its partial index).
    static let decidedCondition = "(manual_status IS NOT NULL OR manual_label = 1)"
}

extension Catalog {
    /// The counts behind the grid's facets, of every item or of one cluster's. One grouped pass over the items
    /// (measured on a synthetic catalog of a million rows in scripts/bench-review.sh).
    public func reviewGroups(cluster: Int64? = nil) throws(CatalogError) -> ReviewGroups {
        try withConnection { c throws(CatalogError) in
            try Self.groups(c, where: cluster == nil ? "1" : "cluster = ?", cluster.map { [.integer($0)] } ?? [])
        }
    }

    /// The counts of the items matching `condition`.
    static func groups(_ c: SQLiteConnection, where condition: String, _ values: [SQLiteValue]) throws(CatalogError) -> ReviewGroups {
        let statement = try c.statement("""
            SELECT status, label, coalesce(reason, ''), coalesce(split, ''), flags, manual_status IS NOT NULL OR manual_label = 1,
            \(ItemSort.presence), count(*)
            FROM items WHERE \(condition) GROUP BY 1, 2, 3, 4, 5, 6, 7
            """).bind(values)
        var counts: [ReviewGroups.Group: Int] = [:]
        var flagSets: [String: Set<String>] = [:]  // few distinct flag lists: split each once
        while try statement.step() {
            let flags = statement.text(4) ?? ""
            if flagSets[flags] == nil { flagSets[flags] = Set(flags.split(separator: ",").map(String.init)) }
            let group = ReviewGroups.Group(status: statement.text(0) ?? "", label: statement.text(1) ?? "", reason: statement.text(2) ?? "",
                                           split: statement.text(3) ?? "", flags: flagSets[flags]!, decided: statement.int(5) == 1,
                                           scored: Int(statement.int(6) ?? 0))
            counts[group, default: 0] += Int(statement.int(7) ?? 0)
        }
        return ReviewGroups(counts: counts)
    }

    /// One page of the grid: `limit` items matching `filter` in `sort` order, after the first `offset`.
    /// `matchingShare`: the share of the catalog the filter matches, when known. At 1% or more, a score or size order
    /// walks its own index and checks the filter on the way (about 60 / share rows for a page of 60), rather than
    /// reading every match through the filter's index and sorting them (measured on a million rows, one label sorted
    /// by off-topic score: 228 ms the second way). Below 1%, the matches are few: read and sort them.
    public func page(_ filter: ItemFilter, sort: ItemSort, offset: Int, limit: Int, matchingShare: Double? = nil) throws(CatalogError) -> [CatalogItem] {
        let walkOrder = ![.id, .newest].contains(sort) && filter.cluster == nil && (matchingShare ?? 0) >= 0.01
        let (condition, values) = filter.sql(usingIndexes: !walkOrder)
        let order = sort.sql
        var items: [CatalogItem] = []
        try withConnection { c throws(CatalogError) in
            let statement = try c.statement(Schema.selectItem + " WHERE \(condition)\(order.condition.map { " AND \($0)" } ?? "") ORDER BY \(order.order) LIMIT ? OFFSET ?")
                .bind(values + [.integer(Int64(limit)), .integer(Int64(offset))])
            while try statement.step() { items.append(try CatalogItem(row: statement, path: path)) }
        }
        return items
    }

    /// How many items match `filter` among those `sort` shows (a score sort leaves out the unscored), counted in SQL:
    /// the reference `ReviewGroups.total(_:sort:)` is checked against in the tests.
    public func count(_ filter: ItemFilter, sort: ItemSort) throws(CatalogError) -> Int {
        let (condition, values) = filter.sql()
        return try withConnection { c throws(CatalogError) in
            let statement = try c.statement("SELECT count(*) FROM items WHERE \(condition)\(sort.sql.condition.map { " AND \($0)" } ?? "")").bind(values)
            defer { statement.reset() }
            return try statement.step() ? Int(statement.int(0) ?? 0) : 0
        }
    }

    /// A cluster's members (the keeper, whose id the cluster bears, first), at most `limit`.
    public func clusterMembers(_ cluster: Int64, limit: Int = 200) throws(CatalogError) -> [CatalogItem] {
        var members: [CatalogItem] = []
        try forEachItem(where: "cluster = ? OR id = ?", [.integer(cluster), .integer(cluster)], limit: limit) { members.append($0) }
        return members.sorted { ($0.id == cluster ? 0 : 1, $0.id ?? 0) < ($1.id == cluster ? 0 : 1, $1.id ?? 0) }
    }

    /// A number that changes whenever another connection (another process) commits to the catalog: when it moves, what
    /// was read before may be stale.
    public var dataVersion: Int64 {
        (try? withConnection { c throws(CatalogError) in
            let statement = try c.statement("PRAGMA data_version")
            defer { statement.reset() }
            return try statement.step() ? statement.int(0) ?? 0 : 0
        }) ?? 0
    }
}
