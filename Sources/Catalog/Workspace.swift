import Files

/// The workspace folder (`./data` by default) and where each stage keeps its files in it.
public struct Workspace: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    public var catalogPath: String { path("catalog.sqlite") }
    public var rawFolder: String { path("raw") }
    public var modelsFolder: String { path("models") }
    public var reportsFolder: String { path("reports") }

    /// `root/relative`; catalog rows store paths relative to the workspace so it can be moved.
    public func path(_ relative: String) -> String { root + "/" + relative }

    public var exists: Bool { FileIO.kind(of: root) == .directory }

    public var hasCatalog: Bool { FileIO.kind(of: catalogPath) == .file }

    /// Opens the catalog, creating the workspace folder and the catalog when missing.
    public func openCatalog() throws(CatalogError) -> Catalog {
        do { try FileIO.createDirectory(root) } catch {
            throw CatalogError(path: root, detail: "\(error.detail); choose another folder with --workspace")
        }
        return try Catalog(path: catalogPath)
    }
}
