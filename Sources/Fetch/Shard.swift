import Catalog
import Files

/// `--shard K/N`: this process takes the URLs whose hash falls in share K of N (1 ≤ K ≤ N). The hash is of the
/// normalised URL (or, with `--shard-by host`, of its host) and the same everywhere, so N machines or array
/// tasks split a manifest with no coordination, and which URLs a shard takes depends on the manifest, K and N
/// alone.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int
    public let key: ShardKey

    public init(index: Int, count: Int, by key: ShardKey = .url) throws(FetchError) {
        guard count >= 1, (1...count).contains(index) else {
            throw FetchError("--shard \(index)/\(count): K must be between 1 and N, as in 1/4 … 4/4")
        }
        self.index = index
        self.count = count
        self.key = key
    }

    /// Parses "K/N".
    public init(parsing text: String, by key: ShardKey = .url) throws(FetchError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw FetchError("--shard \(text): expected K/N, as in 2/8")
        }
        try self.init(index: k, count: n, by: key)
    }

    /// Whether a normalised URL (or a malformed one, kept as written) is in this shard.
    public func contains(_ url: String) -> Bool {
        guard count > 1 else { return true }
        return Int(stableHash(key == .host ? URLNormalizer.hostKey(url) : url) % UInt64(count)) == index - 1
    }

    /// What the completion marker records.
    public var marker: ShardCompletion.Shard { .init(index: index, count: count, by: key.rawValue) }

    public var description: String { "\(index)/\(count)" }
}

/// What `--shard-by` hashes: every URL on its own, or every host's URLs together (so one process owns each
/// host's politeness: its transfers in flight, its rate and its Retry-After).
public enum ShardKey: String, Sendable, CaseIterable {
    case url, host
}
