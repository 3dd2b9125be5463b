import ArgumentParser
import Console
import Fetch
import Foundation
import StageContract

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
