import Files
import Imaging
import SampleImages
import Testing

@Suite struct BrokenInputTests {
    let photo = SampleImages.picture(width: 120, height: 90, seed: 11)

    @Test func everySampleGetsItsExpectedVerdict() {
        for sample in SampleImages.sampleSet() {
            #expect(rejection(sample.bytes) == sample.expected, "\(sample.name)")
        }
    }

    @Test(arguments: ["jpeg", "png", "gif", "webp", "bmp", "ppm"])
    func cutsAtEveryPointAreRejectedNeverCrash(kind: String) {
        let bytes: [UInt8]
        switch kind {
        case "jpeg": bytes = SampleImages.jpeg(photo)
        case "gif": bytes = SampleImages.gif(photo)
        case "webp": bytes = SampleImages.webp(photo)
        case "bmp": bytes = SampleImages.bmp(photo)
        case "ppm": bytes = SampleImages.ppm(photo)
        default: bytes = SampleImages.png(photo)
        }
        let step = max(1, bytes.count / 150)
        for length in stride(from: 0, to: bytes.count - 1, by: step) {
            let reason = rejection(Array(bytes.prefix(length)))
            #expect(reason != nil, "\(kind) cut at \(length) of \(bytes.count) decoded")
            if let reason {
                #expect([.empty, .truncated, .corrupt].contains(reason), "\(kind) cut at \(length): \(reason)")
            }
        }
    }

    @Test func bitFlipsNeverCrashAndDamageIsReported() {
        let jpeg = SampleImages.jpeg(photo), png = SampleImages.png(photo)
        // Every bit of the PNG is covered by a CRC or the zlib checksum: every flip must be caught.
        for offset in stride(from: 8, to: png.count, by: 7) {
            #expect(rejection(SampleImages.bitFlipped(png, at: offset, bit: offset % 8)) != nil, "PNG flip at \(offset)")
        }
        // JPEG has no checksum: a flip may decode to slightly wrong pixels, but must never crash or hang.
        var rejected = 0
        for offset in stride(from: 2, to: jpeg.count, by: 5) {
            if rejection(SampleImages.bitFlipped(jpeg, at: offset, bit: offset % 8)) != nil { rejected += 1 }
        }
        #expect(rejected > 0)
    }

    /// A bounded fuzz loop: 400 damaged copies per format, each decoded twice. A crash or a hang fails the run
    /// (the time limit bounds a decoder stuck in a loop); each verdict must be a decoder's verdict on the bytes
    /// (never "empty" or "unreadable", which are about files) and the same both times, and damage must be noticed.
    @Test(.timeLimit(.minutes(1)), arguments: ["jpeg", "png", "gif", "webp", "bmp", "bmp8", "ppm"])
    func randomDamageNeverCrashes(kind: String) {
        let small = SampleImages.picture(width: 24, height: 16, seed: 2)
        let bytes: [UInt8]
        switch kind {
        case "jpeg": bytes = SampleImages.jpeg(small)
        case "png": bytes = SampleImages.png(small)
        case "gif": bytes = SampleImages.gif(small, interlaced: true)
        case "webp": bytes = SampleImages.webp(small)
        case "bmp8": bytes = SampleImages.bmp(small, palette8: true)
        case "bmp": bytes = SampleImages.bmp(small)
        default: bytes = SampleImages.ppm(small)
        }
        var random = SplitMix64(seed: 99)
        var options = DecodeOptions()
        options.maxPixels = 1 << 20  // damaged headers may claim huge sizes: keep any attempt cheap
        var rejected = 0
        for _ in 0..<400 {
            var damaged = bytes
            // Damage the header region more often: that is where parsers go wrong.
            for _ in 0..<1 + Int(random.next() % 3) {
                let range = random.next() % 2 == 0 ? min(64, damaged.count) : damaged.count
                damaged[Int(random.next() % UInt64(range))] = UInt8(truncatingIfNeeded: random.next())
            }
            let verdict = rejection(damaged, options: options)
            #expect(verdict == rejection(damaged, options: options), "\(kind): two decodes of the same bytes disagree")
            if let verdict {
                rejected += 1
                #expect(verdict != .empty && verdict != .unreadable, "\(kind): \(verdict)")
            }
        }
        #expect(rejected > 0, "\(kind): no damaged copy was rejected")
    }

    @Test func widestBitFieldMasksDoNotOverflow() throws {
        // A 2x1 32-bit BI_BITFIELDS bitmap whose red mask covers all 32 bits.
        var bmp = Array("BM".utf8) + le32(14 + 40 + 12 + 8) + le32(0) + le32(14 + 40 + 12)
        bmp += le32(40) + le32(2) + le32(1) + [1, 0, 32, 0] + le32(3) + le32(8) + le32(0) + le32(0) + le32(0) + le32(0)
        bmp += le32(0xFFFF_FFFF) + le32(0) + le32(0)
        bmp += le32(0xFFFF_FFFF) + le32(0x8000_0000)
        let image = try ImageDecoder.decode(bmp)
        #expect(image[0, 0] == RGB(255, 0, 0) && image[1, 0] == RGB(127, 0, 0))
    }

    @Test func tinyFilesClaimingHugeImagesFailBeforeAllocating() {
        #expect(rejection(Array("P2\n10000 10000\n255\n1 2 3".utf8)) == .truncated)
        #expect(rejection(Array("P1\n10000 10000\n0101".utf8)) == .truncated)
    }

    @Test func pixelLimitIsCheckedFromTheHeaderFirst() {
        #expect(rejection(SampleImages.pngHeader(width: 60000, height: 60000)) == .tooManyPixels)
        // A JPEG frame header claiming 60000x60000: SOI, SOF0 and nothing else.
        let sof: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0xEA, 0x60, 0xEA, 0x60, 3,
                            1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
        #expect(rejection(sof) == .tooManyPixels)
        var options = DecodeOptions()
        options.maxPixels = 100 * 100
        #expect(rejection(SampleImages.png(photo), options: options) == .tooManyPixels)
        options.maxPixels = 120 * 90
        #expect(rejection(SampleImages.png(photo), options: options) == nil)
    }

    @Test func minimumSideRejectsSmallImages() {
        var options = DecodeOptions()
        options.minSide = 91
        #expect(rejection(SampleImages.png(photo), options: options) == .tooSmall)
        options.minSide = 90
        #expect(rejection(SampleImages.png(photo), options: options) == nil)
    }

    @Test func twelveBitAndLosslessJPEGAreUnsupported() {
        var twelve = SampleImages.jpeg(photo)
        // Find SOF0 and set its precision byte to 12.
        let sof = (2..<twelve.count - 1).first { twelve[$0] == 0xFF && twelve[$0 + 1] == 0xC0 }!
        twelve[sof + 4] = 12
        #expect(rejection(twelve) == .unsupportedFormat)
        var lossless = SampleImages.jpeg(photo)
        lossless[sof + 1] = 0xC3
        #expect(rejection(lossless) == .unsupportedFormat)
    }

    @Test func errorsNameTheFileAndSayWhatToDo() throws {
        let folder = TemporaryFolder()
        let path = folder.file("cut.jpg")
        try FileIO.writeAtomically(SampleImages.truncated(SampleImages.jpeg(photo)), to: path)
        do {
            _ = try ImageDecoder.decode(file: path)
            Issue.record("a truncated file decoded")
        } catch {
            #expect(error.reason == .truncated)
            #expect(error.description.hasPrefix("\(path): truncated: "))
            #expect(error.description.contains("fetch it again"))
        }
        #expect(throws: ImageError(.unreadable, "cannot open it: No such file or directory", file: folder.file("none.jpg"))) {
            try ImageDecoder.decode(file: folder.file("none.jpg"))
        }
    }
}

private func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
