import Catalog
import Files
import StageContract

/// `--shard K/N`: this process takes the URLs whose hash falls in share K of N (1 ≤ K ≤ N). The hash is of the
/// normalised URL (or, with `--shard-by host`, of its host) and the same everywhere, so N machines or array
/// tasks split a manifest with no coordination, and which URLs a shard takes depends on the manifest, K and N
/// alone.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let share: Share
    public let key: ShardKey

    public init(index: Int, count: Int, by key: ShardKey = .url) throws(FetchError) {
        (share, self.key) = (try Share(index: index, count: count), key)
    }

    /// Parses "K/N".
    public init(parsing text: String, by key: ShardKey = .url) throws(FetchError) {
        (share, self.key) = (try Share(parsing: text), key)
    }

    public var index: Int { share.index }
    public var count: Int { share.count }

    /// Whether a normalised URL (or a malformed one, kept as written) is in this shard.
    public func contains(_ url: String) -> Bool {
        share.contains(key: key == .host && share.count > 1 ? URLNormalizer.hostKey(url) : url)
    }

    /// What the completion marker records.
    public var marker: ShardCompletion.Shard { .init(share: share, by: key.rawValue) }

    public var description: String { share.description }
}

/// What `--shard-by` hashes: every URL on its own, or every host's URLs together (so one process owns each
/// host's politeness: its transfers in flight, its rate and its Retry-After).
public enum ShardKey: String, Sendable, CaseIterable {
    case url, host
}
