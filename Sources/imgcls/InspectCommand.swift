import ArgumentParser
import Console
import Files
import Foundation
import Imaging

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Check image files: format, size, and whether they decode (or why not).",
        discussion: """
            Each file is identified from its bytes, its header is checked against the limits, and it is fully \
            decoded. Folders are walked recursively (hidden files skipped). A rejected file gets a reason code: \
            empty, not_an_image, unsupported_format, truncated, corrupt, too_many_pixels, too_small, unreadable.

            Exit status: 0 when every file is valid, 1 when any was rejected, 64 for bad arguments.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Files or folders to inspect.")
    var paths: [String]

    @Flag(help: "Print JSON: {files: [...], summary: {...}}.")
    var json = false

    @Flag(help: "Read headers only: format and size, no full decode.")
    var headerOnly = false

    @Flag(help: "Also print each file's PDQ hash and quality (ThreatExchange's format; EXIF orientation not applied, as its tools hash files).")
    var pdq = false

    @Option(help: "Largest accepted image, in pixels (checked from the header).")
    var maxPixels = DecodeOptions().maxPixels

    @Option(help: "Smallest accepted side, in pixels.")
    var minSide = 1

    @Option(help: "Files decoded in parallel.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1") }
        if minSide < 1 { throw ValidationError("--min-side must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if pdq && headerOnly { throw ValidationError("--pdq decodes every file: it does not go with --header-only") }
        for path in paths where FileIO.kind(of: path) == .missing {
            throw ValidationError("\(path): no such file or folder")
        }
    }

    func run() throws {
        global.startLogging()
        var options = DecodeOptions()
        options.maxPixels = maxPixels
        options.minSide = minSide
        let inspector = ImageInspector(options: options, headerOnly: headerOnly, pdq: pdq)
        let progress = ProgressBar(title: "inspect", total: nil, enabled: !global.quiet && !json)
        var summary = InspectionSummary()
        let printer = InspectionPrinter(json: json)
        printer.begin()
        inspector.inspect(paths: InspectCommand.files(under: paths), threads: threads) { result in
            summary.add(result)
            printer.print(result)
            progress.advance()
        }
        progress.finish()
        printer.end(summary)
        if summary.rejected > 0 { throw ExitCode(1) }
    }

    /// Files named directly, and the files under named folders, lazily.
    static func files(under paths: [String]) -> some Sequence<String> {
        paths.lazy.flatMap { path in
            FileIO.kind(of: path) == .directory ? AnySequence(DirectoryWalker(root: path)) : AnySequence([path])
        }
    }
}

/// One line per file as results arrive (so a huge folder streams), as text or as one JSON document.
final class InspectionPrinter {
    let json: Bool
    private var printedAny = false

    init(json: Bool) {
        self.json = json
    }

    func begin() {
        if json { Swift.print("{\"files\": [", terminator: "") }
    }

    func print(_ result: Inspection) {
        if json {
            let separator = printedAny ? ",\n  " : "\n  "
            printedAny = true
            Swift.print(separator + ((try? Output.jsonString(result, pretty: false)) ?? "{}"), terminator: "")
            return
        }
        Swift.print(result.line)
    }

    func end(_ summary: InspectionSummary) {
        if json {
            let body = (try? Output.jsonString(summary, pretty: false)) ?? "{}"
            Swift.print("\n],\n\"summary\": \(body)}")
            return
        }
        Swift.print(summary.line)
    }
}
