@testable import Assist
import Files
import Imaging
import SampleImages
import Testing

/// The local-feature check on real photographs (../shared/data/photos; skipped without it): every planted kind
/// of copy is confirmed with the transform it is, distinct photographs are not, and the mirrored descriptors
/// are checked against the simple reference, the plain descriptors of the mirrored picture.
@Suite(.enabled(if: SharedTestData.path("photos") != nil, "needs ../shared/data/photos"))
struct PairVerificationTests {
    static func photo(_ name: String) throws -> RGBImage { try ImageDecoder.decode(file: SharedTestData.path("photos")! + "/" + name) }

    @Test func plantedCopiesAreConfirmedWithTheirTransform() throws {
        let cat = try Self.photo("chelsea.png")
        let original = LocalFeatures(image: cat)
        #expect(original.keypoints.count > 200)
        let verification = PairVerification()
        for transformation in Transformation.planted + [.rotate(degrees: -8), .crop(fraction: 0.08)] {
            let copy = LocalFeatures(image: transformation.apply(to: cat))
            let result = verification.verify(original, copy)
            #expect(verification.accepts(result) && verification.isCheckable(copy), "\(transformation): \(result)")
            switch transformation {
            case .rotate90: #expect(abs(abs(result.degrees) - 90) < 3, "\(result)")
            case .rotate(let degrees): #expect(abs(abs(Double(result.degrees)) - abs(degrees)) < 2, "\(result)")
            case .flipHorizontal: #expect(result.mirrored, "\(result)")
            default: #expect(!result.mirrored && abs(result.degrees) < 2, "\(transformation): \(result)")
            }
        }
    }

    @Test func distinctPhotographsAreNotOnePicture() throws {
        let features = try ["chelsea.png", "coffee.png", "rocket.jpg"].map { LocalFeatures(image: try Self.photo($0)) }
        let verification = PairVerification()
        for i in features.indices {
            for j in features.indices where i != j {
                let result = verification.verify(features[i], features[j])
                #expect(result.inliers < verification.minimumInliers / 2 && !verification.accepts(result), "\(i) \(j): \(result)")
            }
        }
        // Nearly all of a copy's matches agree; a pair whose matches mostly do not is no copy, however many agree.
        #expect(verification.accepts(.init(inliers: 20, matches: 30, scale: 1, degrees: 0, mirrored: false)))
        #expect(!verification.accepts(.init(inliers: 20, matches: 100, scale: 1, degrees: 0, mirrored: false)))
        // A picture too small to hold corners of its own is not checked (its pairs stand on their cosine).
        let tiny = try Self.photo("chelsea.png").resized(mode: .keepRatioLargest, size: 40)
        #expect(!verification.isCheckable(LocalFeatures(image: tiny)))
    }

    /// `confirmed` over files, as curate runs it: the copies of one photograph pair up with it and with each
    /// other, the other photographs with nothing; and the same with room for the features of only 3 pictures
    /// (windows of one pair, features dropped and computed again) as with room for all.
    @Test func confirmedPairsAreTheSameWhateverTheMemoryBudget() throws {
        let folder = TemporaryFolder()
        let cat = try Self.photo("chelsea.png")
        var files = [folder.file("cat.jpg")]
        try FileIO.writeAtomically(try cat.jpegData(quality: 90), to: files[0])
        for (i, transformation) in [Transformation.flipHorizontal, .rotate90, .reframe(fraction: 0.1)].enumerated() {
            files.append(folder.file("copy\(i).jpg"))
            try FileIO.writeAtomically(try transformation.apply(to: cat).jpegData(quality: 90), to: files.last!)
        }
        files += ["coffee.png", "rocket.jpg"].map { SharedTestData.path("photos")! + "/" + $0 }
        // Every pair a candidate, below the cosine that would keep an unchecked pair.
        let candidates = (0..<files.count).flatMap { a in ((a + 1)..<files.count).map { SemanticIndex.Pair(a: a, b: $0, similarity: 0.8) } }
        let verification = PairVerification()
        let roomy = verification.confirmed(candidates, files: files, threads: 2)
        let tight = verification.confirmed(candidates, files: files, threads: 2, budget: 3)
        let copies = Set((0..<4).flatMap { a in ((a + 1)..<4).map { [a, $0] } })
        #expect(Set(roomy.map { [$0.pair.a, $0.pair.b] }) == copies, "\(roomy)")
        #expect(roomy.map { [$0.pair.a, $0.pair.b, $0.inliers] } == tight.map { [$0.pair.a, $0.pair.b, $0.inliers] })
    }

    /// The mirrored comparisons at a corner are the plain ones of the mirrored picture at the mirrored corner
    /// (the smoothing is symmetric; a sample on a rounding boundary may fall one pixel over, so a few bits differ).
    @Test func mirroredDescriptorsMatchTheMirroredPicture() throws {
        let image = try Self.photo("coffee.png").resized(mode: .keepRatioLargest, size: LocalFeatures.side)
        let plane = GrayPlane(image), flippedPlane = GrayPlane(Transformation.flipHorizontal.apply(to: image))
        let corners = plane.corners(limit: 100, margin: LocalFeatures.margin)
        #expect(corners.count == 100)
        var distances: [Int] = []
        for corner in corners {
            let angle = plane.centroidAngle(x: corner.x, y: corner.y, radius: LocalFeatures.patchRadius)
            let mirroredAngle = flippedPlane.centroidAngle(x: image.width - 1 - corner.x, y: corner.y, radius: LocalFeatures.patchRadius)
            #expect(PairVerification.angleGap(mirroredAngle, .pi - angle) < 0.01)
            let mine = plane.describe(x: corner.x, y: corner.y, angle: angle).mirrored
            let reference = flippedPlane.describe(x: image.width - 1 - corner.x, y: corner.y, angle: mirroredAngle).normal
            distances.append(zip(mine, reference).map { ($0 ^ $1).nonzeroBitCount }.reduce(0, +))
        }
        distances.sort()
        #expect(distances[distances.count / 2] <= 4 && distances[distances.count * 9 / 10] <= 16, "\(distances)")
    }
}
