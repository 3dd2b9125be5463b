import Files
import Foundation
import StageContract

/// The completion marker of a fetch: written last, only when the run read every manifest and tried every URL
/// (`reports/shard.json`). A scheduler's retry logic and `imgcls catalog merge` rely on it: a workspace without
/// one is a shard that did not finish; markers with the same `manifestIdentity` and N whose K cover 1…N once
/// are a whole fetch.
public struct ShardCompletion: Sendable, Codable, Equatable {
    public struct Shard: Sendable, Codable, Equatable, CustomStringConvertible {
        public var share: Share
        /// What was hashed: "url" or "host".
        public var by: String

        public init(share: Share, by: String) {
            (self.share, self.by) = (share, by)
        }

        /// For K and N known to be right (1 ≤ K ≤ N); a marker read from a file is checked as it is decoded.
        public init(index: Int, count: Int, by: String) {
            guard let share = try? Share(index: index, count: count) else { preconditionFailure("shard \(index)/\(count) is not 1 ≤ K ≤ N") }
            (self.share, self.by) = (share, by)
        }

        public var index: Int { share.index }
        public var count: Int { share.count }
        public var description: String { "\(share)" + (by == "url" ? "" : " by \(by)") }

        // The marker's JSON keeps index, count and by side by side.
        private enum CodingKeys: String, CodingKey { case index, count, by }

        public init(from decoder: any Decoder) throws {
            let values = try decoder.container(keyedBy: CodingKeys.self)
            share = try Share(index: try values.decode(Int.self, forKey: .index), count: try values.decode(Int.self, forKey: .count))
            by = try values.decode(String.self, forKey: .by)
        }

        public func encode(to encoder: any Encoder) throws {
            var values = encoder.container(keyedBy: CodingKeys.self)
            try values.encode(share.index, forKey: .index)
            try values.encode(share.count, forKey: .count)
            try values.encode(by, forKey: .by)
        }
    }

    /// One manifest file: its path as given (for people) and its content's hash (for the identity).
    public struct ManifestFile: Sendable, Codable, Equatable {
        public var path: String
        public var category: String?
        public var sha256: String

        public init(path: String, category: String?, sha256: String) {
            self.path = path
            self.category = category
            self.sha256 = sha256
        }
    }

    public var shard: Shard
    /// The SHA-256 of the manifests' contents (with their categories, in order) and of the options that decide
    /// their rows (label, label map, format, columns): shards of one fetch share it, whatever folder each ran in.
    public var manifestIdentity: String
    public var manifests: [ManifestFile]
    /// The whole shard catalog's rows, by status and by reason (not only this run's).
    public var items = 0
    public var byStatus: [String: Int] = [:]
    public var byReason: [String: Int] = [:]
    public var completedAt: String
    public var imgclsVersion: String

    public init(shard: Shard, manifestIdentity: String, manifests: [ManifestFile], completedAt: Date = Date()) {
        self.shard = shard
        self.manifestIdentity = manifestIdentity
        self.manifests = manifests
        self.completedAt = ISO8601DateFormatter().string(from: completedAt)
        self.imgclsVersion = Files.imgclsVersion
    }

    /// Fills the counts from the catalog.
    public mutating func count(_ catalog: Catalog) throws(CatalogError) {
        let summary = try catalog.summary()
        items = summary.total
        byStatus = summary.byStatus
        byReason = summary.byReason
    }
}

extension Workspace {
    public var shardCompletionPath: String { report(ReportFile.shard) }

    /// The completion marker, or nil when the last fetch here did not complete (or none ran).
    public func shardCompletion() throws(CatalogError) -> ShardCompletion? {
        guard FileIO.kind(of: shardCompletionPath) == .file else { return nil }
        do {
            return try JSONDecoder().decode(ShardCompletion.self, from: Data(FileIO.read(shardCompletionPath)))
        } catch {
            throw CatalogError(path: shardCompletionPath, detail: "unreadable completion marker (\(error)); run the fetch again to rewrite it")
        }
    }

    public func writeShardCompletion(_ marker: ShardCompletion) throws(CatalogError) {
        do {
            try FileIO.createDirectory(reportsFolder)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try FileIO.writeAtomically(Array(try encoder.encode(marker)) + [10], to: shardCompletionPath)
        } catch {
            throw CatalogError(path: shardCompletionPath, detail: "cannot write the completion marker: \(error)")
        }
    }

    /// Before a fetch changes anything: until it completes, this workspace is an unfinished shard.
    public func removeShardCompletion() throws(CatalogError) {
        guard FileIO.kind(of: shardCompletionPath) == .file else { return }
        guard unlink(shardCompletionPath) == 0 else {
            throw CatalogError(path: shardCompletionPath, detail: "cannot remove the old completion marker: \(String(cString: strerror(errno)))")
        }
    }
}
