import ArgumentParser
import Foundation
import Review
import StageContract

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Look at the data in the browser and fix it: a local web app over the workspace's catalog.",
        discussion: """
            Opens http://127.0.0.1:8134/ (loopback only unless --host says otherwise, which needs --api-key): a grid \
            of the catalog's items, filtered by label, status, reason, flag, split or cluster and sorted by id, \
            label score, off-topic score, nsfw score or size, with counts beside each filter; an item's page with \
            its picture, hashes, scores and cluster side by side. Decide with the keys (? lists them): keep, \
            exclude with a reason, set a label (the suggested one, any, or a new one), on one item, a selection or \
            every item matching the filter; u undoes. Each decision is journaled in the catalog with the change; \
            curate re-runs and --reset keep it; split and train use it after `imgcls split`.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The interface to bind: 127.0.0.1 unless you mean to serve other machines (then --api-key is required).") var host = "127.0.0.1"
    @Option(help: "The port.") var port = Workspace.reviewPort
    @Option(help: "Require this key (the browser asks for it as a password) (default: $IMGCLS_API_KEY when set).") var apiKey: String?
    @Option(help: "Seconds before closing a connection whose headers or body stop arriving, or that sits idle.") var idleTimeout = 60.0
    @Option(help: "Open connections at most; beyond, new ones are closed at once (and a line logged).") var maxConnections = 512

    func run() async throws {
        global.startLogging()
        var options = ReviewOptions(workspace: global.workspaceFolder)
        (options.host, options.port, options.idleTimeoutSeconds, options.maxConnections) = (host, port, idleTimeout, maxConnections)
        options.apiKey = apiKey ?? ProcessInfo.processInfo.environment["IMGCLS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let server = try ReviewServer(options)
        let (quiet, root, host) = (global.quiet, options.workspace.root, options.host)
        try await server.run { port in
            if !quiet {
                let shown = host.contains(":") ? "[\(host)]" : host
                FileHandle.standardOutput.write(Data("reviewing \(root) on http://\(shown):\(port)/ (Ctrl-C to stop)\n".utf8))
            }
        }
    }
}
