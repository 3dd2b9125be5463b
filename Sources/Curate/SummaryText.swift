import Console
import Foundation
import StageContract

extension ImportSummary {
    /// What `imgcls import` prints: the counts, the reasons for rejected files, the files added per label.
    public var text: String {
        var text = "\(files) files: \(added) added, \(alreadyKnown) already in the catalog"
        if !rejected.isEmpty {
            text += "; rejected: " + rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        if !byLabel.isEmpty { text += "\n\n" + TextTable.counts(byLabel, name: "label", unit: "added").render() }
        return text
    }
}

extension CurateSummary {
    /// What `imgcls curate` prints: kept and excluded, by reason and flag, duplicates, and where the report is.
    public func text(workspace: Workspace) -> String {
        var lines = [String(format: "%d images: %d kept, %d excluded (%d decoded in %.1f s, %.0f images/s)", items, kept,
                            excluded, analyzed, seconds, imagesPerSecond)]
        if !byReason.isEmpty { lines.append("\n" + TextTable.counts(byReason, name: "excluded", unit: "items").render()) }
        if !flags.isEmpty { lines.append("\n" + TextTable.counts(flags, name: "flag", unit: "items").render()) }
        lines.append("\n\(duplicateGroups) groups of identical pictures, \(nearDuplicateClusters) near-duplicate clusters (largest \(largestCluster))")
        return lines.joined(separator: "\n")
    }

    /// The report's and the contact sheets' places, for the last line a person reads.
    public static func reportLine(workspace: Workspace) -> String {
        "report: \(workspace.report(reportFiles.markdown)) (contact sheets in \(workspace.path(Workspace.contactSheetsFolder.workspace))/)"
    }

    /// Where to look at the verdicts and change them (the report page says the same).
    public static func reviewLine(workspace: Workspace) -> String {
        "look and decide in the browser: \(Workspace.reviewCommand(workspace)) (then http://127.0.0.1:\(Workspace.reviewPort)/)"
    }
}

extension SplitSummary {
    /// What `imgcls split` prints: counts per label and split, oversampling, small classes (below `minClass`),
    /// the leakage check and the folders.
    public func text(workspace: Workspace, minClass: Int) -> String {
        // Train, validation and test first, then the folds' parts by name.
        let order = { (split: String) in (Split(rawValue: split).flatMap { Split.allCases.firstIndex(of: $0) } ?? Split.allCases.count, split) }
        let splits = counts.keys.sorted { order($0) < order($1) }
        let labels = Set(counts.values.flatMap(\.keys)).sorted()
        var table = TextTable(["label"] + splits)
        for label in labels { table.add([label] + splits.map { String(counts[$0]?[label] ?? 0) }) }
        table.add(["(all)"] + splits.map { String(counts[$0]?.values.reduce(0, +) ?? 0) })
        var lines = [table.render()]
        for (label, extra) in oversampled.sorted(by: { $0.key < $1.key }) {
            lines.append("oversampled: \(label) +\(extra) copies in train")
        }
        for (label, size) in smallClasses.sorted(by: { $0.key < $1.key }) {
            lines.append("warning: \(label) has only \(size) image\(size == 1 ? "" : "s") (fewer than --min-class \(minClass))")
        }
        lines.append("leakage check: \(crossSplitPairs) near-duplicate pairs across splits")
        lines.append("\(leftOut) items left out (not kept by fetch, import or curate); folders: "
                     + folders.map { workspace.path($0) }.joined(separator: ", ") + "; list: \(workspace.splitListPath)")
        return lines.joined(separator: "\n")
    }
}
