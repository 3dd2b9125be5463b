import Foundation
import StageContract

/// What a person decides about items in the review app.
public enum ReviewAction: Sendable, Equatable {
    /// Keep the item whatever curate says (curate re-runs will not exclude it).
    case keep
    /// Leave the item out (reason `manual`; curate re-runs keep it out).
    case exclude
    /// Set the item's label (as `imgcls relabel` does: the label issue and split go, an item excluded as a label
    /// issue is kept again).
    case label(Label)

    var name: String {
        switch self {
        case .keep: "keep"
        case .exclude: "exclude"
        case .label: "label"
        }
    }
}

/// The items a decision is about.
public enum ReviewTarget: Sendable, Equatable {
    /// These items, each at the revision the person saw (a newer one is a conflict).
    case items([ItemRevision])
    /// Every item matching the filter, which matched `expected` items when the person chose (another count is a
    /// conflict: the catalog changed under the filter).
    case matching(ItemFilter, expected: Int)
}

public struct ItemRevision: Sendable, Equatable, Codable {
    public let id: Int64
    public let revision: Int64
    public init(id: Int64, revision: Int64) { (self.id, self.revision) = (id, revision) }
}

/// What a decision or an undo did.
public struct ReviewOutcome: Sendable {
    /// The journal's batch: one action, undone as one (nil when it changed nothing, so wrote nothing).
    public let batch: Int64?
    public let action: String
    /// Items changed.
    public let changed: Int
    /// Items the action left as they were: already so, or (for keep and exclude) without a usable file.
    public let unchanged: Int
    /// The changed items' counts before and after, to move `ReviewGroups` by.
    public let groups: ReviewGroupChange
}

/// Why a decision was refused; nothing was written.
public struct ReviewRefusal: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case conflict, notFound, invalid, catalog }
    public let kind: Kind
    public let description: String

    init(_ kind: Kind, _ description: String) { (self.kind, self.description) = (kind, description) }
}

/// One row of the journal's history, one per batch.
public struct JournalEntry: Sendable, Equatable, Codable {
    public let batch: Int64
    public let action: String
    public let items: Int
    /// The first item of the batch (the only one of a single decision).
    public let firstItem: Int64
    public let newLabel: String?
    public let note: String?
    public let at: Double
    public let undone: Bool
}

/// A person's decisions: each is journaled (the item's old values, the new ones, when, the note) in the same
/// transaction as the change, so a killed server leaves both or neither; undo puts the old values back.
extension Catalog {
    public func decide(_ action: ReviewAction, on target: ReviewTarget, note: String?) throws(ReviewRefusal) -> ReviewOutcome {
        try review { c throws(ReviewRefusal) in
            let now = Date().timeIntervalSince1970
            let batch = try Self.scalar(c, "SELECT coalesce(max(batch), 0) + 1 FROM decisions", []) ?? 1
            var (condition, values): (String, [SQLiteValue])
            let candidates: Int
            switch target {
            case .items(let items):
                guard !items.isEmpty else { throw ReviewRefusal(.invalid, "no items given: send at least one {id, revision}") }
                guard items.count <= 10_000 else { throw ReviewRefusal(.invalid, "\(items.count) items in one decision; send at most 10000, or decide on a filter") }
                try Self.checkRevisions(c, items)
                // One statement whatever the count (the prepared-statement cache is keyed by the SQL text).
                condition = "id IN (SELECT value FROM json_each(?))"
                values = [.text("[" + items.map { String($0.id) }.joined(separator: ",") + "]")]
                candidates = Set(items.map(\.id)).count
            case .matching(let filter, let expected):
                (condition, values) = filter.sql()
                let found = try Self.scalar(c, "SELECT count(*) FROM items WHERE \(condition)", values) ?? 0
                guard found == expected else {
                    throw ReviewRefusal(.conflict, "the filter now matches \(found) items, not \(expected): the catalog changed; look again before deciding")
                }
                candidates = Int(found)
            }
            // Keep and exclude need a usable file; each action leaves alone the items already as it would make them.
            switch action {
            case .keep:
                condition = "(\(condition)) AND status IN ('ok', 'excluded') AND NOT (status = 'ok' AND manual_status IS 'ok')"
            case .exclude:
                condition = "(\(condition)) AND status IN ('ok', 'excluded') AND NOT (status = 'excluded' AND manual_status IS 'excluded')"
            case .label(let label):
                condition = "(\(condition)) AND label != ?"
                values.append(.text(label.name))
                if let taken = try Self.scalar(c, """
                    SELECT items.id FROM items WHERE \(condition)
                    AND EXISTS (SELECT 1 FROM items other WHERE other.source = items.source AND other.label = ?) LIMIT 1
                    """, values + [.text(label.name)]) {
                    throw ReviewRefusal(.invalid, "item \(taken)'s source is already in the catalog as \(label.name); exclude one of the two instead")
                }
                // Two rows of one source (under two other labels) cannot both take the label.
                if let twice = try Self.text(c, "SELECT source FROM items WHERE \(condition) GROUP BY source HAVING count(*) > 1 LIMIT 1", values) {
                    throw ReviewRefusal(.invalid, "\(twice.prefix(200)) is among these items under two labels; both cannot become \(label.name): leave one out")
                }
            }
            let (newStatus, newLabel, change, changeValues) = Self.change(action, note: note, at: now)
            try Self.run(c, """
                INSERT INTO decisions (batch, item, action, note, at, old_status, old_reason, old_message, old_label, old_flags, old_split,
                    old_fold, old_suggested_label, old_label_score, old_manual_status, old_manual_label, new_status, new_label, new_revision)
                SELECT ?, id, ?, ?, ?, status, reason, message, label, flags, split, fold, suggested_label, label_score, manual_status,
                    manual_label, \(newStatus), \(newLabel), revision + 1
                FROM items WHERE \(condition)
                """, [.integer(batch), .text(action.name), SQLiteValue(note), .real(now)] + (action.labelValue.map { [$0] } ?? []) + values)
            let changed = c.changes
            guard changed > 0 else {
                return ReviewOutcome(batch: nil, action: action.name, changed: 0, unchanged: candidates,
                                     groups: ReviewGroupChange(removed: ReviewGroups(counts: [:]), added: ReviewGroups(counts: [:])))
            }
            let before = try Self.batchGroups(c, batch)
            try Self.run(c, "UPDATE items SET \(change), updated_at = ?, revision = revision + 1 WHERE \(condition)", changeValues + [.real(now)] + values)
            return ReviewOutcome(batch: batch, action: action.name, changed: changed, unchanged: candidates - changed,
                                 groups: ReviewGroupChange(removed: before, added: try Self.batchGroups(c, batch)))
        }
    }

    /// Reverts the last batch not yet undone, if every item in it is still as the batch left it (else a conflict:
    /// curate or another tab changed it since). Nil when there is nothing to undo.
    public func undoLastDecision() throws(ReviewRefusal) -> ReviewOutcome? {
        try review { c throws(ReviewRefusal) in
            guard let batch = try Self.scalar(c, "SELECT max(batch) FROM decisions WHERE undone_at IS NULL", []) else { return nil }
            // Each item must be as the batch left it: at the batch's revision, or at the one the undos of later batches
            // (of the same item) left, the last of which (undone newest first) left the highest.
            if let changed = try Self.scalar(c, """
                SELECT d.item FROM decisions d JOIN items i ON i.id = d.item WHERE d.batch = ? AND i.revision != coalesce(
                    (SELECT max(later.undone_revision) FROM decisions later WHERE later.item = d.item AND later.batch > d.batch),
                    d.new_revision) LIMIT 1
                """, [.integer(batch)]) {
                throw ReviewRefusal(.conflict, "item \(changed) changed after this decision (by curate or another tab); undo refused, nothing changed")
            }
            if let taken = try Self.scalar(c, """
                SELECT d.item FROM decisions d JOIN items i ON i.id = d.item WHERE d.batch = ? AND d.old_label != i.label
                AND EXISTS (SELECT 1 FROM items other WHERE other.source = i.source AND other.label = d.old_label) LIMIT 1
                """, [.integer(batch)]) {
                throw ReviewRefusal(.conflict, "item \(taken)'s old label is now taken by another row of the same source; undo refused")
            }
            let action = try Self.text(c, "SELECT action FROM decisions WHERE batch = ? LIMIT 1", [.integer(batch)]) ?? ""
            let now = Date().timeIntervalSince1970
            let before = try Self.batchGroups(c, batch)
            try Self.run(c, """
                UPDATE items SET (status, reason, message, label, flags, split, fold, suggested_label, label_score, manual_status, manual_label) =
                    (SELECT old_status, old_reason, old_message, old_label, old_flags, old_split, old_fold, old_suggested_label, old_label_score,
                     old_manual_status, old_manual_label FROM decisions d WHERE d.batch = ? AND d.item = items.id),
                    updated_at = ?, revision = revision + 1
                WHERE id IN (SELECT item FROM decisions WHERE batch = ?)
                """, [.integer(batch), .real(now), .integer(batch)])
            let changed = c.changes
            try Self.run(c, "UPDATE decisions SET undone_at = ?, undone_revision = (SELECT revision FROM items WHERE id = decisions.item) WHERE batch = ?",
                         [.real(now), .integer(batch)])
            return ReviewOutcome(batch: batch, action: "undo \(action)", changed: changed, unchanged: 0,
                                 groups: ReviewGroupChange(removed: before, added: try Self.batchGroups(c, batch)))
        }
    }

    /// The last `limit` batches, newest first; of one item only when `item` is given.
    public func journal(item: Int64? = nil, limit: Int = 50) throws(CatalogError) -> [JournalEntry] {
        try withConnection { c throws(CatalogError) in
            let statement = try c.statement("""
                SELECT batch, action, count(*), min(item), max(new_label), max(note), min(at), max(undone_at IS NOT NULL)
                FROM decisions WHERE \(item == nil ? "1" : "item = ?") GROUP BY batch ORDER BY batch DESC LIMIT ?
                """).bind((item.map { [SQLiteValue.integer($0)] } ?? []) + [.integer(Int64(limit))])
            var entries: [JournalEntry] = []
            while try statement.step() {
                let action = statement.text(1) ?? ""
                entries.append(JournalEntry(batch: statement.int(0) ?? 0, action: action, items: Int(statement.int(2) ?? 0),
                                            firstItem: statement.int(3) ?? 0, newLabel: action == "label" ? statement.text(4) : nil,
                                            note: statement.text(5), at: statement.double(6) ?? 0, undone: statement.int(7) == 1))
            }
            return entries
        }
    }

    /// Items decided on (and not undone) after `time` (seconds since 1970): what a split made before then does not show.
    public func itemsDecided(since time: Double) throws(CatalogError) -> Int {
        try withConnection { c throws(CatalogError) in
            let statement = try c.statement("SELECT count(DISTINCT item) FROM decisions WHERE at > ? AND undone_at IS NULL").bind([.real(time)])
            defer { statement.reset() }
            return try statement.step() ? Int(statement.int(0) ?? 0) : 0
        }
    }

    /// One write transaction whose refusals roll it back.
    private func review<T>(_ body: (SQLiteConnection) throws(ReviewRefusal) -> T) throws(ReviewRefusal) -> T {
        let outcome: Result<T, ReviewRefusal>
        do {
            outcome = try withConnection { c throws(CatalogError) -> Result<T, ReviewRefusal> in
                try c.execute("BEGIN IMMEDIATE")
                let result = Result { () throws(ReviewRefusal) in try body(c) }
                guard case .success = result else {
                    try? c.execute("ROLLBACK")
                    return result
                }
                do throws(CatalogError) { try c.execute("COMMIT") } catch {
                    try? c.execute("ROLLBACK")
                    throw error
                }
                return result
            }
        } catch {
            throw ReviewRefusal(.catalog, "\(error)")
        }
        return try outcome.get()
    }

    /// Every item exists, has a usable state, and is at the revision the person saw.
    private static func checkRevisions(_ c: SQLiteConnection, _ items: [ItemRevision]) throws(ReviewRefusal) {
        var missing: [Int64] = [], stale: [Int64] = []
        for item in items {
            guard let revision = try scalar(c, "SELECT revision FROM items WHERE id = ?", [.integer(item.id)]) else {
                missing.append(item.id)
                continue
            }
            if revision != item.revision { stale.append(item.id) }
        }
        if !missing.isEmpty {
            throw ReviewRefusal(.notFound, "no item with id \(missing.prefix(5).map(String.init).joined(separator: ", ")) in the catalog")
        }
        if !stale.isEmpty {
            throw ReviewRefusal(.conflict, "item \(stale.prefix(5).map(String.init).joined(separator: ", ")) changed since you looked (another tab, or curate); nothing was changed: look again")
        }
    }

    /// The journal's new status and label (SQL over the old row), and the items' SET clause with its values.
    private static func change(_ action: ReviewAction, note: String?, at now: Double)
        -> (status: String, label: String, set: String, values: [SQLiteValue])
    {
        switch action {
        case .keep:
            return ("'ok'", "label", "status = 'ok', reason = NULL, message = ?, manual_status = 'ok'",
                    [.text("kept by hand in the review app" + (note.map { ": \($0)" } ?? ""))])
        case .exclude:
            return ("'excluded'", "label", "status = 'excluded', reason = 'manual', message = ?, manual_status = 'excluded'",
                    [.text(note ?? "excluded by hand in the review app")])
        case .label(let label):
            return ("CASE WHEN reason = 'label_issue' THEN 'ok' ELSE status END", "?", """
                label = ?, message = CASE WHEN reason IS NULL OR reason = 'label_issue' THEN ? ELSE message END,
                suggested_label = NULL, label_score = NULL, split = NULL, fold = NULL, manual_label = 1,
                flags = trim(replace(',' || flags || ',', ',label_issue,', ','), ','),
                status = CASE WHEN reason = 'label_issue' THEN 'ok' ELSE status END,
                reason = CASE WHEN reason = 'label_issue' THEN NULL ELSE reason END
                """, [.text(label.name), .text("labelled \(label.name) by hand in the review app" + (note.map { ": \($0)" } ?? ""))])
        }
    }

    /// The counts of the items a batch is about, as they are now.
    private static func batchGroups(_ c: SQLiteConnection, _ batch: Int64) throws(ReviewRefusal) -> ReviewGroups {
        do { return try groups(c, where: "id IN (SELECT item FROM decisions WHERE batch = ?)", [.integer(batch)]) } catch {
            throw ReviewRefusal(.catalog, "\(error)")
        }
    }

    /// The first row's first column, as an integer.
    private static func scalar(_ c: SQLiteConnection, _ sql: String, _ values: [SQLiteValue]) throws(ReviewRefusal) -> Int64? {
        try first(c, sql, values) { $0.int(0) }
    }

    /// The first row's first column, as text.
    private static func text(_ c: SQLiteConnection, _ sql: String, _ values: [SQLiteValue]) throws(ReviewRefusal) -> String? {
        try first(c, sql, values) { $0.text(0) }
    }

    private static func first<T>(_ c: SQLiteConnection, _ sql: String, _ values: [SQLiteValue], _ read: (Statement) -> T?) throws(ReviewRefusal) -> T? {
        do {
            let statement = try c.statement(sql).bind(values)
            defer { statement.reset() }
            return try statement.step() ? read(statement) : nil
        } catch { throw ReviewRefusal(.catalog, "\(error)") }
    }

    private static func run(_ c: SQLiteConnection, _ sql: String, _ values: [SQLiteValue]) throws(ReviewRefusal) {
        do { try c.statement(sql).run(values) } catch { throw ReviewRefusal(.catalog, "\(error)") }
    }
}

private extension ReviewAction {
    /// The bound value of the journal's new label, for the label action.
    var labelValue: SQLiteValue? {
        if case .label(let label) = self { return .text(label.name) }
        return nil
    }
}
