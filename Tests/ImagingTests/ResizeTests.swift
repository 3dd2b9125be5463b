import Imaging
import SampleImages
import Testing

@Suite struct ResizeTests {
    @Test func areaDownscalingAveragesEverySourcePixel() {
        // A one-pixel checkerboard has no visible structure at half size: area averaging gives flat grey,
        // where point sampling would give pure black or white (aliasing).
        var board = RGBImage(width: 64, height: 64)
        for y in 0..<64 { for x in 0..<64 where (x + y) % 2 == 0 { board[x, y] = .white } }
        for size in [32, 16, 8] {
            #expect(Set(board.resized(width: size, height: size).pixels).allSatisfy { (127...128).contains($0) })
        }
        // At a fractional ratio each output pixel covers about 3x3 sources (5 of one colour, 4 of the other).
        let values = Set(board.resized(width: 21, height: 21).pixels)
        #expect(values.allSatisfy { (105...150).contains($0) }, "\(values.sorted())")
    }

    @Test func flatImagesStayFlatAtAnySize() {
        let flat = RGBImage(width: 37, height: 23, fill: RGB(10, 200, 77))
        for (w, h) in [(5, 3), (37, 23), (100, 71), (1, 1), (80, 10)] {
            let resized = flat.resized(width: w, height: h)
            #expect(resized.width == w && resized.height == h)
            #expect(resized == RGBImage(width: w, height: h, fill: RGB(10, 200, 77)))
        }
    }

    @Test func bilinearUpscalingInterpolatesBetweenNeighbours() {
        var pair = RGBImage(width: 2, height: 1)
        pair[0, 0] = RGB(0, 0, 0)
        pair[1, 0] = RGB(200, 100, 40)
        let wide = pair.resized(width: 4, height: 1)
        // Output centres at source x = -0.25, 0.25, 0.75, 1.25: clamped, 1/4, 3/4, clamped.
        #expect(wide.pixels == [0, 0, 0, 50, 25, 10, 150, 75, 30, 200, 100, 40])
    }

    @Test func thinImagesAndExtremeShrinks() {
        let strip = RGBImage(width: 5000, height: 1, fill: RGB(10, 20, 30))
        let square = strip.resized(mode: .centerCrop, size: 64)  // crops 1x1 first: no 320000-wide intermediate
        #expect(square == RGBImage(width: 64, height: 64, fill: RGB(10, 20, 30)))
        #expect(strip.resizedSize(mode: .keepRatio, size: 256) == (1_280_000, 256))
        // 40000 -> 32 is a 1250:1 shrink: every output still averages its share (a ramp stays a ramp).
        var ramp = RGBImage(width: 40000, height: 2)
        for x in 0..<40000 { for y in 0..<2 { ramp[x, y] = RGB(UInt8(x * 256 / 40000), 0, 0) } }
        let small = ramp.resized(width: 32, height: 1)
        for x in 0..<32 {
            let expected = (Double(x) + 0.5) * 256 / 32 - 0.5
            #expect(abs(Double(small[x, 0].r) - expected) <= 1.5, "output \(x): \(small[x, 0].r), expected about \(expected)")
        }
    }

    @Test func fittingKeepsTheAspectRatioAndNeverEnlarges() {
        let photo = SampleImages.picture(width: 400, height: 300)
        let fitted = photo.fitting(maxSide: 100)
        #expect(fitted.width == 100 && fitted.height == 75)
        #expect(photo.fitting(maxSide: 1000) == photo)
        let downscaled = photo.resized(width: 200, height: 150)
        #expect(meanDifference(downscaled.resized(width: 100, height: 75), fitted) < 2)
    }
}
