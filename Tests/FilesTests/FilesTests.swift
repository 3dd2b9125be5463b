import Files
import Foundation
import SampleImages
import Testing

@Suite struct FileIOTests {
    @Test func atomicWriteReplacesAndLeavesNoTemporaryFile() throws {
        let folder = TemporaryFolder()
        let path = folder.file("a.bin")
        try FileIO.writeAtomically([1, 2, 3], to: path)
        try FileIO.writeAtomically([4, 5], to: path)
        #expect(try FileIO.read(path) == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["a.bin"])
    }

    @Test func readErrorsNameTheFile() {
        #expect(throws: FileError.self) { try FileIO.read("/nonexistent/x.jpg") }
        do {
            _ = try FileIO.read("/nonexistent/x.jpg")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/x.jpg: cannot open it"))
        }
        let folder = TemporaryFolder()
        #expect(throws: FileError.self) { try FileIO.read(folder.path) }
    }

    @Test func readRefusesFilesOverTheLimit() throws {
        let folder = TemporaryFolder()
        try FileIO.writeAtomically([UInt8](repeating: 7, count: 100), to: folder.file("big"))
        #expect(throws: FileError.self) { try FileIO.read(folder.file("big"), limit: 99) }
        #expect(try FileIO.read(folder.file("big"), limit: 100).count == 100)
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

@Suite struct DirectoryWalkerTests {
    @Test func walksDepthFirstInNameOrderSkippingHiddenEntries() throws {
        let folder = TemporaryFolder()
        for name in ["b/2.png", "b/1.png", "a.jpg", "c/d/e.gif", ".hidden/x.png", "b/.DS_Store", "z.txt"] {
            let path = folder.file(name)
            try FileIO.createDirectory((path as NSString).deletingLastPathComponent)
            try FileIO.writeAtomically([0], to: path)
        }
        let found = Array(DirectoryWalker(root: folder.path)).map { String($0.dropFirst(folder.path.count + 1)) }
        #expect(found == ["a.jpg", "z.txt", "b/1.png", "b/2.png", "c/d/e.gif"])
    }

    @Test func reportsUnreadableFolders() {
        var walker = DirectoryWalker(root: "/nonexistent-folder")
        #expect(walker.next() == nil)
        #expect(walker.unreadable.count == 1)
    }
}
