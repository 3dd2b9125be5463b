import ArgumentParser
import Files
import Foundation
import Imaging

/// JPEG decode throughput of `Imaging` next to libjpeg-turbo's `djpeg -outfile /dev/null` on the same files,
/// in one run. Both decode to RGB with the same (default, accurate) IDCT on one thread. djpeg pays a process
/// start per file: the report measures it on a tiny JPEG and compares against djpeg with it taken off, which
/// is the harder comparison for imgcls.
struct BenchJPEGDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-jpeg-decode", abstract: "Compare JPEG decode megapixels/s with djpeg.")

    @Argument(help: "A folder of JPEG files.") var folder: String
    @Option(help: "Rounds; each runs both tools over all files, alternating, and the best round counts.")
    var rounds = 3
    @Option(help: "Path of djpeg.") var djpeg = "/usr/bin/djpeg"
    @OptionGroup var output: MeasuredValues

    func run() throws {
        let files = DirectoryWalker(root: folder).filter { $0.hasSuffix(".jpg") || $0.hasSuffix(".jpeg") }
        guard !files.isEmpty else { throw ValidationError("\(folder): no .jpg files") }
        guard FileManager.default.isExecutableFile(atPath: djpeg) else {
            throw ValidationError("\(djpeg) not found: install libjpeg-turbo-progs")
        }
        let contents = try files.map { try FileIO.read($0) }
        let megapixels = try contents.reduce(0.0) { sum, bytes in
            let info = try ImageProbe.probe(bytes)
            return sum + Double(info.pixelCount) / 1e6
        }
        var best = (imgcls: Double.infinity, djpeg: Double.infinity)
        for round in 1...rounds {
            let ours = try time {
                for bytes in contents { _ = try ImageDecoder.decode(bytes) }
            }
            let theirs = try time {
                for file in files { try spawn(djpeg, ["-outfile", "/dev/null", file]) }
            }
            best = (min(best.imgcls, ours), min(best.djpeg, theirs))
            print(String(format: "round %d: imgcls %.3f s, djpeg %.3f s", round, ours, theirs))
        }
        let tiny = NSTemporaryDirectory() + "imgcls-bench-tiny-\(getpid()).jpg"
        try FileIO.writeAtomically(try RGBImage(width: 8, height: 8).jpegData(), to: tiny)
        defer { unlink(tiny) }
        let startup = try time { for _ in 0..<50 { try spawn(djpeg, ["-outfile", "/dev/null", tiny]) } } / 50
        let oursRate = megapixels / best.imgcls
        let theirRate = megapixels / best.djpeg
        let theirDecodeRate = megapixels / max(1e-9, best.djpeg - startup * Double(files.count))
        output.report([String(format: "%d files, %.1f megapixels, best of %d rounds, one thread each", files.count, megapixels, rounds),
                       String(format: "imgcls                     %8.1f MP/s", oursRate),
                       String(format: "djpeg, process per file    %8.1f MP/s", theirRate),
                       String(format: "djpeg, minus %.2f ms start %8.1f MP/s", startup * 1000, theirDecodeRate),
                       String(format: "ratio imgcls/djpeg: %.2f (%.2f against djpeg without its process start; goal: at least 0.90)",
                              oursRate / theirRate, oursRate / theirDecodeRate)].joined(separator: "\n"),
                      ["imgcls_mp_per_second": oursRate, "djpeg_mp_per_second": theirRate, "djpeg_decode_mp_per_second": theirDecodeRate])
    }

    private func time(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// posix_spawn and wait: Foundation's Process costs tens of milliseconds per start here, which would
    /// flatter imgcls.
    private func spawn(_ path: String, _ arguments: [String]) throws {
        var pid: pid_t = 0
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else {
            throw ValidationError("cannot start \(path)")
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else {
            throw ValidationError("\(path) \(arguments.joined(separator: " ")) failed with status \(status)")
        }
    }
}
