// Catalog: the workspace's SQLite catalog, the store only (the workspace layout, labels and reasons it records are
// StageContract's). Entry: `Catalog` (open, query, write in transactions). Files in reading order:
//   CatalogItem.swift      one row: source, status, reason, hashes, flags, split; ItemColumns.swift its columns, each
//                          named once, and the row read and written by those names
//   Catalog.swift          the store (this file), `Workspace.openCatalog`; Schema.swift its migrations; SQLite.swift
//                          the C calls
//   CatalogSummary.swift   counts by status, label, reason and split; CatalogCounts.swift the report page's
//   CatalogMerge.swift     shard catalogs into one; ShardCompletion.swift the marker a complete shard leaves
//   Review/                the review app's queries: CatalogBrowse.swift (filters, sorts, pages, counts) and
//                          ReviewJournal.swift (a person's decisions, journaled with the change, and undo)

import Files
import Foundation
import StageContract

/// The workspace's SQLite catalog: one row per URL or imported file (see `CatalogItem`). WAL mode, so readers
/// such as `imgcls status` never block a running stage; every write happens inside a transaction, so a
/// killed run leaves the catalog as it was at its last commit.
///
/// SQLite calls block: call a catalog from a dedicated thread, never from inside a Swift concurrency task.
public final class Catalog: @unchecked Sendable {
    public let path: String
    private let connection: SQLiteConnection
    private let lock = NSLock()

    /// Opens (creating when `create`) the catalog at `path` and brings its schema up to date.
    public init(path: String, create: Bool = true) throws(CatalogError) {
        self.path = path
        if !create, FileIO.kind(of: path) != .file {
            throw CatalogError(path: path, detail: "no catalog here yet; run `imgcls fetch` or `imgcls import` first")
        }
        connection = try SQLiteConnection(path: path, readOnly: false)
        try connection.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        // Bulk writes (a manifest of millions): a 64 MB page cache (the default is 2 MB) keeps most of the
        // (source, label) index of a million URLs in memory, and checkpoints every 64 MB of log rather than
        // 4 MB write each hot page less often. (128 MB was no faster and took 80 MB more.)
        try connection.execute("PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 16384;")
        try migrate()
    }

    /// The schema version this catalog is at (the number of migrations applied).
    public var schemaVersion: Int {
        (try? withConnection { c throws(CatalogError) in
            let statement = try c.statement("PRAGMA user_version")
            defer { statement.reset() }
            return try statement.step() ? Int(statement.int(0) ?? 0) : 0
        }) ?? 0
    }

    private func migrate() throws(CatalogError) {
        let version = schemaVersion
        guard version <= Schema.currentVersion else {
            throw CatalogError(path: path, detail: "the catalog has schema \(version), newer than this imgcls knows (\(Schema.currentVersion)); upgrade imgcls")
        }
        guard version < Schema.currentVersion else { return }
        try write { transaction throws(CatalogError) in
            for step in Schema.migrations[version...] { try transaction.connection.execute(step) }
            try transaction.connection.execute("PRAGMA user_version = \(Schema.currentVersion)")
        }
    }

    func withConnection<T>(_ body: (SQLiteConnection) throws(CatalogError) -> T) throws(CatalogError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(connection)
    }

    /// Runs `body` in one write transaction: all of it is committed, or none of it when it throws.
    public func write<T>(_ body: (CatalogTransaction) throws(CatalogError) -> T) throws(CatalogError) -> T {
        try withConnection { c throws(CatalogError) in
            try c.execute("BEGIN IMMEDIATE")
            do throws(CatalogError) {
                let result = try body(CatalogTransaction(connection: c))
                try c.execute("COMMIT")
                return result
            } catch {
                try? c.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Inserts or updates one item in its own transaction; returns its id.
    @discardableResult
    public func upsert(_ item: CatalogItem) throws(CatalogError) -> Int64 {
        try write { t throws(CatalogError) in try t.upsert(item) }
    }

    public func item(source: String, label: Label) throws(CatalogError) -> CatalogItem? {
        try withConnection { c throws(CatalogError) in try CatalogTransaction(connection: c).item(source: source, label: label) }
    }

    /// Streams items in id order, optionally filtered by status and label; `body` runs with the catalog locked,
    /// so it must not call back into the catalog.
    public func forEachItem(status: ItemStatus? = nil, label: Label? = nil,
                            _ body: (CatalogItem) throws(CatalogError) -> Void) throws(CatalogError) {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let status {
            conditions.append("status = ?")
            values.append(.text(status.rawValue))
        }
        if let label {
            conditions.append("label = ?")
            values.append(.text(label.name))
        }
        try forEachItem(where: conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), values, body)
    }

    func forEachItem(where condition: String, _ values: [SQLiteValue], limit: Int? = nil,
                             _ body: (CatalogItem) throws(CatalogError) -> Void) throws(CatalogError) {
        try withConnection { c throws(CatalogError) in
            let sql = Schema.selectItem + " WHERE \(condition) ORDER BY id"
                + (limit.map { " LIMIT \($0)" } ?? "")
            let statement = try c.statement(sql).bind(values)
            while try statement.step() {
                try body(CatalogItem(row: statement, path: path))
            }
        }
    }

    /// Up to `limit` items with `status`, in id order after `afterID`: a stage walks a large catalog in
    /// chunks this way without holding it in memory.
    public func items(status: ItemStatus, afterID: Int64, limit: Int) throws(CatalogError) -> [CatalogItem] {
        var found: [CatalogItem] = []
        try forEachItem(where: "status = ? AND id > ?", [.text(status.rawValue), .integer(afterID)], limit: limit) {
            found.append($0)
        }
        return found
    }

    /// What a stage needs to work through pending rows: id, source, label and attempts so far, up to `limit`
    /// rows in id order after `afterID` (lighter than whole items, for queues of millions).
    public func pending(afterID: Int64, limit: Int) throws(CatalogError) -> [(id: Int64, source: String, label: Label, attempts: Int)] {
        try withConnection { c throws(CatalogError) in
            let statement = try c.statement("SELECT id, source, label, attempts FROM items WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ?")
                .bind([.integer(afterID), .integer(Int64(limit))])
            var rows: [(id: Int64, source: String, label: Label, attempts: Int)] = []
            rows.reserveCapacity(limit)
            var labels: [String: Label] = [:]  // a chunk holds few labels: check each once
            while try statement.step() {
                let name = statement.text(2) ?? ""
                let label: Label
                if let known = labels[name] {
                    label = known
                } else {
                    do { label = try Label(name) } catch { throw CatalogError(path: path, detail: "row \(statement.int(0) ?? 0): \(error)") }
                    labels[name] = label
                }
                rows.append((statement.int(0) ?? 0, statement.text(1) ?? "", label, Int(statement.int(3) ?? 0)))
            }
            return rows
        }
    }

    /// How many items have `status`.
    public func count(status: ItemStatus) throws(CatalogError) -> Int {
        try withConnection { c throws(CatalogError) in
            let statement = try c.statement("SELECT count(*) FROM items WHERE status = ?").bind([.text(status.rawValue)])
            defer { statement.reset() }
            return try statement.step() ? Int(statement.int(0) ?? 0) : 0
        }
    }

    /// Counts for `imgcls status` and stage summaries.
    public func summary() throws(CatalogError) -> CatalogSummary {
        var summary = CatalogSummary(schemaVersion: schemaVersion)
        try withConnection { c throws(CatalogError) in
            let rows = try c.statement("""
                SELECT label, status, coalesce(reason, ''), coalesce(split, ''), count(*), coalesce(sum(bytes), 0)
                FROM items GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                """)
            while try rows.step() {
                summary.add(label: rows.text(0) ?? "", status: rows.text(1) ?? "", reason: rows.text(2) ?? "",
                            split: rows.text(3) ?? "", count: Int(rows.int(4) ?? 0), bytes: Int(rows.int(5) ?? 0))
            }
        }
        return summary
    }
}

/// The write operations, available inside `Catalog.write`.
public struct CatalogTransaction {
    let connection: SQLiteConnection

    /// Inserts the item, or updates the row with the same source and label; returns the row id.
    @discardableResult
    public func upsert(_ item: CatalogItem) throws(CatalogError) -> Int64 {
        let statement = try connection.statement(Schema.upsertItem).bind(item.values)
        guard try statement.step(), let id = statement.int(0) else {
            throw connection.failure("cannot store \(item.source)")
        }
        while try statement.step() {}
        return id
    }

    public func item(source: String, label: Label) throws(CatalogError) -> CatalogItem? {
        let statement = try connection.statement(Schema.selectItem + " WHERE source = ? AND label = ?")
            .bind([.text(source), .text(label.name)])
        defer { statement.reset() }
        return try statement.step() ? try CatalogItem(row: statement, path: connection.path) : nil
    }

    /// Inserts the item unless a row with its source and label exists; true when it was inserted.
    @discardableResult
    public func insertIfAbsent(_ item: CatalogItem) throws(CatalogError) -> Bool {
        try connection.statement(Schema.insertItemIfAbsent).run(item.values)
        return connection.changes > 0
    }

    /// Records what curate measured about an item's file.
    public func updateAnalysis(id: Int64, format: String, width: Int, height: Int, phash: UInt64, dhash: UInt64,
                               pixelSHA256: String, detailHash: String, brightness: Double, sharpness: Double,
                               entropy: Double, colorfulness: Double) throws(CatalogError) {
        try connection.statement("""
            UPDATE items SET format = ?, width = ?, height = ?, phash = ?, dhash = ?, pixel_sha256 = ?, detail_hash = ?,
            brightness = ?, sharpness = ?, entropy = ?, colorfulness = ? WHERE id = ?
            """).run([.text(format), .integer(Int64(width)), .integer(Int64(height)), .integer(Int64(bitPattern: phash)),
                      .integer(Int64(bitPattern: dhash)), .text(pixelSHA256), .text(detailHash), .real(brightness),
                      .real(sharpness), .real(entropy), .real(colorfulness), .integer(id)])
    }

    /// Records curate's decision about an item: kept (`ok`) or `excluded` with a reason, its quality flags, its
    /// near-duplicate cluster and the item kept in its place. With `revision`, only if the row is still at that
    /// revision (a person may have decided on it in the review app while curate ran): false when it was not written.
    @discardableResult
    public func updateCuration(id: Int64, status: ItemStatus, reason: Reason?, message: String?, flags: [QualityFlag],
                               cluster: Int64?, duplicateOf: Int64?, revision: Int64? = nil) throws(CatalogError) -> Bool {
        try connection.statement("""
            UPDATE items SET status = ?, reason = ?, message = ?, flags = ?, cluster = ?, duplicate_of = ?, updated_at = ?,
            suggested_label = NULL, label_score = NULL, off_topic_score = NULL, revision = revision + 1 WHERE id = ?
            """ + (revision == nil ? "" : " AND revision = ?"))
            .run([.text(status.rawValue), SQLiteValue(reason?.code), SQLiteValue(message), .text(flags.map(\.rawValue).joined(separator: ",")),
                  SQLiteValue(cluster), SQLiteValue(duplicateOf), .real(Date().timeIntervalSince1970), .integer(id)]
                 + (revision.map { [.integer($0)] } ?? []))
        return connection.changes > 0
    }

    /// Writes every column of an item read before (but its source, label and the review app's state) by its id, if
    /// the row is still at the revision read: false when it changed since (the review app decided on it) and was left.
    @discardableResult
    public func update(_ item: CatalogItem) throws(CatalogError) -> Bool {
        guard let id = item.id else { throw CatalogError(path: connection.path, detail: "an item without an id cannot be updated") }
        let values = item.values
        let written = ItemColumn.allCases.filter { ![.source, .sourceKind, .label].contains($0) && !$0.isReviewState }
        try connection.statement(Schema.updateItem).run(written.map { values[Int($0.rawValue) - 1] } + [.integer(id), .integer(item.revision)])
        return connection.changes > 0
    }

    /// Undoes every curate decision: excluded items are ok again; flags, clusters and splits are cleared
    /// (measurements are kept). A person's keep or exclude decisions (the review app's) stay, unless `manual`
    /// (`curate --reset-manual`), which forgets them too; labels set by hand stay either way (they are the data now;
    /// the review app's undo puts an old label back). Returns how many items were excluded.
    @discardableResult
    public func resetCuration(manual: Bool = false) throws(CatalogError) -> Int {
        if manual {
            try connection.statement("UPDATE items SET manual_status = NULL, revision = revision + 1 WHERE manual_status IS NOT NULL").run()
        }
        try connection.statement("""
            UPDATE items SET status = 'ok', reason = NULL, message = NULL, duplicate_of = NULL, revision = revision + 1
            WHERE status = 'excluded' AND manual_status IS NULL
            """).run()
        let restored = connection.changes
        try connection.statement("""
            UPDATE items SET flags = '', cluster = NULL, split = NULL, fold = NULL, suggested_label = NULL, label_score = NULL,
            off_topic_score = NULL, revision = revision + 1
            WHERE flags != '' OR cluster IS NOT NULL OR split IS NOT NULL OR suggested_label IS NOT NULL OR off_topic_score IS NOT NULL
            """).run()
        return restored
    }

    /// Points every item of cluster `old` at cluster `new`: Assist's semantic duplicates join curate's clusters.
    public func moveCluster(_ old: Int64, to new: Int64) throws(CatalogError) {
        try connection.statement("UPDATE items SET cluster = ?, revision = revision + 1 WHERE cluster = ?").run([.integer(new), .integer(old)])
    }

    /// A person's correction of an item's label (`imgcls relabel`): the label changes, the `label_issue` flag and
    /// suggestion go, an item excluded as a label issue is kept again, and its split is cleared (the next split
    /// places it under its new label). Throws when the same source already has a row under `label`.
    public func relabel(id: Int64, to label: Label, message: String) throws(CatalogError) {
        try connection.statement("""
            UPDATE items SET label = ?, message = CASE WHEN reason IS NULL OR reason = 'label_issue' THEN ? ELSE message END, suggested_label = NULL, label_score = NULL, split = NULL, fold = NULL,
            flags = trim(replace(',' || flags || ',', ',label_issue,', ','), ','),
            status = CASE WHEN reason = 'label_issue' THEN 'ok' ELSE status END,
            reason = CASE WHEN reason = 'label_issue' THEN NULL ELSE reason END, updated_at = ?, revision = revision + 1 WHERE id = ?
            """).run([.text(label.name), .text(message), .real(Date().timeIntervalSince1970), .integer(id)])
    }

    /// Clears every split assignment (before a new split is recorded).
    public func clearSplits() throws(CatalogError) {
        try connection.statement("UPDATE items SET split = NULL, fold = NULL, revision = revision + 1 WHERE split IS NOT NULL OR fold IS NOT NULL").run()
    }

    /// Records the split of an item (nil: in none).
    public func updateSplit(id: Int64, split: Split?, fold: Int?) throws(CatalogError) {
        try connection.statement("UPDATE items SET split = ?, fold = ?, revision = revision + 1 WHERE id = ?").run([SQLiteValue(split?.rawValue), SQLiteValue(fold), .integer(id)])
    }

    /// Sets failed items back to pending (except those failed for `keeping` reasons); returns how many.
    @discardableResult
    public func resetFailed(keeping reasons: [Reason] = []) throws(CatalogError) -> Int {
        let placeholders = reasons.map { _ in "?" }.joined(separator: ", ")
        let sql = "UPDATE items SET status = 'pending', reason = NULL, message = NULL WHERE status = 'failed'"
            + (reasons.isEmpty ? "" : " AND coalesce(reason, '') NOT IN (\(placeholders))")
        try connection.statement(sql).run(reasons.map { .text($0.code) })
        return connection.changes
    }
}

/// Collects writes and commits them `batchSize` at a time: one transaction per batch instead of per row, which
/// is what makes millions of rows cheap. Call `flush()` at the end (and at checkpoints).
public final class CatalogBatchWriter {
    public enum Write {
        /// Insert, or update the row with the same source and label.
        case upsert(CatalogItem)
        /// Insert only when no row has this source and label.
        case insertIfAbsent(CatalogItem)
    }

    private let catalog: Catalog
    private let batchSize: Int
    private var pending: [Write] = []
    /// Rows `insertIfAbsent` actually inserted so far.
    public private(set) var inserted = 0
    /// Runs after each committed batch.
    public var afterFlush: (@Sendable () -> Void)?

    public init(catalog: Catalog, batchSize: Int = 500) {
        self.catalog = catalog
        self.batchSize = batchSize
        pending.reserveCapacity(batchSize)
    }

    public func add(_ item: CatalogItem) throws(CatalogError) {
        try add(.upsert(item))
    }

    public func add(_ write: Write) throws(CatalogError) {
        pending.append(write)
        if pending.count >= batchSize { try flush() }
    }

    public func flush() throws(CatalogError) {
        guard !pending.isEmpty else { return }
        let writes = pending
        inserted += try catalog.write { t throws(CatalogError) in
            var count = 0
            for write in writes {
                switch write {
                case .upsert(let item): try t.upsert(item)
                case .insertIfAbsent(let item): if try t.insertIfAbsent(item) { count += 1 }
                }
            }
            return count
        }
        pending.removeAll(keepingCapacity: true)
        afterFlush?()
    }
}

extension Workspace {
    /// Opens the catalog, creating the workspace folder and the catalog when missing (for the stages that add
    /// items: fetch, import, merge).
    public func openCatalog() throws(CatalogError) -> Catalog {
        do { try FileIO.createDirectory(root) } catch {
            throw CatalogError(path: root, detail: "\(error.detail); choose another folder with --workspace")
        }
        return try Catalog(path: catalogPath)
    }

    /// Opens the catalog a stage needs to exist (curate, split, status).
    public func requireCatalog() throws(CatalogError) -> Catalog {
        guard hasCatalog else {
            throw CatalogError(path: root, detail: "no catalog yet (\(catalogPath) is missing); run `imgcls fetch` or `imgcls import` first, or choose the workspace with --workspace")
        }
        return try Catalog(path: catalogPath, create: false)
    }
}
