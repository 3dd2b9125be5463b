import Files
import Foundation

/// Share K of N (1 ≤ K ≤ N) of a set, for work split across processes with no coordination: an item is in it when
/// the stable hash of its key (a normalised URL, a host, a content-named file) falls there, the same on every
/// machine, so which items a share takes depends on the keys, K and N alone. `fetch --shard` and
/// `train --features-only --shard` both take one; a fetch's completion marker records it.
public struct Share: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The whole set.
    public static let all = try! Share(index: 1, count: 1)

    public init(index: Int, count: Int) throws(ErrorMessage) {
        guard count >= 1, (1...count).contains(index) else {
            throw ErrorMessage("--shard \(index)/\(count): K must be between 1 and N, as in 1/4 … 4/4")
        }
        (self.index, self.count) = (index, count)
    }

    /// Parses "K/N".
    public init(parsing text: String) throws(ErrorMessage) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw ErrorMessage("--shard \(text): expected K/N, as in 2/8")
        }
        try self.init(index: k, count: n)
    }

    /// Whether the item with this key is in the share.
    public func contains(key: String) -> Bool {
        count <= 1 || Int(stableHash(key) % UInt64(count)) == index - 1
    }

    public var description: String { "\(index)/\(count)" }
}
