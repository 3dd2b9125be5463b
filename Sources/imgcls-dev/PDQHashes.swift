import ArgumentParser
import Foundation
import Imaging

/// PDQ hashes as imgcls computes them, in the reference script's line format (scripts/pdq-reference.sh compares
/// the two): HEX QUALITY DIHEDRAL-HEX*7 FILE. EXIF orientation is not applied, as the reference tools read files.
struct PDQHashes: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pdq", abstract: "Print the PDQ hashes of image files, as the reference script does.")

    @Argument(help: "Image files.") var files: [String]

    func run() throws {
        var options = DecodeOptions()
        options.applyOrientation = false
        for file in files {
            do {
                let image = try ImageDecoder.decode(file: file, options: options)
                let (hashes, quality) = PDQ.dihedral(image)
                print(([hashes[0].hex, String(quality)] + hashes.dropFirst().map(\.hex) + [file]).joined(separator: " "))
            } catch {
                print("- - - \(file) (\(error))")
            }
        }
    }
}
