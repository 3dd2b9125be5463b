import Imaging
import SampleImages
import Testing

@Suite struct DecodeTests {
    let photo = SampleImages.picture(width: 96, height: 64, seed: 3)

    @Test func losslessFormatsDecodeExactly() throws {
        #expect(try ImageDecoder.decode(SampleImages.png(photo)) == photo)
        #expect(try ImageDecoder.decode(SampleImages.bmp(photo)) == photo)
        #expect(try ImageDecoder.decode(SampleImages.ppm(photo)) == photo)
        #expect(try ImageDecoder.decode(SampleImages.webp(photo, lossless: true)) == photo)
    }

    @Test func sixteenBitSamplesScaleWithRounding() throws {
        // A 4x1 16-bit PGM: 0, 33024 (128.498 in 8 bits), 33025 (128.502) and 65535.
        let pgm = Array("P5\n4 1\n65535\n".utf8) + [0, 0, 0x81, 0x00, 0x81, 0x01, 0xFF, 0xFF]
        let image = try ImageDecoder.decode(pgm)
        #expect(image.pixels == [0, 0, 0, 128, 128, 128, 129, 129, 129, 255, 255, 255])
        let ascii = Array("P3\n# comment\n2 1\n15\n15 0 0  0 15 7\n".utf8)
        #expect(try ImageDecoder.decode(ascii).pixels == [255, 0, 0, 0, 255, 119])
        let bitmap = Array("P1\n4 1\n0101".utf8)
        #expect(try ImageDecoder.decode(bitmap).pixels == [255, 255, 255, 0, 0, 0, 255, 255, 255, 0, 0, 0])
    }

    @Test func wrongColourProfilesDoNotRejectAPicture() throws {
        // The web is full of PNGs with broken ICC or sRGB chunks; imgcls applies no colour management, so
        // those chunks are skipped (their CRCs still checked).
        let png = SampleImages.png(photo)
        let badICC = SampleImages.inserting(chunk: "iCCP", data: Array("bogus".utf8) + [0, 0] + Gzipless.garbage, into: png)
        #expect(try ImageDecoder.decode(badICC) == photo)
        let badSRGB = SampleImages.inserting(chunk: "sRGB", data: [9, 9, 9], into: png)
        #expect(try ImageDecoder.decode(badSRGB) == photo)
        var brokenCRC = badICC
        brokenCRC[40] ^= 1  // inside the iCCP chunk
        #expect(rejection(brokenCRC) == .corrupt)
    }

    @Test func lossyFormatsDecodeClose() throws {
        #expect(meanDifference(try ImageDecoder.decode(SampleImages.jpeg(photo, quality: 95)), photo) < 4)
        #expect(meanDifference(try ImageDecoder.decode(SampleImages.webp(photo, quality: 95)), photo) < 6)
    }

    @Test func palettesDecodeToTheirColours() throws {
        // The 3-3-2 palette used by the samples moves each channel by at most half a step (255/3/2).
        let gif = try ImageDecoder.decode(SampleImages.gif(photo))
        let bmp8 = try ImageDecoder.decode(SampleImages.bmp(photo, palette8: true))
        #expect(gif == bmp8)
        #expect(meanDifference(gif, photo) < 30)
        #expect(try ImageDecoder.decode(SampleImages.gif(photo, interlaced: true)) == gif)
    }

    @Test func alphaIsCompositedOntoTheBackground() throws {
        let rgba = SampleImages.rgba(photo) { x, _ in x < 48 ? 0 : 255 }
        let png = SampleImages.pngRGBA(width: 96, height: 64, rgba: rgba)
        let onWhite = try ImageDecoder.decode(png)
        #expect(onWhite[10, 10] == .white)
        #expect(onWhite[60, 10] == photo[60, 10])
        var options = DecodeOptions()
        options.background = RGB(0, 128, 255)
        #expect(try ImageDecoder.decode(png, options: options)[10, 10] == RGB(0, 128, 255))

        let half = SampleImages.pngRGBA(width: 1, height: 1, rgba: [200, 100, 0, 128])
        options.background = .black
        #expect(try ImageDecoder.decode(half, options: options)[0, 0] == RGB(100, 50, 0))
    }

    @Test func gifTransparencyShowsTheBackground() throws {
        let gif = SampleImages.gif(photo) { x, y in x < 8 && y < 8 }
        var options = DecodeOptions()
        options.background = RGB(1, 2, 3)
        let image = try ImageDecoder.decode(gif, options: options)
        #expect(image[3, 3] == RGB(1, 2, 3))
        #expect(image[20, 20] != RGB(1, 2, 3))
    }

    @Test func animatedWebPGivesItsFirstFrameOnTheCanvas() throws {
        let first = RGBImage(width: 10, height: 6, fill: RGB(255, 0, 0))
        let second = RGBImage(width: 20, height: 16, fill: RGB(0, 0, 255))
        let bytes = SampleImages.animatedWebP(canvasWidth: 20, canvasHeight: 16, first: first, left: 4, top: 2, second: second)
        let info = try ImageProbe.probe(bytes)
        #expect(info.isAnimated && info.width == 20 && info.height == 16)
        let image = try ImageDecoder.decode(bytes)
        #expect(image.width == 20 && image.height == 16)
        #expect(image[5, 3] == RGB(255, 0, 0))
        #expect(image[0, 0] == .white)     // outside the first frame: transparent, so the background
        #expect(image[19, 15] == .white)
    }

    @Test(arguments: 1...8)
    func exifOrientationTurnsTheImageUpright(orientation: Int) throws {
        // The picture has a bright yellow block in its top-left quarter; a file stored with orientation N
        // holds the picture transformed by N's inverse, so decoding must bring the block back top-left.
        let upright = SampleImages.picture(width: 80, height: 48, seed: 5)
        let stored = upright.storedForOrientation(orientation)
        let decoded = try ImageDecoder.decode(SampleImages.jpeg(stored, orientation: orientation, quality: 95))
        #expect(decoded.width == 80 && decoded.height == 48)
        #expect(meanDifference(decoded, upright) < 5)
        var options = DecodeOptions()
        options.applyOrientation = false
        let raw = try ImageDecoder.decode(SampleImages.jpeg(stored, orientation: orientation, quality: 95), options: options)
        #expect(raw.width == stored.width && raw.height == stored.height)
    }

    @Test func orientationSixIsAClockwiseTurn() throws {
        // Stored landscape with the block top-left; orientation 6 says "turn 90° clockwise to view".
        let stored = SampleImages.picture(width: 80, height: 48, seed: 5)
        let decoded = try ImageDecoder.decode(SampleImages.jpeg(stored, orientation: 6, quality: 95))
        #expect(decoded.width == 48 && decoded.height == 80)
        let topRight = meanColor(decoded, x: 40..<48, y: 0..<8)
        #expect(topRight.0 > 200 && topRight.1 > 200 && topRight.2 < 80)
        let topLeft = meanColor(decoded, x: 0..<8, y: 0..<8)
        #expect(topLeft.2 > 60 || topLeft.0 < 200)
    }

    @Test func scaledJPEGDecodingShrinksByTheDenominator() throws {
        let big = SampleImages.picture(width: 403, height: 300, seed: 9)
        let bytes = SampleImages.jpeg(big)
        for denominator in [2, 4, 8] {
            var options = DecodeOptions()
            options.jpegScaleDenominator = denominator
            let image = try ImageDecoder.decode(bytes, options: options)
            #expect(image.width == (403 + denominator - 1) / denominator)
            #expect(image.height == (300 + denominator - 1) / denominator)
            #expect(meanDifference(image, big.resized(width: image.width, height: image.height)) < 8)
        }
        let thumbnail = DecodeOptions.thumbnail(of: try ImageProbe.probe(bytes), minimumSide: 64)
        #expect(thumbnail.jpegScaleDenominator == 4)
    }

    @Test func encodersRoundTrip() throws {
        let png = try photo.pngData()
        #expect(try ImageDecoder.decode(png) == photo)
        let low = try photo.jpegData(quality: 20), high = try photo.jpegData(quality: 95)
        #expect(low.count < high.count)
        #expect(try ImageProbe.probe(high).format == .jpeg)
    }
}

extension RGBImage {
    /// The pixels a camera stores for an upright picture when it records EXIF orientation `n`: the inverse
    /// of the transform a viewer applies.
    func storedForOrientation(_ n: Int) -> RGBImage {
        switch n {
        case 6: oriented(8)
        case 8: oriented(6)
        default: oriented(n)  // 2, 3, 4, 5 and 7 are their own inverses
        }
    }
}

/// Bytes that are not a zlib stream (an unreadable compressed ICC profile).
enum Gzipless {
    static let garbage: [UInt8] = [0x78, 0x9C, 0xFF, 0xFF, 0x00, 0x11, 0x22]
}
