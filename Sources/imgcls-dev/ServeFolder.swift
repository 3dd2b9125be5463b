import ArgumentParser
import Demo
import Files
import Foundation
import LoopbackHTTP

/// Serves a folder over HTTP on 127.0.0.1, for the demo (a fetch with no internet needed).
struct ServeFolder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-folder", abstract: "Serve a folder's files on 127.0.0.1 until killed.")

    @Argument(help: "The folder to serve.") var folder: String
    @Option(help: "The port (0: any free one).") var port = 0
    @Option(help: "Write the chosen port to this file.") var portFile: String?

    func run() throws {
        let root = folder
        let server = try LoopbackHTTPServer(port: port) { request in
            let relative = request.path.removingPercentEncoding ?? request.path
            guard !relative.contains(".."), let bytes = try? FileIO.read(root + relative) else { return .status(404, "not found") }
            let type: String
            switch (relative as NSString).pathExtension.lowercased() {
            case "jpg", "jpeg": type = "image/jpeg"
            case "png": type = "image/png"
            case "gif": type = "image/gif"
            case "webp": type = "image/webp"
            case "html": type = "text/html"
            default: type = "application/octet-stream"
            }
            return .ok(bytes, contentType: type)
        }
        if let portFile { try FileIO.writeAtomically(Array("\(server.port)\n".utf8), to: portFile) }
        print("serving \(root) at \(server.baseURL)")
        while true { sleep(3600) }
    }
}

/// Serves the demo's web site (good pictures and planted faults) on 127.0.0.1 until killed, its manifests in
/// FOLDER/raw_data: what the scale-out tests fetch through Slurm and GNU parallel.
struct ServeDemoSite: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-demo-site", abstract: "Serve the demo's pictures and faults on 127.0.0.1 until killed.")

    @Argument(help: "The folder for its manifests (FOLDER/raw_data).") var folder: String
    @Option(help: "Pictures per class.") var perClass = 20
    @Option(help: "Seconds every answer waits.") var delay = 0.0
    @Option(help: "The port (0: any free one).") var port = 0
    @Option(help: "Write the chosen port to this file (after the manifests are written).") var portFile: String?

    func run() throws {
        let site = try DemoSite(folder: folder, perClass: perClass, delay: delay, port: port)
        if let portFile { try FileIO.writeAtomically(Array("\(site.server.port)\n".utf8), to: portFile) }
        print("serving the demo site at \(site.server.baseURL); manifests in \(site.manifests)")
        while true { sleep(3600) }
    }
}
