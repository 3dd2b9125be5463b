import StageContract

/// Where an item came from.
public enum SourceKind: String, Sendable, Codable {
    case url
    case file
}

/// Where an item stands. Details live in `reason` (a stable code) and `flags`.
public enum ItemStatus: String, Sendable, Codable, CaseIterable {
    /// Known but not yet fetched or checked.
    case pending
    /// Stored and usable.
    case ok
    /// Could not be fetched or decoded; `reason` says why.
    case failed
    /// Usable bytes, left out by a curation decision (duplicate, conflict, …); `reason` says which.
    case excluded
}

/// One row of the catalog: a URL or an imported file under one label, and everything later stages learn
/// about it. A source may appear under several labels (that is how label conflicts are found).
public struct CatalogItem: Sendable, Codable, Equatable {
    public var id: Int64?
    public var source: String
    public var sourceKind: SourceKind
    public var label: Label
    public var status: ItemStatus = .pending
    /// Why, when `status` is failed or excluded (stored as its code: `http_404`, `truncated`, `duplicate`, …).
    public var reason: Reason?
    public var message: String?
    // What the server said.
    public var httpStatus: Int?
    public var finalURL: String?
    public var contentType: String?
    // What was stored.
    public var bytes: Int?
    public var sha256: String?
    /// The file later stages use, relative to the workspace, e.g. `raw/cat/3f9a….jpg`.
    public var path: String?
    /// The bytes as received, when `path` is a copy resized while fetching (and originals are kept).
    public var originalPath: String?
    public var format: String?
    public var width: Int?
    public var height: Int?
    // What curation found.
    public var phash: UInt64?
    public var dhash: UInt64?
    /// SHA-256 of the decoded pixels (same pixels in another encoding or with other metadata match).
    public var pixelSHA256: String?
    /// A 256-bit perceptual hash (64x64 DCT), hex: the finer check on near-duplicate candidates.
    public var detailHash: String?
    /// Quality measures (see `Imaging.ImageStatistics`).
    public var brightness: Double?
    public var sharpness: Double?
    public var entropy: Double?
    public var colorfulness: Double?
    public var flags: [QualityFlag] = []
    /// Near-duplicate cluster (the id of its keeper); the split keeps a cluster on one side.
    public var cluster: Int64?
    /// For duplicates and near duplicates: the item kept in their place.
    public var duplicateOf: Int64?
    public var split: Split?
    /// The fold, for a k-fold split.
    public var fold: Int?
    /// With the `label_issue` flag: the label confident learning suggests, and the probability a held-out
    /// model gave the item's own label.
    public var suggestedLabel: String?
    public var labelScore: Double?
    /// `curate --nsfw`: open_nsfw's probability that the picture is not safe for work (a measurement, kept).
    public var nsfwScore: Double?
    /// `curate --off-topic`: how many robust deviations the picture lies below its nearest class (see Assist's OffTopic).
    public var offTopicScore: Double?
    // A person's decisions in the review app (`imgcls review`), which curate re-runs honour.
    /// Kept (`ok`) or `excluded` by hand; nil when no one decided.
    public var manualStatus: ItemStatus?
    /// The label was set (or confirmed) by hand: model-assisted curation no longer calls it a label issue.
    public var manualLabel = false
    /// Bumped by every change of the row: a decision made on an older revision is a conflict.
    public var revision: Int64 = 0
    // Bookkeeping.
    public var attempts: Int = 0
    public var elapsedMilliseconds: Double?
    public var updatedAt: Double = 0

    public init(source: String, sourceKind: SourceKind, label: Label) {
        self.source = source
        self.sourceKind = sourceKind
        self.label = label
    }
}
