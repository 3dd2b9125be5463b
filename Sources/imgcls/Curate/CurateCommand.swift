import ArgumentParser
import Assist
import Console
import Curate
import StageContract

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
            re-running starts over, --reset undoes it. Decisions made by hand in `imgcls review` stand: \
            re-runs and --reset keep them (--reset-manual forgets keep and exclude decisions too). Reports: \
            data/reports/curate.{json,md} and contact sheets in data/reports/curate/. --from DIR imports a \
            <label>/<files> folder first, as imgcls import does.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Import this <label>/<files> folder first (as `imgcls import DIR` does).") var from: String?
    @OptionGroup(title: "What is accepted") var acceptance: AcceptanceOptions
    @OptionGroup(title: "Duplicates") var duplicates: DuplicateOptions
    @OptionGroup(title: "Model-assisted curation") var assist: AssistOptions
    @Flag(help: "Undo curation (every excluded item is kept again, except those excluded by hand in `imgcls review`) and stop.") var reset = false
    @Flag(help: "With --reset: forget the keep and exclude decisions made by hand too (labels set by hand stay).") var resetManual = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        let flags = try acceptance.flags()
        if flags.contains(.labelIssue) && !assist.labelIssues {
            throw ValidationError("--exclude label_issue goes with --label-issues, which finds them")
        }
        if flags.contains(.offTopic) && !assist.offTopic { throw ValidationError("--exclude off_topic goes with --off-topic, which finds them") }
        if flags.contains(.nsfw) && !assist.nsfw { throw ValidationError("--exclude nsfw goes with --nsfw, which scores them") }
        if reset && from != nil { throw ValidationError("--reset and --from do not go together: --reset only undoes curation") }
        if resetManual && !reset { throw ValidationError("--reset-manual goes with --reset") }
    }

    /// Import (with --from), then curation, then the model-assisted analyses, each as its module runs it.
    func run() throws {
        global.startLogging()
        let workspace = global.workspaceFolder
        let showProgress = !global.quiet && !json
        if let from {  // validate() refuses it with --reset
            let imported = try ImportRun(workspace: workspace, request: ImportRequest(folder: from)).run()
            if !json { print(imported.text + "\n") }
        }
        if reset {
            let restored = try CurateRun.reset(workspace, manual: resetManual)
            global.updateReport()
            return print("reset: \(restored) excluded items are kept again; flags, clusters and splits cleared"
                         + (resetManual ? "; decisions made by hand forgotten" : "; decisions made by hand in imgcls review kept (--reset-manual forgets them)"))
        }
        var request = try CurateRequest(acceptance, duplicates)
        request.showProgress = showProgress
        let curated = try CurateRun(workspace: workspace, request: request).run()
        let assisted = try assist.request(after: request, showProgress: showProgress, note: global.note).map { try AssistRun(workspace: workspace, request: $0).run() }
        global.updateReport()
        if json {
            guard let assisted else { return try Output.printJSON(curated) }
            struct Both: Encodable { let curate: CurateSummary, assist: AssistSummary }
            return try Output.printJSON(Both(curate: curated, assist: assisted))
        }
        print(curated.text(workspace: workspace))
        if let assisted { print("\n" + assisted.text) }
        print(CurateSummary.reportLine(workspace: workspace))
        print(CurateSummary.reviewLine(workspace: workspace))
        if assisted != nil { print("model-assisted: \(workspace.report(Workspace.ReportFile.assistMarkdown))") }
    }
}
