import Catalog
import Console
import Foundation
import StageContract

/// The text form of `imgcls status`.
public struct StatusReport {
    public let workspace: Workspace
    public let summary: CatalogSummary

    public init(workspace: Workspace, summary: CatalogSummary) {
        (self.workspace, self.summary) = (workspace, summary)
    }

    public var text: String {
        var lines = [
            "workspace: \(workspace.root)",
            "catalog:   \(workspace.catalogPath) (schema \(summary.schemaVersion))",
            "items:     \(summary.total), \(megabytes(summary.storedBytes)) stored",
        ]
        guard summary.total > 0 else { return lines.joined(separator: "\n") }
        let statuses = ItemStatus.allCases.map(\.rawValue)
        var table = TextTable(["label", "total"] + statuses)
        for label in summary.labels {
            table.add([label.label, String(label.total)] + statuses.map { String(label.byStatus[$0] ?? 0) })
        }
        table.add(["(all)", String(summary.total)] + statuses.map { String(summary.byStatus[$0] ?? 0) })
        lines += ["", table.render()]
        if !summary.byReason.isEmpty {
            lines += ["", TextTable.counts(summary.byReason, name: "reason", unit: "items").render()]
        }
        if !summary.splits.isEmpty {
            let labels = summary.labels.map(\.label)
            var splits = TextTable(["split"] + labels)
            for (split, counts) in summary.splits.sorted(by: { $0.key < $1.key }) {
                splits.add([split] + labels.map { String(counts[$0] ?? 0) })
            }
            lines += ["", splits.render()]
        }
        return lines.joined(separator: "\n")
    }

    private func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}
