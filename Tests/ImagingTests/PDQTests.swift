import Files
import Foundation
@testable import Imaging
import SampleImages
import Testing

/// PDQ against the reference implementation's own answers (Fixtures/pdq/reference.txt, from PyPI's pdqhash through
/// scripts/pdq-reference.sh): every one of the eight hashes and the quality equal, on ThreatExchange's test images
/// and on the shared photos (when ../shared is present). scripts/pdq-reference.sh measured the same, bit for bit, on
/// all 52 images of ThreatExchange's pdq/data and the photos.
@Suite struct PDQTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pdq").path

    /// file name -> (hash, quality, the seven other orientations' hashes)
    static func reference() throws -> [String: (hex: String, quality: Int, variants: [String])] {
        let text = try String(contentsOfFile: fixtures + "/reference.txt", encoding: .utf8)
        var rows: [String: (String, Int, [String])] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 10, let quality = Int(fields[1]) else { continue }
            rows[URL(fileURLWithPath: fields[9]).lastPathComponent] = (fields[0], quality, Array(fields[2...8]))
        }
        return rows
    }

    static func decode(_ path: String) throws -> RGBImage {
        var options = DecodeOptions()
        options.applyOrientation = false  // as the reference reads files
        return try ImageDecoder.decode(file: path, options: options)
    }

    @Test func hashesEqualTheReferenceImplementations() throws {
        let reference = try Self.reference()
        var files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures).filter { $0.hasSuffix(".jpg") }.map { Self.fixtures + "/" + $0 }
        if let photos = SharedTestData.path("photos") {
            files += try FileManager.default.contentsOfDirectory(atPath: photos).filter { reference[$0] != nil }.map { photos + "/" + $0 }
        }
        #expect(files.count >= 10)
        for file in files {
            let name = URL(fileURLWithPath: file).lastPathComponent
            let expected = try #require(reference[name], "\(name) has no reference line")
            let (hashes, quality) = PDQ.dihedral(try Self.decode(file))
            #expect(hashes[0].hex == expected.hex && quality == expected.quality, "\(name): \(hashes[0].hex) q\(quality)")
            #expect(hashes.dropFirst().map(\.hex) == expected.variants, "\(name): the orientations differ")
            #expect(PDQ.hash(try Self.decode(file)) == PDQ.Result(hash: hashes[0], quality: quality))
        }
        // `imgcls inspect --pdq` prints the same (it hashes the stored pixels, EXIF orientation not applied).
        let inspected = ImageInspector(pdq: true).inspect(file: Self.fixtures + "/q0122.jpg")
        #expect(inspected.pdq == reference["q0122.jpg"]?.hex && inspected.pdqQuality == reference["q0122.jpg"]?.quality)
        // The low-quality ones are the reference's too: a picture with little gradient.
        #expect(reference["q0003.jpg"]?.quality == 3 && reference["small.jpg"]?.quality == 0)
    }

    /// Turning or mirroring the pixels gives a picture whose hash matches the corresponding variant of the original's
    /// (not bit for bit: the filter's windows and the decimation are not symmetric at the edges).
    @Test func aTurnedOrMirroredCopyMatchesItsVariant() {
        let picture = SampleImages.scene(width: 200, height: 150, seed: 7)
        let variants = PDQ.dihedral(picture).hashes
        let copies: [(PDQ.Dihedral, RGBImage)] = [
            // (EXIF's orientation numbers: 8 turns a quarter counter-clockwise, 6 clockwise, 4 upside down, 2 left-right.)
            (.original, picture), (.rotate90, picture.oriented(8)), (.rotate180, picture.oriented(3)), (.rotate270, picture.oriented(6)),
            (.flipX, picture.oriented(4)), (.flipY, picture.oriented(2)), (.flipPlus1, picture.oriented(5)), (.flipMinus1, picture.oriented(7)),
        ]
        for (orientation, copy) in copies {
            let hash = PDQ.hash(copy).hash
            let distances = variants.map { hash.distance(to: $0) }
            // A match (PDQ's threshold, 31) to its own variant, far from the others (measured: 0 to 30 bits on this
            // noisy 200x150 scene, the others 64 or more).
            let others = distances.enumerated().filter { $0.offset != orientation.rawValue }.map(\.element)
            #expect(distances[orientation.rawValue] <= 31 && others.allSatisfy { $0 >= 60 }, "\(orientation): \(distances)")
        }
    }

    @Test func hexRoundTripsAndDistancesCount() throws {
        let hash = PDQ.hash(SampleImages.scene(width: 90, height: 70, seed: 2)).hash
        #expect(PDQHash(hex: hash.hex) == hash && hash.hex.count == 64)
        var other = hash
        other.setBit(0)
        other.setBit(255)
        #expect(hash.distance(to: other) == (hash.words.0 & 1 == 1 ? 0 : 1) + (hash.words.3 >> 63 == 1 ? 0 : 1))
        #expect(PDQHash(hex: "zz" + String(hash.hex.dropFirst(2))) == nil && PDQHash(hex: "abc") == nil)
        // The reference's bit order: bit 0 is the last hex digit's lowest bit.
        var one = PDQHash()
        one.setBit(0)
        #expect(one.hex == String(repeating: "0", count: 63) + "1")
        // Too small to hash: zeros, quality 0, as the reference.
        #expect(PDQ.hash(RGBImage(width: 4, height: 100)) == PDQ.Result(hash: PDQHash(), quality: 0))
    }

    /// Torben's median, checked against sorting.
    @Test func torbenMedianIsTheMedian() {
        var random = SplitMix64(seed: 5)
        for _ in 0..<50 {
            let values = (0..<256).map { _ in Float(random.next(in: -100...100)) }
            let sorted = values.sorted()
            let median = PDQ.torbenMedian(values)
            #expect(median >= sorted[127] && median <= sorted[128])
            #expect(values.filter { $0 > median }.count == 128 || sorted[127] == sorted[128])
        }
    }
}
