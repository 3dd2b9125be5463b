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
