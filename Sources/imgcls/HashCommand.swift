import ArgumentParser
import Files
import Foundation
import HashLists

struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the PDQ hash, quality, MD5 and SHA-256 of image files, as a hash list.",
        discussion: """
            The output is CSV with a header (pdq, quality, md5, sha256, [label,] file), the format hash lists are \
            read in, so a list of pictures you have reviewed is one redirect away: imgcls hash --label banned \
            reviewed/ > banned.csv. PDQ is ThreatExchange's perceptual hash (two pictures match at 31 bits or less; \
            lists use quality 50 or more), of the pixels as stored (EXIF orientation not applied, as its tools hash). \
            Files that are not images are reported on standard error with their reason; the exit status is then 1.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Files or folders (walked recursively).") var paths: [String]
    @Option(help: "A label for every row (a list name, a class).") var label: String?
    @Option(help: "Files hashed in parallel.") var threads = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        for path in paths where FileIO.kind(of: path) == .missing { throw ValidationError("\(path): no such file or folder") }
        if let label, label.isEmpty || label.utf8.count > 200 || label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ValidationError("--label must be 1 to 200 bytes without control characters")
        }
    }

    func run() throws {
        global.startLogging()
        print(HashListWriter.header(label: label != nil))
        var failed = 0
        let label = label
        parallelMap(InspectCommand.files(under: paths), threads: threads) { file in (file, HashListWriter.row(file: file, label: label)) } consume: { file, row in
            switch row {
            case .success(let line): print(line)
            case .failure(let error):
                failed += 1
                FileHandle.standardError.write(Data("\(file): \(error.reason.rawValue) (\(error.detail))\n".utf8))
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
