import Console
import Files
import Foundation
import StageContract

/// `data/reports/curate.json` (the summary) and `curate.md` (the same for people, with the contact sheets).
enum CurateReport {
    static func write(_ summary: CurateSummary, to workspace: Workspace) throws(CatalogError) {
        do {
            try FileIO.createDirectory(workspace.reportsFolder)
            try FileIO.writeAtomically(Array(try Output.jsonString(summary).utf8), to: workspace.report(CurateSummary.reportFiles.json))
            try FileIO.writeAtomically(Array(markdown(summary).utf8), to: workspace.report(CurateSummary.reportFiles.markdown))
        } catch {
            throw CatalogError(path: workspace.reportsFolder, detail: "cannot write the curate report: \(error)")
        }
    }

    static func markdown(_ s: CurateSummary) -> String {
        var lines = ["# Curation report", ""]
        lines.append("\(s.items) items, \(s.kept) kept, \(s.excluded) excluded; \(s.analyzed) decoded in this run "
                     + String(format: "(%.1f s, %.0f images/s).", s.seconds, s.imagesPerSecond))
        lines.append("")
        lines.append("Thresholds: near-duplicate candidates within \(s.thresholds.near) of 64 pHash bits, confirmed within "
                     + "\(s.thresholds.verify) of 256 detail-hash bits; placeholder at \(s.thresholds.placeholderSources) URLs; "
                     + "excluded flags: \(s.thresholds.excludedFlags.isEmpty ? "none" : s.thresholds.excludedFlags.joined(separator: ", ")).")
        lines += ["", "## Excluded, by reason", "", "| reason | items |", "|---|---|"]
        for (reason, count) in s.byReason.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) { lines.append("| \(reason) | \(count) |") }
        let columns = Set(s.byLabel.values.flatMap(\.keys)).sorted { $0 == "kept" ? true : $1 == "kept" ? false : $0 < $1 }
        lines += ["", "## By label", "", "| label | " + columns.joined(separator: " | ") + " |",
                  "|---|" + columns.map { _ in "---|" }.joined()]
        for (label, counts) in s.byLabel.sorted(by: { $0.key < $1.key }) {
            lines.append("| \(label) | " + columns.map { String(counts[$0] ?? 0) }.joined(separator: " | ") + " |")
        }
        lines += ["", "## Quality flags (reported; excluded only with --exclude)", "", "| flag | items |", "|---|---|"]
        for (flag, count) in s.flags.sorted(by: { $0.key < $1.key }) { lines.append("| \(flag) | \(count) |") }
        lines += ["", "\(s.duplicateGroups) groups of identical pictures, \(s.nearDuplicateClusters) near-duplicate clusters "
                  + "(largest: \(s.largestCluster) items)."]
        if !s.contactSheets.isEmpty {
            lines += ["", "## Contact sheets", ""]
            for sheet in s.contactSheets {
                lines.append("![\(sheet.path)](\(Workspace.contactSheetsFolder.reports)/\(sheet.fileName))")
                lines.append("")
                for (r, row) in sheet.rows.enumerated() { lines.append("\(r + 1). " + row.joined(separator: ", ")) }
                lines.append("")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
