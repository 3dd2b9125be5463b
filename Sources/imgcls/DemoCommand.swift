import ArgumentParser
import Console
import Demo
import Foundation
import StageContract

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline on a generated, served image set with planted faults (no internet needed).",
        discussion: """
            Draws four classes of pictures (circles, squares, stripes, checkers), serves them from a web server on \
            127.0.0.1 with the faults real URL lists have (duplicates, near duplicates, a placeholder behind many \
            URLs, one picture under two labels, truncated files, HTML served as images, 404s, redirects, a slow \
            URL), writes manifests in nsfw_data_scraper's layout, and runs fetch, curate, split, train, evaluate \
            and predict on them, then checks that every planted fault was found with its reason.
            """)

    @Option(help: "The folder for the demo's files and workspace (emptied first).") var folder = "demo-data"
    @Option(help: "Pictures per class.") var perClass = 300
    @Option(help: "Training epochs.") var epochs = 40
    @Flag(help: "Print only the stage summaries' last lines and the checks.") var quiet = false

    func run() throws {
        let started = Date()
        try? FileManager.default.removeItem(atPath: folder)
        let site = try DemoSite(folder: folder, perClass: perClass)
        defer { site.stop() }
        let workspace = folder + "/data"
        let common = ["--workspace", workspace] + (quiet ? ["--quiet"] : [])
        func stage(_ title: String, _ body: () throws -> Void) throws {
            print("\n== \(title)")
            try body()
        }
        try stage("imgcls fetch \(site.manifests) --validate (\(DemoPictures.classes.count * perClass) pictures and \(site.faults.count) planted faults served on \(site.server.baseURL))") {
            let command = try FetchCommand.parse([site.manifests, "--validate", "--timeout", String(DemoSite.slowSeconds / 2), "--retries", "0"] + common)
            try command.run()
        }
        try stage("imgcls curate") { let c = try CurateCommand.parse(common); try c.run() }
        try stage("imgcls split --ratio 0.8,0.2") { let c = try SplitCommand.parse(["--ratio", "0.8,0.2"] + common); try c.run() }
        // Drawn shapes need no ImageNet features: the demo shows the engine learning from nothing, and runs offline.
        try stage("imgcls train --name demo --epochs \(epochs) --from-scratch") {
            let c = try TrainCommand.parse(["--name", "demo", "--epochs", String(epochs), "--from-scratch"] + common)
            try c.run()
        }
        try stage("imgcls evaluate --model demo") { let c = try EvaluateCommand.parse(["--model", "demo", "--show", "3"] + common); try c.run() }
        try stage("imgcls predict --model demo (pictures no manifest listed; their class is in the file name)") {
            let c = try PredictCommand.parse(["--model", "demo", "--top-k", "2"] + site.heldOut.map(\.file) + common)
            try c.run()
        }
        print("\n== The planted faults, as the catalog reports them")
        let checks = try site.check(Workspace(root: workspace))
        print(site.checkText(checks))
        print(String(format: "\ndemo done in %.0f s. The model: %@/models/demo/model.safetensors; its report: %@/models/demo/report/",
                     Date().timeIntervalSince(started), workspace, workspace))
        print("The report page (open it in a browser): \(Workspace(root: workspace).report(Workspace.ReportFile.page))")
        print("""
            Next, serve it and classify a picture over HTTP:
              imgcls serve --workspace \(workspace) --model demo
              curl -H 'Content-Type: image/jpeg' --data-binary @\(site.heldOut[0].file) http://127.0.0.1:8133/v1/classify
            """)
        if checks.contains(where: { !$0.right }) { throw ExitCode(1) }
    }
}
