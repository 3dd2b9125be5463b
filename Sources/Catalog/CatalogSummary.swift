import StageContract

/// Counts over the whole catalog, by status, label, reason and split.
public struct CatalogSummary: Sendable, Codable, Equatable {
    public struct LabelCounts: Sendable, Codable, Equatable {
        public var label: String
        public var total = 0
        public var byStatus: [String: Int] = [:]
    }

    public var schemaVersion: Int
    public var total = 0
    /// Bytes of the stored files (as recorded by the stages that stored them).
    public var storedBytes = 0
    public var byStatus: [String: Int] = [:]
    public var byReason: [String: Int] = [:]
    public var labels: [LabelCounts] = []
    /// split name -> label -> count, for items assigned to a split.
    public var splits: [String: [String: Int]] = [:]

    mutating func add(label: String, status: String, reason: String, split: String, count: Int, bytes: Int) {
        total += count
        storedBytes += bytes
        byStatus[status, default: 0] += count
        if !reason.isEmpty { byReason[reason, default: 0] += count }
        if !split.isEmpty { splits[split, default: [:]][label, default: 0] += count }
        if labels.last?.label != label { labels.append(LabelCounts(label: label)) }
        labels[labels.count - 1].total += count
        labels[labels.count - 1].byStatus[status, default: 0] += count
    }
}
