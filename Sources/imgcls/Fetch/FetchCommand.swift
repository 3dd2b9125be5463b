import ArgumentParser
import Console
import Fetch
import Foundation
import StageContract

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

    @OptionGroup var manifest: ManifestOptions
    @Flag(help: "Retry URLs that failed in earlier runs.") var retryFailed = false
    @Flag(help: "Read the manifests into the catalog and stop: fetch nothing.") var dryRun = false
    @Flag(help: "The inputs are web pages: download the images they show (see `imgcls scrape`).") var page = false
    @Flag(help: "Print the run summary as JSON.") var json = false

    @OptionGroup(title: "Pages (with --page)") var pageOptions: PageOptions
    @OptionGroup(title: "Downloading") var engine: EngineOptions
    @OptionGroup(title: "Images") var processing: ProcessingOptions

    func validate() throws {
        if page && manifest.label == nil { throw ValidationError("--page needs --label: pages carry no labels") }
    }

    func run() throws {
        global.startLogging()
        var request = FetchRequest()
        if page { request.pages = inputs } else { request.manifests = inputs }
        (request.retryFailed, request.dryRun) = (retryFailed, dryRun)
        try request.apply(manifest)
        request.apply(pageOptions, engine, processing)
        let summary = try FetchReporter.run(request, workspace: global.workspaceFolder, quiet: global.quiet, json: json)
        // A completed shard's rerun changed nothing, and a scheduler may rerun thousands: the page stays.
        if !summary.alreadyComplete { global.updateReport() }
    }
}
