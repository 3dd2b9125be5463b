import ArgumentParser
import Console
import Curate
import Foundation
import StageContract

struct SplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Split the kept images into train/validation[/test] folders, stratified and without leakage.",
        discussion: """
            Each label is split on its own; near-duplicate clusters stay on one side, and the leakage check \
            prints the near-duplicate pairs that cross splits (0 expected). Folders: data/train/<label>/, \
            data/validation/<label>/, data/test/<label>/ (or data/folds/<k>/… with --kfold), as hard links by \
            default; data/splits.csv lists every file, data/reports/split.json the counts. The same items and --seed give byte-identical results; \
            re-splitting replaces the folders.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Fractions for train,validation[,test].") var ratio = "0.8,0.2"
    @Option(help: "Fixed counts per class for validation[,test]; the rest trains.") var fixed: String?
    @Option(help: "K folds instead of one split.") var kfold: Int?
    @Option(help: "Use at most this many images per class.") var maxPerClass: Int?
    @Flag(help: "Repeat images of smaller classes in train until classes are balanced.") var oversample = false
    @Option(help: "The random seed.") var seed: UInt64 = 1
    @Option(help: "hardlink, copy or symlink.") var mode = LinkMode.hardlink
    @Option(help: "Warn about classes smaller than this.") var minClass = 10
    @Flag(help: "Print the summary as JSON.") var json = false

    func request() throws -> SplitRequest {
        var o = SplitRequest()
        let ratios = ratio.split(separator: ",").compactMap { Double($0) }
        guard (2...3).contains(ratios.count), ratios.allSatisfy({ $0 >= 0 }), abs(ratios.reduce(0, +) - 1) < 1e-6 else {
            throw ValidationError("--ratio takes two or three fractions that add up to 1, as in 0.8,0.2 or 0.7,0.15,0.15")
        }
        o.ratios = ratios
        if let fixed {
            let counts = fixed.split(separator: ",").compactMap { Int($0) }
            guard (1...2).contains(counts.count), counts.allSatisfy({ $0 >= 0 }) else {
                throw ValidationError("--fixed takes one or two counts, as in 20 or 20,20")
            }
            o.fixed = counts
        }
        if let kfold, kfold < 2 { throw ValidationError("--kfold must be at least 2") }
        (o.kfold, o.maxPerClass, o.oversample, o.seed, o.mode, o.minClass) = (kfold, maxPerClass, oversample, seed, mode, minClass)
        return o
    }

    func validate() throws { _ = try request() }

    func run() throws {
        global.startLogging()
        let workspace = global.workspaceFolder
        let summary = try SplitRun(workspace: workspace, request: try request()).run()
        global.updateReport()
        if json { return try Output.printJSON(summary) }
        print(summary.text(workspace: workspace, minClass: minClass))
    }
}

extension LinkMode: ExpressibleByArgument {}
