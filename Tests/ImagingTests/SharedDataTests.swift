import Files
import Foundation
import Imaging
import SampleImages
import Testing

/// The real suites in ../shared/data/badimages (skipped when the folder is absent).
@Suite(.enabled(if: SharedTestData.path("badimages") != nil, "../shared/data/badimages is absent"))
struct SharedDataTests {
    let root = SharedTestData.path("badimages") ?? ""

    /// What `inspect` must say about each file: rejected for the corrupt suites, unsupported for the 12-bit
    /// JPEG, not an image for the documentation next to the images, valid for every other image.
    @Test func everyFileIsClassified() {
        let inspector = ImageInspector()
        let imageExtensions: Set = ["png", "jpg", "bmp", "ppm", "pgm"]
        var checked = 0
        inspector.inspect(paths: DirectoryWalker(root: root), threads: 2) { result in
            checked += 1
            let name = (result.path as NSString).lastPathComponent
            let ext = (name as NSString).pathExtension.lowercased()
            if result.path.contains("/crashers/") || (result.path.contains("/pngsuite/png/") && name.hasPrefix("x")) {
                #expect(result.reason == .corrupt, "\(result.path) should be rejected as corrupt, got \(String(describing: result.reason))")
            } else if name == "monkey12.jpg" {
                #expect(result.reason == .unsupportedFormat)
            } else if imageExtensions.contains(ext) {
                #expect(result.isValid, "\(result.path): \(result.message ?? "")")
            } else {
                #expect(result.reason == .notAnImage || result.reason == .empty, "\(result.path)")
            }
        }
        #expect(checked > 300)
    }

    /// PngSuite files that hold the same picture in different encodings (interlacing, zlib level, IDAT
    /// split, extra chunks) decode to identical RGB.
    @Test func samePictureInDifferentEncodingsDecodesIdentically() throws {
        let suite = root + "/pngsuite/png/"
        var groups: [[String]] = [
            ["z00n2c08", "z03n2c08", "z06n2c08", "z09n2c08"],
            ["basn0g16", "oi1n0g16", "oi2n0g16", "oi4n0g16", "oi9n0g16"],
            ["basn2c16", "oi1n2c16", "oi2n2c16", "oi4n2c16", "oi9n2c16"],
            ["cm0n0g04", "cm7n0g04", "cm9n0g04"],
        ]
        for kind in ["0g01", "0g02", "0g04", "0g08", "0g16", "2c08", "2c16", "3p01", "3p02", "3p04", "3p08",
                     "4a08", "4a16", "6a08", "6a16"] {
            groups.append(["basn\(kind)", "basi\(kind)"])
        }
        for size in ["01", "02", "03", "04", "05", "06", "07", "08", "09", "32", "33", "34", "35", "36", "37", "38", "39", "40"] {
            groups.append(["s\(size)n3p02", "s\(size)i3p02"].filter { FileManager.default.fileExists(atPath: suite + $0 + ".png") })
        }
        var compared = 0
        for group in groups where group.count > 1 {
            let reference = try ImageDecoder.decode(file: suite + group[0] + ".png")
            for name in group.dropFirst() {
                #expect(try ImageDecoder.decode(file: suite + name + ".png") == reference, "\(name) differs from \(group[0])")
                compared += 1
            }
        }
        #expect(compared >= 30)
    }

    /// Baseline, progressive and arithmetic-coded JPEGs decode to exactly what libjpeg-turbo's djpeg writes.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/djpeg"), "djpeg is not installed"),
          arguments: ["testorig.jpg", "testimgint.jpg", "testimgari.jpg"])
    func jpegDecodesMatchDjpeg(name: String) throws {
        let path = root + "/libjpeg-turbo/testimages/" + name
        let folder = TemporaryFolder()
        let ppm = folder.file("out.ppm")
        let djpeg = Process()
        djpeg.executableURL = URL(fileURLWithPath: "/usr/bin/djpeg")
        djpeg.arguments = ["-ppm", "-outfile", ppm, path]
        try djpeg.run()
        djpeg.waitUntilExit()
        #expect(try ImageDecoder.decode(file: path) == ImageDecoder.decode(file: ppm))
    }
}
