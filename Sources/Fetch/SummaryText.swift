import Catalog
import Console
import Foundation
import StageContract

extension FetchSummary {
    /// What `imgcls fetch` and `scrape` print: the manifests read, what was fetched, by label and reason.
    public func text(request: FetchRequest, workspace: Workspace) -> String {
        var lines: [String] = []
        let i = ingest
        if !request.manifests.isEmpty {
            var line = "manifests: \(i.records) URLs read, \(i.added) new, \(i.alreadyKnown) already in the catalog"
            if i.invalid > 0 { line += ", \(i.invalid) malformed (invalid_url)" }
            if i.otherShards > 0 { line += ", \(i.otherShards) in other shards" }
            lines.append(line)
            for (title, counts) in [("not in the label map", i.unmapped), ("dropped by the label map", i.dropped),
                                    ("invalid labels", i.invalidLabels)] where !counts.isEmpty {
                let total = counts.values.reduce(0, +)
                let top = counts.sorted { $0.value > $1.value }.prefix(8).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                lines.append("  skipped, \(title): \(total) URLs in \(counts.count) categories (\(top)\(counts.count > 8 ? ", …" : ""))")
            }
        }
        if request.dryRun {
            lines.append("dry run: nothing fetched; \(pending) URLs pending in \(workspace.catalogPath)")
            return lines.joined(separator: "\n")
        }
        if !request.pages.isEmpty {
            lines.append("pages: \(pagesScraped) scraped, \(pagesFailed) failed")
        }
        lines.append(String(format: "fetched %d in %@ (%.1f images/s, %.1f MB/s): ok %d, failed %d",
                            finished, ProgressBar.duration(seconds), imagesPerSecond, megabytesPerSecond,
                            byStatus["ok"] ?? 0, byStatus["failed"] ?? 0))
        if stoppedEarly { lines.append("stopped early: \(pending) URLs still pending; run the same command to continue") }
        if !byLabel.isEmpty {
            var table = TextTable(["label", "ok", "failed"])
            for (label, counts) in byLabel.sorted(by: { $0.key < $1.key }) {
                table.add([label, String(counts["ok"] ?? 0), String(counts["failed"] ?? 0)])
            }
            lines += ["", table.render()]
        }
        if !byReason.isEmpty {
            lines += ["", TextTable.counts(byReason, name: "reason", unit: "URLs").render()]
        }
        lines += ["", "report: \(workspace.report(FetchSummary.reportFileName))"]
        return lines.joined(separator: "\n")
    }
}
