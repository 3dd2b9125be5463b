import ArgumentParser
import Assist
import Backbone
import Catalog
import Console
import Curate
import Foundation
import Train

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Register a folder of images (<label>/<files>) in the workspace, to curate, split and train on.",
        discussion: """
            The label of a file is the name of the first folder below the one given (or --label). Each file is \
            stored under raw/<label>/ by content (a hard link to the original when possible; --copy to copy). \
            Files that are not images get a failed row with the reason. Importing again adds only new files.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The folder to import.") var folder: String
    @Option(help: "The label for every file (instead of folder names).") var label: String?
    @Flag(help: "Copy files instead of hard-linking them.") var copy = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        global.startLogging()
        var request = ImportRequest(folder: folder)
        request.label = try label.map { try Label($0) }
        request.copy = copy
        let summary = try ImportRun(workspace: global.workspaceFolder, request: request).run()
        global.updateReport()
        if json { return try Output.printJSON(summary) }
        Self.print(summary)
    }

    static func print(_ summary: ImportSummary) {
        var text = "\(summary.files) files: \(summary.added) added, \(summary.alreadyKnown) already in the catalog"
        if !summary.rejected.isEmpty {
            text += "; rejected: " + summary.rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        Swift.print(text)
        if !summary.byLabel.isEmpty {
            Swift.print("")
            Swift.print(TextTable.counts(summary.byLabel, name: "label", unit: "added").render())
        }
    }
}

struct CurateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curate",
        abstract: "Validate, de-duplicate and flag the workspace's images; decide what to keep.",
        discussion: """
            Every kept image is decoded in full; the invalid ones are excluded with their reason. Exact \
            duplicates (same decoded pixels) and near duplicates (pHash within --near bits, confirmed by the \
            256-bit detail hash within --verify bits) keep one item each (the largest); a picture under two \
            labels is a label_conflict; the same bytes behind --placeholder-sources URLs is a placeholder. Quality \
            flags (blurry, dark, light, low_information, grayscale, odd_aspect, odd_size) are reported and \
            exclude only with --exclude. With an installed backbone (imgcls backbone install), model-assisted \
            curation on its features: --label-issues flags label_issue where confident learning says the label \
            is wrong (suggested label in the catalog; accept corrections with imgcls relabel), \
            --semantic-duplicates excludes crops, rotations, flips and re-framings of a kept picture as \
            semantic_duplicate (clustered, so the split keeps them together), --off-topic flags images far from \
            every class (report: data/reports/assist.md). Nothing is deleted: \
            re-running starts over, --reset undoes it. Reports: \
            data/reports/curate.{json,md} and contact sheets in data/reports/curate/. --from DIR imports a \
            <label>/<files> folder first, as imgcls import does.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Import this <label>/<files> folder first (as `imgcls import DIR` does).") var from: String?
    @Option(help: "Near-duplicate candidates: pHash distance (of 64 bits).") var near = CurateRequest().near
    @Option(help: "Near-duplicate confirmation: detail-hash distance (of 256 bits).") var verify = CurateRequest().verify
    @Option(help: "Identical bytes behind this many URLs are a placeholder.") var placeholderSources = CurateRequest().placeholderSources
    @Option(help: "Quality flags that exclude, comma-separated (e.g. blurry,dark).") var exclude: String?
    @Flag(help: "Keep near duplicates (clustered, so the split keeps them together).") var keepNearDuplicates = false
    @Option(help: "Smallest accepted side, in pixels.") var minSide = 1
    @Option(help: "Largest accepted ratio of longer to shorter side.") var maxAspect: Double?
    @Option(help: "Largest accepted image, in pixels.") var maxPixels = CurateRequest().maxPixels
    @Option(help: "Files decoded in parallel.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Decode every file again, even those measured by an earlier run.") var reanalyze = false
    @Flag(help: "Undo curation (every excluded item is kept again) and stop.") var reset = false
    @Flag(help: "Also find images whose label looks wrong (confident learning on a backbone's features): flag label_issue, with a suggested label.")
    var labelIssues = false
    @Flag(help: "Also exclude pictures the backbone sees as the same as a kept one (crops, rotations, flips): semantic_duplicate.")
    var semanticDuplicates = false
    @Flag(help: "Also flag images far from every class (banners, logos, text): off_topic.") var offTopic = false
    @Option(help: "With --label-issues, --semantic-duplicates or --off-topic: the installed backbone (see `imgcls backbone list`).")
    var backbone = "efficientnet-lite0"
    @Option(help: "With --label-issues or --off-topic: cross-validation folds.") var folds = 5
    @Option(help: "With --semantic-duplicates: the cosine similarity of pooled features at which two pictures are checked with local features.")
    var semanticThreshold = Double(SemanticIndex.defaultThreshold)
    @Option(help: "With --semantic-duplicates: corners that must agree on one transform (crop, scale, turn, mirror) to confirm a pair; 0: the cosine alone decides (then use --semantic-threshold 0.95).")
    var semanticInliers = PairVerification().minimumInliers
    @Flag(inversion: .prefixedNo, help: "With --semantic-duplicates: search each picture turned a quarter too, to find copies turned 90° (features computed twice).")
    var semanticQuarterTurns = true
    @Option(help: "With --off-topic: robust deviations below every class's typical similarity to its centre.")
    var offTopicScore = OffTopic.Rule().minimumScore
    @Option(help: "With --off-topic: only images whose best held-out class probability is at most this.")
    var offTopicProbability = OffTopic.Rule().maximumProbability
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if folds < 2 { throw ValidationError("--folds must be at least 2") }
        if try flags().contains(.labelIssue) && !labelIssues {
            throw ValidationError("--exclude label_issue goes with --label-issues, which finds them")
        }
        if try flags().contains(.offTopic) && !offTopic {
            throw ValidationError("--exclude off_topic goes with --off-topic, which finds them")
        }
        if !(0.5...1).contains(semanticThreshold) { throw ValidationError("--semantic-threshold must be between 0.5 and 1") }
        if semanticInliers < 0 { throw ValidationError("--semantic-inliers must be 0 (no check) or more") }
        if !(0...1).contains(offTopicProbability) { throw ValidationError("--off-topic-probability must be between 0 and 1") }
        if !(0...32).contains(near) { throw ValidationError("--near must be between 0 and 32") }
        if !(0...128).contains(verify) { throw ValidationError("--verify must be between 0 and 128") }
        if placeholderSources < 2 { throw ValidationError("--placeholder-sources must be at least 2") }
        if let maxAspect, maxAspect < 1 { throw ValidationError("--max-aspect must be at least 1") }
        if reset && from != nil { throw ValidationError("--reset and --from do not go together: --reset only undoes curation") }
        _ = try flags()
    }

    func flags() throws -> Set<QualityFlag> {
        guard let exclude else { return [] }
        return Set(try exclude.split(separator: ",").map { name in
            guard let flag = QualityFlag(rawValue: String(name).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--exclude: unknown flag \(name); the flags are \(QualityFlag.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return flag
        })
    }

    func run() throws {
        global.startLogging()
        let workspace = global.workspaceFolder
        if let from {  // validate() refuses it with --reset
            let imported = try ImportRun(workspace: workspace, request: ImportRequest(folder: from)).run()
            if !json {
                ImportCommand.print(imported)
                print("")
            }
        }
        if reset {
            let restored = try CurateRun.reset(workspace)
            global.updateReport()
            print("reset: \(restored) excluded items are kept again; flags, clusters and splits cleared")
            return
        }
        var request = CurateRequest()
        request.near = near
        request.verify = verify
        request.placeholderSources = placeholderSources
        request.exclude = try flags()
        request.keepNearDuplicates = keepNearDuplicates
        request.minSide = minSide
        request.maxAspect = maxAspect
        request.maxPixels = maxPixels
        request.threads = threads
        request.reanalyze = reanalyze
        let summary = try CurateRun(workspace: workspace, request: request, showProgress: !global.quiet && !json).run()
        var assisted: AssistSummary?
        if labelIssues || semanticDuplicates || offTopic {
            var assist = AssistRequest(backbone: BackboneReference(name: backbone, modelFile: try BackboneStore().installedModel(backbone)))
            assist.labelIssues = labelIssues
            assist.semanticDuplicates = semanticDuplicates
            assist.offTopic = offTopic
            assist.crossValidation.folds = folds
            assist.semanticThreshold = Float(semanticThreshold)
            assist.semanticQuarterTurns = semanticQuarterTurns
            if semanticInliers == 0 { assist.semanticVerification = nil } else { assist.semanticVerification?.minimumInliers = semanticInliers }
            assist.keepSemanticDuplicates = keepNearDuplicates
            assist.offTopicRule.minimumScore = offTopicScore
            assist.offTopicRule.maximumProbability = offTopicProbability
            assist.exclude = request.exclude.intersection([.labelIssue, .offTopic])
            assist.showProgress = !global.quiet && !json
            assisted = try AssistRun(workspace: workspace, request: assist).run()
        }
        global.updateReport()
        if json {
            guard let assisted else { return try Output.printJSON(summary) }
            struct Both: Encodable { let curate: CurateSummary, assist: AssistSummary }
            return try Output.printJSON(Both(curate: summary, assist: assisted))
        }
        print(String(format: "%d images: %d kept, %d excluded (%d decoded in %.1f s, %.0f images/s)", summary.items, summary.kept,
                     summary.excluded, summary.analyzed, summary.seconds, summary.imagesPerSecond))
        if !summary.byReason.isEmpty { print("\n" + TextTable.counts(summary.byReason, name: "excluded", unit: "items").render()) }
        if !summary.flags.isEmpty { print("\n" + TextTable.counts(summary.flags, name: "flag", unit: "items").render()) }
        print("\n\(summary.duplicateGroups) groups of identical pictures, \(summary.nearDuplicateClusters) near-duplicate clusters (largest \(summary.largestCluster))")
        if let assisted { print("\n" + Self.text(assisted)) }
        print("report: \(workspace.report(CurateSummary.reportFiles.markdown)) (contact sheets in \(workspace.path(Workspace.contactSheetsFolder.workspace))/)")
        if assisted != nil { print("model-assisted: \(workspace.report(Workspace.ReportFile.assistMarkdown))") }
    }

    static func text(_ s: AssistSummary) -> String {
        var lines = [String(format: "model-assisted curation of %d kept images (%@ features %.1f s, %.1f s in all)", s.items, s.backbone,
                            s.featureSeconds, s.seconds)]
        if let issues = s.labelIssues {
            lines.append("label issues: \(issues.found.count) (flag label_issue, suggested label in the catalog\(issues.excluded > 0 ? ", \(issues.excluded) excluded" : ""); imgcls relabel --export FILE to review)")
            var table = TextTable(["image", "label", "suggested", "self-confidence"])
            for found in issues.found.prefix(20) {
                table.add([found.image.path, found.image.label, found.suggested, String(format: "%.3f", found.selfConfidence)])
            }
            if !issues.found.isEmpty { lines.append(table.render()) }
            if issues.found.count > 20 { lines.append("… \(issues.found.count - 20) more in the report") }
        }
        if let duplicates = s.semanticDuplicates {
            lines.append(String(format: "semantic duplicates: %d candidate pairs at cosine >= %.3f (%@ search%@), %d confirmed (local features; cosine >= 0.95 where too small or plain), %d clusters, %d excluded",
                                duplicates.candidates, duplicates.threshold, duplicates.search, duplicates.quarterTurns ? ", with quarter turns" : "",
                                duplicates.pairs, duplicates.clusters.count, duplicates.excluded))
        }
        if let offTopic = s.offTopic {
            lines.append("off-topic: \(offTopic.found.count) (flag off_topic\(offTopic.excluded > 0 ? ", \(offTopic.excluded) excluded" : ""))")
            var table = TextTable(["image", "label", "score", "best probability"])
            for found in offTopic.found.prefix(10) {
                table.add([found.image.path, found.image.label, String(format: "%.1f", found.score), String(format: "%.3f", found.bestProbability)])
            }
            if !offTopic.found.isEmpty { lines.append(table.render()) }
        }
        return lines.joined(separator: "\n")
    }
}

/// `imgcls relabel`: a person's corrections of label issues, through a CSV.
struct RelabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relabel",
        abstract: "Apply label corrections you accepted: export the label issues as CSV, fill in new_label, apply it.",
        discussion: """
            imgcls relabel --export issues.csv writes the items curate --label-issues flagged (id, source, path, \
            label, suggested_label, label_score, new_label). Fill in new_label where you agree (the suggestion \
            or another label; leave it empty to keep the label) and run imgcls relabel issues.csv. Changed items \
            lose the label_issue flag and their split; split again afterwards. Every row is checked before \
            anything changes.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The edited CSV to apply.") var file: String?
    @Option(help: "Write the label issues to this CSV instead.") var export: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if (file == nil) == (export == nil) { throw ValidationError("give either an edited CSV to apply or --export FILE") }
    }

    func run() throws {
        global.startLogging()
        let workspace = global.workspaceFolder
        if let export {
            let count = try Relabel.export(workspace, to: export)
            if json { return try Output.printJSON(["exported": count]) }
            print("\(count) label issues written to \(export): fill in new_label where you agree, then imgcls relabel \(export)")
            return
        }
        let summary = try Relabel.apply(file!, to: workspace)
        global.updateReport()
        if json { return try Output.printJSON(summary) }
        print("\(summary.relabelled) of \(summary.rows) rows relabelled, \(summary.unchanged) left as they were; run imgcls split again")
    }
}

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
        o.kfold = kfold
        o.maxPerClass = maxPerClass
        o.oversample = oversample
        o.seed = seed
        o.mode = mode
        o.minClass = minClass
        return o
    }

    func validate() throws { _ = try request() }

    func run() throws {
        global.startLogging()
        let workspace = global.workspaceFolder
        let summary = try SplitRun(workspace: workspace, request: try request()).run()
        global.updateReport()
        if json { return try Output.printJSON(summary) }
        let splits = summary.counts.keys.sorted { order($0) < order($1) }
        let labels = Set(summary.counts.values.flatMap(\.keys)).sorted()
        var table = TextTable(["label"] + splits)
        for label in labels { table.add([label] + splits.map { String(summary.counts[$0]?[label] ?? 0) }) }
        table.add(["(all)"] + splits.map { String(summary.counts[$0]?.values.reduce(0, +) ?? 0) })
        print(table.render())
        for (label, extra) in summary.oversampled.sorted(by: { $0.key < $1.key }) {
            print("oversampled: \(label) +\(extra) copies in train")
        }
        for (label, size) in summary.smallClasses.sorted(by: { $0.key < $1.key }) {
            print("warning: \(label) has only \(size) image\(size == 1 ? "" : "s") (fewer than --min-class \(minClass))")
        }
        print("leakage check: \(summary.crossSplitPairs) near-duplicate pairs across splits")
        print("\(summary.leftOut) items left out (not kept by fetch, import or curate); folders: "
              + summary.folders.map { workspace.path($0) }.joined(separator: ", ") + "; list: \(workspace.splitListPath)")
    }

    /// Train, validation and test first, then the folds' parts by name.
    private func order(_ split: String) -> (Int, String) {
        (Split(rawValue: split).flatMap { Split.allCases.firstIndex(of: $0) } ?? Split.allCases.count, split)
    }
}

extension LinkMode: ExpressibleByArgument {}
