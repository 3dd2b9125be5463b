import ArgumentParser
import Catalog
import Console
import Fetch
import Foundation

struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download labelled images from URL manifests (or web pages) into the workspace.",
        discussion: """
            Manifests: text files with one URL per line, folders of them (the label is the first folder under \
            the one given, as in nsfw_data_scraper's raw_data/<class>/urls_<class>.txt), CSV/TSV with a header, \
            JSON Lines, any of them gzip-compressed, or - for standard input. Every URL becomes a catalog row; \
            re-running the same command skips what is done, so a stopped or killed run just continues.

            Exit status: 0 when the run completed (every URL tried, even if some failed: see the table and \
            reports/fetch.json) and reports/shard.json, its completion marker, was written last; 75 when it \
            stopped first (Ctrl-C, SIGTERM: run it again to continue); 1 when it could not run (bad manifest, \
            unwritable workspace). A completed run given the same manifests and --shard again is a quick no-op.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Manifest files or folders, or - for standard input (with --page: page URLs).")
    var inputs: [String]

    @Option(help: "The label for every URL (instead of folder names or a label column).") var label: String?
    @Option(help: "A file mapping categories to labels, lines like \"hentai*: porn\" (unmapped categories are skipped).")
    var labelMap: String?
    @Option(help: "Manifest format when the file name does not say: text, csv, tsv, jsonl.") var format: ManifestFormat?
    @Option(help: "CSV/TSV/JSON Lines: the column holding URLs.") var urlColumn = "url"
    @Option(help: "CSV/TSV/JSON Lines: the column holding labels.") var labelColumn = "label"
    @Option(help: "Take share K of N of the manifest (by URL hash), as in --shard 2/8.") var shard: String?
    @Option(help: "With --shard: hash each url, or each host (one process then owns each host's politeness).")
    var shardBy: ShardKey = .url
    @Flag(help: "Retry URLs that failed in earlier runs.") var retryFailed = false
    @Flag(help: "Read the manifests into the catalog and stop: fetch nothing.") var dryRun = false
    @Flag(help: "The inputs are web pages: download the images they show (see `imgcls scrape`).") var page = false
    @Flag(help: "Print the run summary as JSON.") var json = false

    @OptionGroup(title: "Pages (with --page)") var pageOptions: PageOptions
    @OptionGroup(title: "Downloading") var engine: EngineOptions
    @OptionGroup(title: "Images") var processing: ProcessingOptions

    func validate() throws {
        if page && label == nil { throw ValidationError("--page needs --label: pages carry no labels") }
        if label != nil && labelMap != nil { throw ValidationError("use --label or --label-map, not both") }
    }

    func run() throws {
        global.startLogging()
        var request = FetchRequest()
        if page { request.pages = inputs } else { request.manifests = inputs }
        request.label = try label.map { try Label($0) }
        request.labelMap = try labelMap.map { try LabelMap(contentsOf: $0) }
        request.format = format
        request.urlColumn = urlColumn
        request.labelColumn = labelColumn
        request.shard = try shard.map { try Shard(parsing: $0, by: shardBy) }
        request.retryFailed = retryFailed
        request.dryRun = dryRun
        request.apply(pageOptions, engine, processing)
        let summary = try FetchReporter.run(request, workspace: global.workspaceFolder, quiet: global.quiet, json: json)
        // A completed shard's rerun changed nothing, and a scheduler may rerun thousands: the page stays.
        if !summary.alreadyComplete { global.updateReport() }
    }
}

struct ScrapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrape",
        abstract: "Download the images web pages show (img, srcset, lazy-load attributes, image links, og:image).",
        discussion: "The same as `imgcls fetch --page`. With --depth, same-host links are followed.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Page URLs.") var pages: [String]
    @Option(help: "The label for the images found.") var label: String
    @Flag(help: "Print the run summary as JSON.") var json = false

    @OptionGroup(title: "Pages") var pageOptions: PageOptions
    @OptionGroup(title: "Downloading") var engine: EngineOptions
    @OptionGroup(title: "Images") var processing: ProcessingOptions

    func run() throws {
        global.startLogging()
        var request = FetchRequest()
        request.pages = pages
        request.label = try Label(label)
        request.apply(pageOptions, engine, processing)
        try FetchReporter.run(request, workspace: global.workspaceFolder, quiet: global.quiet, json: json)
        global.updateReport()
    }
}

/// Runs a fetch with Ctrl-C handling and prints its summary.
enum FetchReporter {
    @discardableResult
    static func run(_ request: FetchRequest, workspace: Workspace, quiet: Bool, json: Bool) throws -> FetchSummary {
        let run = FetchRun(workspace: workspace, request: request, showProgress: !quiet && !json)
        // First Ctrl-C: finish the transfers in flight and commit; a second one quits at once.
        // SIGTERM too: schedulers (Slurm's scancel and time limit, GNU parallel's --timeout) send it first.
        let interruption = Interruption(signals: [SIGINT, SIGTERM],
                                        notice: "stopping: finishing transfers in flight (Ctrl-C again to quit now)") { run.stop() }
        defer { interruption.cancel() }
        let summary = try run.run()
        if summary.alreadyComplete {
            let shard = request.shard.map { "shard \($0) of these manifests" } ?? "this fetch"
            if json { try Output.printJSON(summary) } else {
                print("\(shard) already completed here (\(workspace.shardCompletionPath)): nothing to do")
            }
            return summary
        }
        if json {
            try Output.printJSON(summary)
        } else {
            print(text(summary, request: request, workspace: workspace))
        }
        // Not completed: a scheduler retries it, and the rerun continues where this one stopped.
        if !request.dryRun && (summary.stoppedEarly || summary.pending > 0) { throw ExitCode(75) }
        return summary
    }

    static func text(_ s: FetchSummary, request: FetchRequest, workspace: Workspace) -> String {
        var lines: [String] = []
        let i = s.ingest
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
            lines.append("dry run: nothing fetched; \(s.pending) URLs pending in \(workspace.catalogPath)")
            return lines.joined(separator: "\n")
        }
        if !request.pages.isEmpty {
            lines.append("pages: \(s.pagesScraped) scraped, \(s.pagesFailed) failed")
        }
        lines.append(String(format: "fetched %d in %@ (%.1f images/s, %.1f MB/s): ok %d, failed %d",
                            s.finished, ProgressBar.duration(s.seconds), s.imagesPerSecond, s.megabytesPerSecond,
                            s.byStatus["ok"] ?? 0, s.byStatus["failed"] ?? 0))
        if s.stoppedEarly { lines.append("stopped early: \(s.pending) URLs still pending; run the same command to continue") }
        if !s.byLabel.isEmpty {
            var table = TextTable(["label", "ok", "failed"])
            for (label, counts) in s.byLabel.sorted(by: { $0.key < $1.key }) {
                table.add([label, String(counts["ok"] ?? 0), String(counts["failed"] ?? 0)])
            }
            lines += ["", table.render()]
        }
        if !s.byReason.isEmpty {
            lines += ["", TextTable.counts(s.byReason, name: "reason", unit: "URLs").render()]
        }
        lines += ["", "report: \(workspace.report(FetchSummary.reportFileName))"]
        return lines.joined(separator: "\n")
    }
}
