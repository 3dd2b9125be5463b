import Imaging
import SampleImages
import Testing

@Suite struct SniffTests {
    let photo = SampleImages.picture(width: 40, height: 30)

    @Test func formatsAreFoundFromBytesNotNames() throws {
        #expect(try ImageFormat.sniff(SampleImages.jpeg(photo)) == .jpeg)
        #expect(try ImageFormat.sniff(SampleImages.png(photo)) == .png)
        #expect(try ImageFormat.sniff(SampleImages.gif(photo)) == .gif)
        #expect(try ImageFormat.sniff(SampleImages.webp(photo)) == .webp)
        #expect(try ImageFormat.sniff(SampleImages.bmp(photo)) == .bmp)
        #expect(try ImageFormat.sniff(SampleImages.ppm(photo)) == .pnm)
    }

    @Test(arguments: [
        ([UInt8](), RejectReason.empty),
        ([0xFF, 0xD8], .truncated),
        ([0x89, 0x50, 0x4E], .truncated),
        (SampleImages.htmlPage, .notAnImage),
        (Array("just some text\n".utf8), .notAnImage),
        (Array("%PDF-1.4 ...........".utf8), .notAnImage),
        ([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0], .unsupportedFormat),        // TIFF
        ([0, 0, 0, 0x1C] + Array("ftypavif".utf8) + [0, 0, 0, 0], .unsupportedFormat),
        (Array("<?xml version=\"1.0\"?><svg></svg>".utf8), .unsupportedFormat),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0D, 0x0A, 0x1A, 0x0A], .corrupt), // CR added by a text-mode transfer
    ])
    func nonImagesGetTheirReason(bytes: [UInt8], reason: RejectReason) {
        #expect(throws: ImageError.self) { try ImageFormat.sniff(bytes) }
        #expect(rejection(bytes) == reason)
    }

    @Test func htmlIsNamedInTheMessage() {
        do {
            _ = try ImageDecoder.decode(SampleImages.htmlPage)
            Issue.record("HTML decoded")
        } catch {
            #expect(error.detail == "an HTML page")
        }
    }

    @Test func probeReadsSizeWithoutDecoding() throws {
        let image = SampleImages.picture(width: 123, height: 45)
        for bytes in [SampleImages.jpeg(image), SampleImages.png(image), SampleImages.gif(image), SampleImages.webp(image),
                      SampleImages.bmp(image), SampleImages.ppm(image)] {
            let info = try ImageProbe.probe(bytes)
            #expect(info.width == 123 && info.height == 45, "\(info.format)")
        }
        let rotated = try ImageProbe.probe(SampleImages.jpeg(image, orientation: 6))
        #expect(rotated.orientation == 6)
        #expect(rotated.orientedWidth == 45 && rotated.orientedHeight == 123)
    }
}
