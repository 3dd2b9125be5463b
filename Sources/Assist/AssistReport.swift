import Console
import Files
import Foundation
import StageContract

/// `data/reports/assist.json` (the summary), `assist.md` (the same for people) and the contact sheets in
/// `data/reports/assist/`: label issues (given and suggested label in the report), semantic-duplicate clusters
/// (the kept picture first, in green), off-topic images and images flagged nsfw, most certain first.
enum AssistReport {
    static func write(_ summary: AssistSummary, to workspace: Workspace) throws {
        do {
            try FileIO.createDirectory(workspace.reportsFolder)
            try FileIO.writeAtomically(Array(try Output.jsonString(summary).utf8), to: workspace.report(Workspace.ReportFile.assist))
            try FileIO.writeAtomically(Array(markdown(summary).utf8), to: workspace.report(Workspace.ReportFile.assistMarkdown))
        } catch {
            throw AssistError("\(workspace.reportsFolder): cannot write the model-assisted curation report: \(error)")
        }
    }

    static let sheetNames = (labelIssues: "label-issues.jpg", semanticDuplicates: "semantic-duplicates.jpg", offTopic: "off-topic.jpg",
                             nsfw: "nsfw.jpg")

    static func sheets(_ s: AssistSummary, workspace: Workspace) -> [ContactSheet] {
        let folder = Workspace.assistSheetsFolder.workspace
        try? FileManager.default.removeItem(atPath: workspace.path(folder))
        var sheets: [ContactSheet] = []
        /// Green for the kept picture of a cluster, red for those left out, grey for a flag.
        func cell(_ image: AssistSummary.Image, kept: Bool? = nil) -> ContactSheet.Cell {
            ContactSheet.Cell(path: image.path, id: image.id, frame: kept.map { $0 ? ContactSheet.kept : ContactSheet.leftOut } ?? ContactSheet.flagged)
        }
        if let issues = s.labelIssues, !issues.found.isEmpty,
           let sheet = ContactSheet.draw(ContactSheet.rows(issues.found.map { cell($0.image) }),
                                         name: sheetNames.labelIssues, folder: folder, in: workspace) {
            sheets.append(sheet)
        }
        if let duplicates = s.semanticDuplicates, !duplicates.clusters.isEmpty {
            let rows = duplicates.clusters.prefix(12).map { cluster in
                cluster.images.prefix(ContactSheet.perRow).enumerated().map { cell($1, kept: $0 == 0 && !cluster.labelConflict) }
            }
            if let sheet = ContactSheet.draw(Array(rows), name: sheetNames.semanticDuplicates, folder: folder, in: workspace) { sheets.append(sheet) }
        }
        if let offTopic = s.offTopic, !offTopic.found.isEmpty,
           let sheet = ContactSheet.draw(ContactSheet.rows(offTopic.found.map { cell($0.image) }),
                                         name: sheetNames.offTopic, folder: folder, in: workspace) {
            sheets.append(sheet)
        }
        if let nsfw = s.nsfw, !nsfw.found.isEmpty,
           let sheet = ContactSheet.draw(ContactSheet.rows(nsfw.found.map { cell($0.image) }), name: sheetNames.nsfw, folder: folder, in: workspace) {
            sheets.append(sheet)
        }
        return sheets
    }

    static func markdown(_ s: AssistSummary) -> String {
        var lines = ["# Model-assisted curation", ""]
        lines.append(String(format: "%d kept images, features from %@ (%.1f s), %.1f s in all. Flags exclude only with --exclude; "
                            + "`imgcls curate` or `imgcls curate --reset` clears every decision.", s.items,
                            s.backbone.isEmpty ? s.nsfw?.backbone ?? "-" : s.backbone, s.featureSeconds, s.seconds))
        let sheet = { (name: String) -> [String] in
            s.contactSheets.contains { $0.fileName == name } ? ["", "![\(name)](\(Workspace.assistSheetsFolder.reports)/\(name))"] : []
        }
        if let issues = s.labelIssues {
            lines += ["", "## Label issues", "",
                      "\(issues.found.count) images whose label looks wrong (\(issues.folds)-fold cross-validated linear head, confident learning); "
                      + "accept corrections with `imgcls relabel`.\(issues.excluded > 0 ? " \(issues.excluded) excluded." : "")"]
            lines += sheet(sheetNames.labelIssues)
            lines += ["", "| # | image | label | suggested | self-confidence |", "|---|---|---|---|---|"]
            for (r, found) in issues.found.enumerated() {
                lines.append("| \(r + 1) | \(found.image.path) | \(found.image.label) | \(found.suggested) | " + String(format: "%.3f |", found.selfConfidence))
            }
            lines += ["", "Confident joint (rows: given label, columns: confident class): " + s.classes.joined(separator: ", "), ""]
            for (label, row) in zip(s.classes, issues.confidentJoint) { lines.append("- \(label): " + row.map(String.init).joined(separator: " ")) }
        }
        if let duplicates = s.semanticDuplicates {
            lines += ["", "## Semantic duplicates", "",
                      String(format: "%d pairs at cosine similarity >= %.3f (%@ search%@), %d confirmed (%@), %d clusters, %d excluded.",
                             duplicates.candidates, duplicates.threshold, duplicates.search,
                             duplicates.quarterTurns ? ", each picture also turned a quarter" : "", duplicates.pairs,
                             AssistReport.confirmation(duplicates), duplicates.clusters.count, duplicates.excluded)]
            lines += sheet(sheetNames.semanticDuplicates)
            lines.append("")
            for (r, cluster) in duplicates.clusters.prefix(50).enumerated() {
                lines.append("\(r + 1). " + (cluster.labelConflict ? "(label conflict) " : "") + cluster.images.map(\.path).joined(separator: ", ")
                             + String(format: " (similarity >= %.3f)", cluster.similarity))
            }
        }
        if let offTopic = s.offTopic {
            lines += ["", "## Off-topic images", "",
                      String(format: "%d images at least %.1f robust deviations from every class%@.", offTopic.found.count, offTopic.rule.minimumScore,
                             offTopic.rule.maximumProbability < 1 ? String(format: " with a best probability of at most %.2f", offTopic.rule.maximumProbability) : "")]
            lines += sheet(sheetNames.offTopic)
            lines += ["", "| # | image | label | score | centroid similarity | best probability |", "|---|---|---|---|---|---|"]
            for (r, found) in offTopic.found.enumerated() {
                lines.append("| \(r + 1) | \(found.image.path) | \(found.image.label) | "
                             + String(format: "%.1f | %.3f | %.3f |", found.score, found.centroidSimilarity, found.bestProbability))
            }
        }
        if let nsfw = s.nsfw {
            lines += ["", "## Not safe for work", "",
                      String(format: "%d of %d images with %@'s nsfw probability >= %.2f (flag nsfw%@).", nsfw.found.count, nsfw.scored,
                             nsfw.backbone, nsfw.threshold, nsfw.excluded > 0 ? ", \(nsfw.excluded) excluded" : "; excluded only with --exclude nsfw")]
            lines += sheet(sheetNames.nsfw)
            lines += ["", "| # | image | label | nsfw probability |", "|---|---|---|---|"]
            for (r, found) in nsfw.found.enumerated() {
                lines.append("| \(r + 1) | \(found.image.path) | \(found.image.label) | " + String(format: "%.3f |", found.score))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// How the pairs were confirmed, for the reports.
    static func confirmation(_ duplicates: AssistSummary.SemanticDuplicates) -> String {
        duplicates.minimumInliers > 0
            ? "at least \(duplicates.minimumInliers) corners agreeing on one transform and half of the matches, or cosine >= \(SemanticIndex.unverifiedThreshold) where too small or plain to check"
            : "cosine alone"
    }
}

extension AssistSummary {
    /// What `imgcls curate` prints after its own summary: each analysis's findings, the first of them as tables.
    public var text: String {
        var lines = [String(format: "model-assisted curation of %d kept images (%@ features %.1f s, %.1f s in all)", items, backbone,
                            featureSeconds, seconds)]
        if let issues = labelIssues {
            lines.append("label issues: \(issues.found.count) (flag label_issue, suggested label in the catalog\(issues.excluded > 0 ? ", \(issues.excluded) excluded" : ""); imgcls relabel --export FILE to review)")
            var table = TextTable(["image", "label", "suggested", "self-confidence"])
            for found in issues.found.prefix(20) {
                table.add([found.image.path, found.image.label, found.suggested, String(format: "%.3f", found.selfConfidence)])
            }
            if !issues.found.isEmpty { lines.append(table.render()) }
            if issues.found.count > 20 { lines.append("… \(issues.found.count - 20) more in the report") }
        }
        if let duplicates = semanticDuplicates {
            lines.append(String(format: "semantic duplicates: %d candidate pairs at cosine >= %.3f (%@ search%@), %d confirmed (local features; cosine >= 0.95 where too small or plain), %d clusters, %d excluded",
                                duplicates.candidates, duplicates.threshold, duplicates.search, duplicates.quarterTurns ? ", with quarter turns" : "",
                                duplicates.pairs, duplicates.clusters.count, duplicates.excluded))
        }
        if let offTopic = offTopic {
            lines.append("off-topic: \(offTopic.found.count) (flag off_topic\(offTopic.excluded > 0 ? ", \(offTopic.excluded) excluded" : ""))")
            var table = TextTable(["image", "label", "score", "best probability"])
            for found in offTopic.found.prefix(10) {
                table.add([found.image.path, found.image.label, String(format: "%.1f", found.score), String(format: "%.3f", found.bestProbability)])
            }
            if !offTopic.found.isEmpty { lines.append(table.render()) }
        }
        if let nsfw {
            lines.append(String(format: "nsfw: %d of %d images at %@'s probability >= %.2f (flag nsfw%@; every score is in the catalog)",
                                nsfw.found.count, nsfw.scored, nsfw.backbone, nsfw.threshold, nsfw.excluded > 0 ? ", \(nsfw.excluded) excluded" : ""))
            var table = TextTable(["image", "label", "nsfw probability"])
            for found in nsfw.found.prefix(10) { table.add([found.image.path, found.image.label, String(format: "%.3f", found.score)]) }
            if !nsfw.found.isEmpty { lines.append(table.render()) }
        }
        return lines.joined(separator: "\n")
    }
}
