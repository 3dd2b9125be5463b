import Catalog
import Files
import Foundation
import StageContract

/// Corrections a person accepted, into the catalog: `imgcls relabel --export FILE` writes the label issues as a
/// CSV (`new_label` empty); the person fills in `new_label` where they agree (the suggestion, or any label) and
/// `imgcls relabel FILE` applies those rows. Each changed item keeps its file and id, loses its `label_issue`
/// flag and split, and is kept again if it was excluded as a label issue. Applying a CSV with `label` and
/// `new_label` swapped puts the old labels back.
public enum Relabel {
    public static let header = ["id", "source", "path", "label", "suggested_label", "label_score", "new_label", "reviewed"]

    public struct Summary: Sendable, Codable {
        public var rows = 0
        public var relabelled = 0
        /// Rows left as they were: `new_label` empty or the label the item already has.
        public var unchanged = 0
    }

    /// Writes the items flagged `label_issue`, lowest score first, then the items a person decided on in the review
    /// app (`reviewed`: labelled, kept or excluded by hand); returns how many rows.
    @discardableResult
    public static func export(_ workspace: Workspace, to file: String) throws -> Int {
        var flagged: [CatalogItem] = [], reviewed: [CatalogItem] = []
        try workspace.requireCatalog().forEachItem {
            if $0.flags.contains(.labelIssue) { flagged.append($0) } else if review($0) != nil { reviewed.append($0) }
        }
        flagged.sort { ($0.labelScore ?? 1, $0.id ?? 0) < ($1.labelScore ?? 1, $1.id ?? 0) }
        var lines = [CSV.row(header)]
        for item in flagged + reviewed {
            lines.append(CSV.row([String(item.id ?? 0), item.source, item.path ?? "", item.label.name, item.suggestedLabel ?? "",
                                  item.labelScore.map { String(format: "%.4f", $0) } ?? "", "", review(item) ?? ""]))
        }
        do {
            try FileIO.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: file)
        } catch {
            throw AssistError("\(file): cannot write the label issues: \(error)")
        }
        return flagged.count + reviewed.count
    }

    /// What a person decided about the item in the review app, as the CSV's `reviewed` column says it.
    static func review(_ item: CatalogItem) -> String? {
        let parts = [item.manualLabel ? "labelled by hand" : nil,
                     item.manualStatus == .ok ? "kept by hand" : item.manualStatus == .excluded ? "excluded by hand" : nil].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// Applies the rows of `file` whose `new_label` is filled in. Every row is checked before anything changes:
    /// a row naming no item, an item whose label is no longer the row's `label` (edited since the export), an
    /// invalid label, or a label the same source already has, stops it with the line to fix.
    public static func apply(_ file: String, to workspace: Workspace) throws -> Summary {
        let text: String
        do { text = String(decoding: try FileIO.read(file), as: UTF8.self) } catch { throw AssistError("\(file): cannot read: \(error)") }
        let records: [[String]]
        do { records = try CSV.records(text) } catch { throw AssistError("\(file): \(error)") }
        guard let head = records.first, let idColumn = head.firstIndex(of: "id"), let newColumn = head.firstIndex(of: "new_label") else {
            throw AssistError("\(file): the first line must name the columns, with at least id and new_label (as `imgcls relabel --export` writes them)")
        }
        let labelColumn = head.firstIndex(of: "label")
        let catalog = try workspace.requireCatalog()
        var summary = Summary(rows: records.count - 1)
        var changes: [(id: Int64, from: String, to: Label)] = []
        for (offset, record) in records.dropFirst().enumerated() {
            let line = offset + 2
            func field(_ column: Int) -> String { column < record.count ? record[column].trimmingCharacters(in: .whitespaces) : "" }
            let wanted = field(newColumn)
            guard !wanted.isEmpty else { summary.unchanged += 1; continue }
            guard let id = Int64(field(idColumn)), let item = try catalog.items(ids: [id]).first else {
                throw AssistError("\(file) line \(line): no item with id \"\(field(idColumn))\" in \(workspace.catalogPath)")
            }
            if let labelColumn, !field(labelColumn).isEmpty, field(labelColumn) != item.label.name {
                throw AssistError("\(file) line \(line): item \(id) is labelled \(item.label.name) now, not \(field(labelColumn)); export the issues again")
            }
            let label: Label
            do { label = try Label(wanted) } catch { throw AssistError("\(file) line \(line): new_label: \(error)") }
            guard label != item.label else { summary.unchanged += 1; continue }
            if try catalog.item(source: item.source, label: label) != nil {
                throw AssistError("\(file) line \(line): \(item.source) is already in the catalog as \(label.name); leave new_label empty or exclude one of them")
            }
            changes.append((id, item.label.name, label))
        }
        try catalog.write { t throws(CatalogError) in
            for change in changes { try t.relabel(id: change.id, to: change.to, message: "relabelled from \(change.from) by imgcls relabel") }
        }
        summary.relabelled = changes.count
        return summary
    }
}

extension Relabel.Summary {
    /// What `imgcls relabel FILE` prints.
    public var text: String {
        "\(relabelled) of \(rows) rows relabelled, \(unchanged) left as they were; run imgcls split again"
    }
}
