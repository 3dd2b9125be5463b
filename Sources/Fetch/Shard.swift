import Files

/// `--shard K/N`: this machine takes the URLs whose hash falls in share K of N (1 ≤ K ≤ N). The hash is of the
/// normalised URL and the same everywhere, so N machines or array jobs split a manifest with no coordination.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws(FetchError) {
        guard count >= 1, (1...count).contains(index) else {
            throw FetchError("--shard \(index)/\(count): K must be between 1 and N, as in 1/4 … 4/4")
        }
        self.index = index
        self.count = count
    }

    /// Parses "K/N".
    public init(parsing text: String) throws(FetchError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw FetchError("--shard \(text): expected K/N, as in 2/8")
        }
        try self.init(index: k, count: n)
    }

    public func contains(_ url: String) -> Bool {
        count == 1 || Int(stableHash(url) % UInt64(count)) == index - 1
    }

    public var description: String { "\(index)/\(count)" }
}
