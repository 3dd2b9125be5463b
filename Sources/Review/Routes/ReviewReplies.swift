import Catalog
import Foundation
import HTTPServing
import StageContract

/// An item as the page shows it (snake_case keys, as the page's script reads them).
struct ItemView: Encodable {
    let id: Int64
    let revision: Int64
    let source: String
    let finalURL: String?
    let label: String
    let status: String
    let reason: String?
    let message: String?
    let flags: [String]
    let suggestedLabel: String?
    let labelScore: Double?
    let offTopicScore: Double?
    let nsfwScore: Double?
    let format: String?
    let width: Int?
    let height: Int?
    let bytes: Int?
    let sha256: String?
    let phash: String?
    let detailHash: String?
    let cluster: Int64?
    let duplicateOf: Int64?
    let split: String?
    let manualStatus: String?
    let manualLabel: Bool
    /// Whether the stored file can be asked for (a thumbnail, the full picture); the page shows the reason otherwise.
    let hasPicture: Bool
    /// Part of the thumbnail's address: a new file gets a new address, so the browser may cache each for good.
    let pictureVersion: String?

    init(_ item: CatalogItem) {
        (id, revision, source, finalURL) = (item.id ?? 0, item.revision, item.source, item.finalURL)
        (label, status, reason, message) = (item.label.name, item.status.rawValue, item.reason?.code, item.message)
        flags = item.flags.map(\.rawValue)
        (suggestedLabel, labelScore, offTopicScore, nsfwScore) = (item.suggestedLabel, item.labelScore, item.offTopicScore, item.nsfwScore)
        (format, width, height, bytes, sha256) = (item.format, item.width, item.height, item.bytes, item.sha256)
        phash = item.phash.map { String(format: "%016llx", $0) }
        detailHash = item.detailHash
        (cluster, duplicateOf, split) = (item.cluster, item.duplicateOf, item.split?.rawValue)
        (manualStatus, manualLabel) = (item.manualStatus?.rawValue, item.manualLabel)
        let stored = Thumbnails.safe(item.path) != nil && Thumbnails.safeHash(item.sha256) != nil
        hasPicture = stored && item.status != .failed && item.status != .pending
        pictureVersion = hasPicture ? item.sha256.map { String($0.prefix(12)) } : nil
    }

    enum CodingKeys: String, CodingKey {
        case id, revision, source, label, status, reason, message, flags, format, width, height, bytes, sha256, phash, cluster, split
        case finalURL = "final_url", suggestedLabel = "suggested_label", labelScore = "label_score", offTopicScore = "off_topic_score"
        case nsfwScore = "nsfw_score", detailHash = "detail_hash", duplicateOf = "duplicate_of", manualStatus = "manual_status"
        case manualLabel = "manual_label", hasPicture = "has_picture", pictureVersion = "picture_version"
    }
}

/// One page of the grid, with the counts beside each filter.
struct GridReply: Encodable {
    let items: [ItemView]
    /// Items the grid shows (a score or size order leaves out the items without one).
    let total: Int
    /// Items the filter matches, whatever the order: what "select all" decides on.
    let matching: Int
    let page: Int
    let perPage: Int
    let sort: String
    /// facet -> value -> items the grid would show on choosing it.
    let facets: [String: [String: Int]]
    let labels: [String]
    /// Items in the whole catalog.
    let catalogItems: Int
    /// Items decided on since the last split (the split folders, hence training, do not show them yet).
    let decidedSinceSplit: Int
    let workspace: String

    enum CodingKeys: String, CodingKey {
        case items, total, matching, page, sort, facets, labels, workspace
        case perPage = "per_page", catalogItems = "catalog_items", decidedSinceSplit = "decided_since_split"
    }
}

/// A cluster member beside the item, with why it is kept or left out.
struct ClusterMember: Encodable {
    let item: ItemView
    let isKeeper: Bool
    let why: String

    enum CodingKeys: String, CodingKey { case item, why; case isKeeper = "is_keeper" }
}

/// An item's page: the item, its cluster, its history of decisions.
struct ItemReply: Encodable {
    let item: ItemView
    let cluster: [ClusterMember]
    let history: [JournalView]
    let labels: [String]
}

struct JournalView: Encodable {
    let batch: Int64
    let action: String
    let items: Int
    let firstItem: Int64
    let newLabel: String?
    let note: String?
    let at: Double
    let undone: Bool

    init(_ entry: JournalEntry) {
        (batch, action, items, firstItem, newLabel) = (entry.batch, entry.action, entry.items, entry.firstItem, entry.newLabel)
        (note, at, undone) = (entry.note, entry.at, entry.undone)
    }

    enum CodingKeys: String, CodingKey {
        case batch, action, items, note, at, undone
        case firstItem = "first_item", newLabel = "new_label"
    }
}

/// What a decision or an undo did, with the items as they are now (for a decision on items).
struct DecisionReply: Encodable {
    let batch: Int64?
    let action: String?
    let changed: Int
    let unchanged: Int
    let items: [ItemView]
    let message: String

    init(_ outcome: ReviewOutcome?, items: [ItemView], nothing: String = "nothing to undo") {
        (batch, action, changed, unchanged) = (outcome?.batch, outcome?.action, outcome?.changed ?? 0, outcome?.unchanged ?? 0)
        self.items = items
        guard let outcome else {
            message = nothing
            return
        }
        message = "\(outcome.action): \(outcome.changed) item\(outcome.changed == 1 ? "" : "s") changed"
            + (outcome.unchanged > 0 ? ", \(outcome.unchanged) already so or without a usable file" : "")
            + (outcome.batch != nil && !outcome.action.hasPrefix("undo") ? " (decision \(outcome.batch!); u undoes it)" : "")
    }
}

extension DuplicateCluster {
    /// Why the keeper of `members` was kept, in the words of the rule (kept by hand, then the largest picture, then
    /// the largest file, then the first seen).
    static func why(keeper: CatalogItem, among members: [CatalogItem]) -> String {
        if keeper.manualStatus == .ok { return "kept by hand" }
        let others = members.filter { $0.id != keeper.id }
        let pixels = { (item: CatalogItem) in (item.width ?? 0) * (item.height ?? 0) }
        if others.allSatisfy({ pixels($0) < pixels(keeper) }) { return "kept: the largest picture (\(keeper.width ?? 0)x\(keeper.height ?? 0))" }
        if others.allSatisfy({ pixels($0) < pixels(keeper) || ($0.bytes ?? 0) < (keeper.bytes ?? 0) }) { return "kept: the largest file of the largest pictures" }
        return "kept: the first seen of equal pictures"
    }
}
