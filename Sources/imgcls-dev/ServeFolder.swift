import ArgumentParser
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
