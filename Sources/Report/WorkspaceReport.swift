import Catalog
import Files
import Foundation
import StageContract

// Report: `data/reports/index.html`, one page per workspace that every stage rewrites when it finishes. It reads
// what the stages left (the catalog, reports/*.json, models/*/report/), never their types, so it depends on no
// stage. Files in reading order:
// - WorkspaceReport.swift: `WorkspaceReport`, what the page shows, section by section;
// - ReportFacts.swift: the facts gathered for it in one pass over the catalog (counts, leakage, items shown);
// - HTMLPage.swift: the page's pieces (tables, bars, labelled thumbnails, the style), all escaped;
// - StatusReport.swift: `imgcls status`'s text, from the same catalog.

/// The workspace's report page: fetch counts by label and reason, curate's duplicates and flags as labelled
/// thumbnails, the split's balance and leakage check, and for each model its curves, confusion matrix and most
/// confident mistakes. Self-contained: styles, charts and thumbnails are inside the file; it links only the
/// stages' own files beside it, which exist when it links them.
public struct WorkspaceReport {
    /// Thumbnails' longer side in pixels.
    static let thumbnailSide = 96
    /// The most confident mistakes shown per model.
    static let mistakesShown = 16

    let workspace: Workspace
    let reportsFolder: String

    public init(workspace: Workspace) {
        self.workspace = workspace
        reportsFolder = workspace.reportsFolder
    }

    /// Writes the page and returns its path.
    @discardableResult
    public func write() throws -> String {
        let path = workspace.report(Workspace.ReportFile.page)
        try FileIO.createDirectory(reportsFolder)
        try FileIO.writeAtomically(Array(render().utf8), to: path)
        return path
    }

    /// The page as HTML.
    public func render() throws -> String {
        let curate = readJSON(workspace.report(Workspace.ReportFile.curate))
        let assist = readJSON(workspace.report(Workspace.ReportFile.assist))
        let shownIDs = (((curate?["contactSheets"] as? [[String: Any]]) ?? []) + ((assist?["contactSheets"] as? [[String: Any]]) ?? [])).flatMap { sheet in
            ((sheet["ids"] as? [[Int64]]) ?? []).flatMap { $0 }
        }
        let facts = workspace.hasCatalog ? try ReportFacts(catalog: workspace.openCatalog(), itemsFor: shownIDs) : nil
        var page = HTMLPage(title: "imgcls report: \(workspace.root)")
        page.heading(1, "imgcls report")
        page.paragraph("Workspace <code>\(HTMLPage.escape(workspace.root))</code>, written "
                       + HTMLPage.escape(ISO8601DateFormatter().string(from: Date())) + " by the last stage that ran.")
        if let facts {
            page.paragraph("To look at every item and fix what is wrong (keep, exclude, relabel, in bulk, with undo), open the review app: "
                           + "<code>\(HTMLPage.escape(Workspace.reviewCommand(workspace)))</code>, then http://127.0.0.1:\(Workspace.reviewPort)/ in a browser.")
            fetchSection(&page, facts)
            curateSection(&page, facts, curate)
            if let assist { assistSection(&page, facts, assist) }
            splitSection(&page, facts)
        } else {
            page.paragraph("No catalog yet: run <code>imgcls fetch</code> or <code>imgcls curate --from FOLDER</code> first.")
        }
        // Models trained on folders given with --train have no catalog behind them, and are shown all the same.
        for model in modelFolders() { modelSection(&page, model) }
        return page.html
    }

    // MARK: Sections

    private func fetchSection(_ page: inout HTMLPage, _ facts: ReportFacts) {
        page.heading(2, "Fetch and import")
        page.paragraph("\(facts.total) items in the catalog: \(facts.stored) stored, \(facts.failed) failed, \(facts.pending) not fetched yet."
                       + link(Workspace.ReportFile.fetch, "the last fetch's summary"))
        let outcomes = facts.fetchOutcomes
        page.countTable(corner: "label", rows: outcomes, columnOrder: ["stored"], caption: "Items by label and outcome (a reason code when the item could not be stored)")
        page.bars(title: "Failures by reason", facts.failuresByReason)
    }

    private func curateSection(_ page: inout HTMLPage, _ facts: ReportFacts, _ curate: [String: Any]?) {
        page.heading(2, "Curate")
        guard let curate else { return page.paragraph("Not curated yet: <code>imgcls curate</code>.") }
        page.paragraph("\(curate["kept"] as? Int ?? 0) kept, \(curate["excluded"] as? Int ?? 0) excluded; "
                       + "\(curate["duplicateGroups"] as? Int ?? 0) groups of identical pictures, "
                       + "\(curate["nearDuplicateClusters"] as? Int ?? 0) near-duplicate clusters."
                       + link(Workspace.ReportFile.curateMarkdown, "the curate report") + link(Workspace.ReportFile.curate, "as JSON"))
        page.countTable(corner: "label", rows: facts.curateOutcomes, columnOrder: ["kept"], caption: "Stored items by label: kept, or the reason they were left out")
        if let flags = curate["flags"] as? [String: Int], !flags.isEmpty {
            page.bars(title: "Quality flags (reported; excluded only with --exclude)", flags)
        }
        for sheet in (curate["contactSheets"] as? [[String: Any]]) ?? [] {
            let name = String(((sheet["path"] as? String) ?? "").split(separator: "/").last ?? "")
            contactSheet(&page, facts, sheet, heading: name.hasPrefix("duplicates") ? "Largest duplicate clusters: one per group, the kept picture first"
                                                                               : "Flagged \(name.replacing("flag-", with: "").replacing(".jpg", with: ""))")
        }
    }

    /// `curate --label-issues / --semantic-duplicates / --off-topic / --nsfw`, from assist.json.
    private func assistSection(_ page: inout HTMLPage, _ facts: ReportFacts, _ assist: [String: Any]) {
        page.heading(2, "Model-assisted curation")
        var parts: [String] = []
        if let issues = assist["labelIssues"] as? [String: Any] { parts.append("\((issues["found"] as? [Any])?.count ?? 0) label issues") }
        if let duplicates = assist["semanticDuplicates"] as? [String: Any] {
            parts.append("\((duplicates["clusters"] as? [Any])?.count ?? 0) clusters of semantic duplicates (\(duplicates["excluded"] as? Int ?? 0) excluded)")
        }
        if let offTopic = assist["offTopic"] as? [String: Any] { parts.append("\((offTopic["found"] as? [Any])?.count ?? 0) off-topic images") }
        if let nsfw = assist["nsfw"] as? [String: Any] {
            parts.append("\((nsfw["found"] as? [Any])?.count ?? 0) of \(nsfw["scored"] as? Int ?? 0) images flagged nsfw by \(HTMLPage.escape(nsfw["backbone"] as? String ?? ""))")
        }
        let backbone = (assist["backbone"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? (assist["nsfw"] as? [String: Any])?["backbone"] as? String ?? ""
        page.paragraph("\(assist["items"] as? Int ?? 0) kept images seen through the backbone \(HTMLPage.escape(backbone)): "
                       + parts.joined(separator: ", ") + "."
                       + link(Workspace.ReportFile.assistMarkdown, "the report") + link(Workspace.ReportFile.assist, "as JSON"))
        let headings = ["label-issues.jpg": "Label issues, most certain first (suggested labels in the report)",
                        "semantic-duplicates.jpg": "Semantic duplicates: one cluster per row, the kept picture first",
                        "off-topic.jpg": "Off-topic images, furthest from every class first",
                        "nsfw.jpg": "Flagged nsfw, most probable first"]
        for sheet in (assist["contactSheets"] as? [[String: Any]]) ?? [] {
            let name = String(((sheet["path"] as? String) ?? "").split(separator: "/").last ?? "")
            contactSheet(&page, facts, sheet, heading: headings[name] ?? name)
        }
    }

    /// A contact sheet's pictures as labelled thumbnails, one row per row of the sheet.
    private func contactSheet(_ page: inout HTMLPage, _ facts: ReportFacts, _ sheet: [String: Any], heading: String) {
        guard let rows = sheet["rows"] as? [[String]] else { return }
        // Ids say which item of a shared file each picture is; a curate.json from before them has paths only.
        let ids = sheet["ids"] as? [[Int64]]
        page.heading(3, heading)
        if ids == nil { page.paragraph("Run <code>imgcls curate</code> again to see which of these pictures were kept.") }
        for (r, files) in rows.enumerated() {
            page.thumbnailRow(files.enumerated().map { (c, relative) in
                let id = ids.flatMap { r < $0.count && c < $0[r].count ? $0[r][c] : nil }
                let item = id.flatMap { facts.shownItems[$0] }
                let outcome = item.map { $0.status == .ok ? "kept" : ($0.reason?.code ?? $0.status.rawValue) } ?? ""
                let source = item?.source ?? relative
                var lines = [HTMLPage.host(source), item?.label.name ?? "", outcome]
                if let suggested = item?.suggestedLabel { lines.append("suggested: \(suggested)") }
                return HTMLPage.Thumbnail(file: workspace.path(relative), source: source, title: HTMLPage.fileName(source),
                                          lines: lines, good: outcome == "kept")
            })
        }
    }

    private func splitSection(_ page: inout HTMLPage, _ facts: ReportFacts) {
        page.heading(2, "Split")
        // The split's own counts: the catalog holds one split per item, which for k folds is the last fold's.
        let split = readJSON(workspace.report(Workspace.ReportFile.split))
        guard let counts = split?["counts"] as? [String: [String: Int]], !counts.isEmpty else {
            return page.paragraph("Not split yet: <code>imgcls split</code>.")
        }
        var rows: [String: [String: Int]] = [:]
        for (part, labels) in counts { for (label, count) in labels { rows[label, default: [:]][part] = count } }
        page.countTable(corner: "label", rows: rows, columnOrder: Split.allCases.map(\.rawValue),
                        caption: "Images per split and label (with the share of the split; oversampled copies included)", shares: true)
        // The split's own check compares every near-duplicate pair across splits; the catalog's clusters and
        // identical pixels are counted here as well, so a split made before a later curate shows up.
        let pairs = split?["crossSplitPairs"] as? Int ?? 0
        if facts.leakingClusters == 0 && facts.leakingPictures == 0 && pairs == 0 {
            page.paragraph("<b class=good>No leakage:</b> no near-duplicate pair, cluster or identical picture is in two splits."
                           + link(Workspace.ReportFile.split, "the split's summary"))
        } else {
            page.paragraph("<b class=bad>Leakage:</b> \(pairs) near-duplicate pairs, \(facts.leakingClusters) near-duplicate clusters and "
                           + "\(facts.leakingPictures) identical pictures are in more than one split; run <code>imgcls split</code> again after <code>imgcls curate</code>."
                           + link(Workspace.ReportFile.split, "the split's summary"))
        }
    }

    private func modelSection(_ page: inout HTMLPage, _ model: (name: String, folder: String)) {
        page.heading(2, "Model \(model.name)")
        let report = Workspace.reportFolder(forModelFile: model.folder + "/" + Workspace.modelFileName)
        let metrics = readJSON(report + "/" + Workspace.ModelReportFile.metrics)
        var summary = "<code>\(HTMLPage.escape(model.folder))/\(Workspace.modelFileName)</code>."
        if let metrics {
            summary += String(format: " Evaluated on %d images: accuracy %.4f, macro-F1 %.4f.",
                              metrics["images"] as? Int ?? 0, (metrics["accuracy"] as? Double) ?? 0, (metrics["macroF1"] as? Double) ?? 0)
            summary += link("../models/\(model.name)/report/" + Workspace.ModelReportFile.metrics, "metrics.json")
                + link("../models/\(model.name)/report/" + Workspace.ModelReportFile.misclassified, "every mistake")
        } else {
            summary += " Not evaluated yet: <code>imgcls evaluate --model \(HTMLPage.escape(model.name))</code>."
        }
        page.paragraph(summary)
        if let curves = readFile(report + "/" + Workspace.ModelReportFile.curves) { page.figure(svg: curves, caption: "Training curves: loss and accuracy per epoch") }
        guard let metrics else { return }
        if let scores = metrics["perClass"] as? [[String: Any]] {
            page.table(["label", "precision", "recall", "F1", "images"], scores.map { c in
                [c["label"] as? String ?? "", String(format: "%.4f", c["precision"] as? Double ?? 0),
                 String(format: "%.4f", c["recall"] as? Double ?? 0), String(format: "%.4f", c["f1"] as? Double ?? 0), "\(c["support"] as? Int ?? 0)"]
            }, caption: "Per class")
        }
        if let confusion = readFile(report + "/" + Workspace.ModelReportFile.confusion) { page.figure(svg: confusion, caption: "Confusion matrix: rows are the true labels, columns the predicted") }
        let misses = ((metrics["misclassified"] as? [[String: Any]]) ?? []).prefix(Self.mistakesShown)
        if !misses.isEmpty {
            page.heading(3, "Most confident mistakes")
            page.thumbnailRow(misses.map { miss in
                let path = miss["path"] as? String ?? ""
                return HTMLPage.Thumbnail(file: path, source: path, title: HTMLPage.fileName(path),
                                          lines: ["is \(miss["label"] as? String ?? "")",
                                                  String(format: "predicted %@ %.2f", miss["predicted"] as? String ?? "", miss["confidence"] as? Double ?? 0)],
                                          good: false)
            })
        }
    }

    // MARK: Reading the stages' files

    /// The models folder's models, by name.
    private func modelFolders() -> [(name: String, folder: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspace.modelsFolder)) ?? []
        return names.sorted().map { ($0, workspace.modelFolder($0)) }
            .filter { FileIO.kind(of: $0.folder + "/" + Workspace.modelFileName) == .file }
    }

    private func readJSON(_ path: String) -> [String: Any]? {
        guard let bytes = try? FileIO.read(path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    private func readFile(_ path: String) -> [UInt8]? { try? FileIO.read(path) }

    /// A link to a file of the reports folder (relative to it), only when that file exists.
    private func link(_ relative: String, _ text: String) -> String {
        guard FileIO.kind(of: reportsFolder + "/" + relative) == .file else { return "" }
        let href = relative.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }  // a model named "a b#1"
            .joined(separator: "/")
        return " <a href=\"\(HTMLPage.escape(href))\">\(HTMLPage.escape(text))</a>"
    }
}
