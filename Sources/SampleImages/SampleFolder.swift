import Files
import Foundation
import Imaging

/// A sample file and what `imgcls inspect` should say about it (nil = valid).
public struct SampleFile: Sendable {
    public let name: String
    public let bytes: [UInt8]
    public let expected: RejectReason?
}

extension SampleImages {
    /// One valid file per format and each kind of broken file.
    public static func sampleSet() -> [SampleFile] {
        let photo = picture(width: 320, height: 240, seed: 7)
        let small = picture(width: 64, height: 48, seed: 8)
        let jpegBytes = jpeg(photo)
        let pngBytes = png(photo)
        return [
            SampleFile(name: "photo.jpg", bytes: jpegBytes, expected: nil),
            SampleFile(name: "rotated-exif6.jpg", bytes: jpeg(photo, orientation: 6), expected: nil),
            SampleFile(name: "photo.png", bytes: pngBytes, expected: nil),
            SampleFile(name: "transparent.png", bytes: pngRGBA(width: 64, height: 48, rgba: rgba(small) { x, _ in UInt8(x * 4) }), expected: nil),
            SampleFile(name: "photo.gif", bytes: gif(small, transparent: { x, y in x < 8 && y < 8 }), expected: nil),
            SampleFile(name: "photo.webp", bytes: webp(photo), expected: nil),
            SampleFile(name: "photo.bmp", bytes: bmp(small), expected: nil),
            SampleFile(name: "photo.ppm", bytes: ppm(small), expected: nil),
            SampleFile(name: "named-png-but-jpeg.png", bytes: jpegBytes, expected: nil),
            SampleFile(name: "empty.jpg", bytes: [], expected: .empty),
            SampleFile(name: "error-page.jpg", bytes: htmlPage, expected: .notAnImage),
            SampleFile(name: "half.jpg", bytes: truncated(jpegBytes), expected: .truncated),
            SampleFile(name: "half.png", bytes: truncated(pngBytes), expected: .truncated),
            // Byte 20 is inside IHDR: the chunk's CRC no longer matches.
            SampleFile(name: "bit-flipped.png", bytes: bitFlipped(pngBytes, at: 20), expected: .corrupt),
            SampleFile(name: "huge-header.png", bytes: pngHeader(width: 60000, height: 60000), expected: .tooManyPixels),
            SampleFile(name: "vector.svg", bytes: Array("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".utf8), expected: .unsupportedFormat),
        ]
    }

    /// Writes `sampleSet()` into `folder` (created if missing).
    public static func writeSampleSet(to folder: String) throws(FileError) -> [SampleFile] {
        try FileIO.createDirectory(folder)
        let samples = sampleSet()
        for sample in samples { try FileIO.writeAtomically(sample.bytes, to: folder + "/" + sample.name) }
        return samples
    }

    /// Image sizes of the benchmark corpora: camera photos (0.3 to 12 megapixels) for decoding, and the mix
    /// of thumbnails to full-HD pictures that web URL lists hold, for fetching.
    public enum CorpusSizes: String, Sendable, CaseIterable {
        case photo, web

        var sizes: [(Int, Int)] {
            switch self {
            case .photo: [(640, 480), (1024, 768), (1600, 1200), (1920, 1080), (2592, 1944), (4000, 3000)]
            case .web: [(160, 120), (320, 240), (500, 375), (640, 480), (800, 600), (1024, 768), (1280, 720), (1600, 1200)]
            }
        }
    }

    /// `count` JPEGs of mixed sizes, quality 80–95, for benchmarks.
    public static func jpegCorpus(count: Int, sizes kind: CorpusSizes = .photo, seed: UInt64 = 42) -> [(name: String, bytes: [UInt8])] {
        var random = SplitMix64(seed: seed)
        let sizes = kind.sizes
        return (0..<count).map { i in
            let (w, h) = sizes[Int(random.next() % UInt64(sizes.count))]
            let quality = 80 + Int(random.next() % 16)
            let bytes = jpeg(picture(width: w, height: h, seed: UInt64(i) &+ seed), quality: quality)
            return (String(format: "%04d-%dx%d-q%d.jpg", i, w, h, quality), bytes)
        }
    }

    /// `count` web-sized JPEGs cut from real photographs (JPEG files): a region of a random photo, 1 to 2.5 times
    /// the output size (so the detail is the photo's own, never enlarged), shrunk to a longer side of 500 to
    /// 1200 pixels at an aspect ratio of 2:3 to 3:2, quality 85, as pictures on the web are. Each photo is
    /// decoded once, when its turn comes (wallpapers take 12 MB each decoded).
    public static func webCorpus(from photos: [String], count: Int, seed: UInt64 = 42) throws -> [(name: String, bytes: [UInt8])] {
        precondition(!photos.isEmpty)
        var random = SplitMix64(seed: seed)
        let plans = (0..<count).map { _ in
            (photo: random.next(below: photos.count), longer: 500 + random.next(below: 701), aspect: random.next(in: 0.667...1.5),
             scale: random.next(in: 1...2.5), x: random.nextUnit(), y: random.nextUnit())
        }
        var files = [(name: String, bytes: [UInt8])](repeating: ("", []), count: count)
        for (index, path) in photos.enumerated() {
            let mine = plans.indices.filter { plans[$0].photo == index }
            guard !mine.isEmpty else { continue }
            let photo = try ImageDecoder.decode(try FileIO.read(path))
            for i in mine {
                let plan = plans[i]
                var (w, h) = plan.aspect >= 1 ? (plan.longer, Int(Double(plan.longer) / plan.aspect))
                    : (Int(Double(plan.longer) * plan.aspect), plan.longer)
                let scale = min(plan.scale, Double(photo.width) / Double(w), Double(photo.height) / Double(h))
                if scale < 1 { (w, h) = (max(1, Int(Double(w) * scale)), max(1, Int(Double(h) * scale))) }
                let (cw, ch) = (min(photo.width, max(w, Int(Double(w) * scale))), min(photo.height, max(h, Int(Double(h) * scale))))
                let region = photo.cropped(x: Int(plan.x * Double(photo.width - cw)), y: Int(plan.y * Double(photo.height - ch)),
                                           width: cw, height: ch)
                files[i] = (String(format: "%04d-%dx%d.jpg", i, w, h), try region.resized(width: w, height: h).jpegData(quality: 85))
            }
        }
        return files
    }
}
