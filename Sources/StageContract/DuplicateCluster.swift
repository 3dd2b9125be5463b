/// The one rule for a cluster of the same picture (exact, near or semantic duplicates), shared by curate and
/// model-assisted curation: when its members carry more than one label it is a label conflict, and every member is
/// excluded; otherwise one member is kept and the others are its duplicates. The keeper is an item still kept over
/// one already excluded, then the largest picture, then the largest file (the least compressed), then the first
/// seen; among identical pixels (`samePixels`), simply the first seen.
public struct DuplicateCluster: Sendable, Equatable {
    public struct Member: Sendable {
        public let id: Int64
        public let label: String
        public let isKept: Bool
        public let pixels: Int
        public let bytes: Int

        public init(id: Int64, label: String, isKept: Bool = true, pixels: Int, bytes: Int) {
            (self.id, self.label, self.isKept, self.pixels, self.bytes) = (id, label, isKept, pixels, bytes)
        }
    }

    /// The keeper's position among the members.
    public let keeper: Int
    /// The members' labels, sorted, when there is more than one (a label conflict); nil otherwise.
    public let conflictingLabels: [String]?

    public init(_ members: [Member], samePixels: Bool = false) {
        precondition(!members.isEmpty, "a cluster has members")
        let rank = { (m: Member) in samePixels ? (m.isKept ? 1 : 0, 0, 0, -m.id) : (m.isKept ? 1 : 0, m.pixels, m.bytes, -m.id) }
        keeper = members.indices.max { rank(members[$0]) < rank(members[$1]) }!
        let labels = Set(members.map(\.label))
        conflictingLabels = labels.count > 1 ? labels.sorted() : nil
    }
}
