import Files
import Foundation
import SampleImages
import Synchronization
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

@Suite struct ParallelMapTests {
    @Test func resultsArriveInInputOrderWhateverTheDuration() {
        var seen: [Int] = []
        parallelMap(0..<500, threads: 4, window: 8, { n in
            if n % 7 == 0 { usleep(200) }  // slow elements finish after later ones
            return n * n
        }) { seen.append($0) }
        #expect(seen == (0..<500).map { $0 * $0 })
    }

    @Test func workersStayWithinTheWindow() {
        let inFlight = Mutex(0)
        let highest = Mutex(0)
        parallelMap(0..<300, threads: 3, window: 5, { n in
            let now = inFlight.withLock { $0 += 1; return $0 }
            highest.withLock { $0 = max($0, now) }
            return n
        }) { _ in
            inFlight.withLock { $0 -= 1 }
            usleep(50)  // a slow consumer: workers must wait for it
        }
        // The window counts results not yet handed over; the one `consume` holds is counted here too.
        #expect(highest.withLock { $0 } <= 5 + 1)
    }

    @Test func anErrorFromConsumeStopsTheWorkAndIsRethrown() {
        struct Stop: Error {}
        let transformed = Mutex(0)
        #expect(throws: Stop.self) {
            try parallelMap(0..<100_000, threads: 2, window: 4, { n in
                transformed.withLock { $0 += 1 }
                return n
            }) { (n: Int) throws(Stop) in if n == 10 { throw Stop() } }
        }
        #expect(transformed.withLock { $0 } < 100)
    }

    @Test func emptyInputAndOneThreadWork() {
        var seen: [Int] = []
        parallelMap([Int](), threads: 3, { $0 }) { seen.append($0) }
        parallelMap([1, 2, 3], threads: 1, { $0 + 1 }) { seen.append($0) }
        #expect(seen == [2, 3, 4])
    }
}
