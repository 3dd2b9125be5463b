import ArgumentParser
import Files
import Foundation
import Imaging

struct BenchResize: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-resize", abstract: "Time decode and resize steps.")
    @Argument var folder: String
    @Option var limit = 300
    func run() throws {
        let files = Array(DirectoryWalker(root: folder).filter { $0.hasSuffix(".jpg") }.prefix(limit))
        let bytes = try files.map { try FileIO.read($0) }
        func time(_ name: String, _ body: () throws -> Void) rethrows {
            let t = DispatchTime.now().uptimeNanoseconds
            try body()
            print(name, Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6 / Double(files.count), "ms/image")
        }
        var images: [RGBImage] = []
        try time("full decode") { images = try bytes.map { try ImageDecoder.decode($0) } }
        var scaled: [RGBImage] = []
        try time("scaled decode") { scaled = try bytes.map { b in
            let info = try ImageProbe.probe(b)
            var o = DecodeOptions.thumbnail(of: info, minimumSide: 256); o.fastJPEG = false
            return try ImageDecoder.decode(b, options: o) } }
        try time("scaled fast decode") { _ = try bytes.map { b in
            let info = try ImageProbe.probe(b)
            return try ImageDecoder.decode(b, options: DecodeOptions.thumbnail(of: info, minimumSide: 256)) } }
        var small: [RGBImage] = []
        BenchResize.passes(scaled)
        time("resize from scaled") { small = scaled.map { $0.resized(mode: .keepRatio, size: 256) } }
        time("resize from full") { _ = images.map { $0.resized(mode: .keepRatio, size: 256) } }
        try time("encode 256") { _ = try small.map { try $0.jpegData(quality: 95) } }
        time("sha256") { _ = bytes.map { SHA256.hex($0) } }
    }
}
extension BenchResize {
    static func passes(_ images: [RGBImage]) {
        var t = DispatchTime.now().uptimeNanoseconds
        var r: [RGBImage] = []
        for im in images { r.append(im.resized(width: 341, height: im.height)) }
        print("rows pass", Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6 / Double(images.count))
        t = DispatchTime.now().uptimeNanoseconds
        for im in images { _ = im.resized(width: im.width, height: 256) }
        print("columns pass", Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6 / Double(images.count))
        print("avg size", images.map { $0.width * $0.height }.reduce(0, +) / images.count)
    }
}
