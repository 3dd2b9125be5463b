import Catalog
import Files
import Foundation
import SampleImages
import StageContract
import Synchronization
import Testing

@Suite struct CatalogTests {
    let folder = TemporaryFolder()
    var path: String { folder.file(Workspace.catalogFileName) }

    func item(_ source: String, _ label: String, status: ItemStatus = .pending) throws -> CatalogItem {
        var item = CatalogItem(source: source, sourceKind: .url, label: try Label(label))
        item.status = status
        return item
    }

    @Test func opensAtTheCurrentSchemaInWALMode() throws {
        let catalog = try Catalog(path: path)
        #expect(catalog.schemaVersion == 7)
        try catalog.upsert(try item("https://a.example/1.jpg", "cat"))
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func upsertInsertsThenUpdatesTheSameSourceAndLabel() throws {
        let catalog = try Catalog(path: path)
        var first = try item("https://a.example/1.jpg", "cat")
        let id = try catalog.upsert(first)
        first.status = .failed
        first.reason = .http(status: 404)
        first.httpStatus = 404
        first.attempts = 2
        #expect(try catalog.upsert(first) == id)
        let other = try catalog.upsert(try item("https://a.example/1.jpg", "dog"))
        #expect(other != id)
        let stored = try #require(try catalog.item(source: "https://a.example/1.jpg", label: Label("cat")))
        #expect(stored.status == .failed && stored.reason == .http(status: 404) && stored.httpStatus == 404 && stored.attempts == 2)
    }

    @Test func everyFieldRoundTrips() throws {
        var full = try item("/images/a.png", "dog", status: .ok)
        full.sourceKind = .file
        full.message = "fine"
        full.httpStatus = 200
        full.finalURL = "https://cdn.example/a.png"
        full.contentType = "image/png"
        full.bytes = 12345
        full.sha256 = String(repeating: "ab", count: 32)
        full.path = Workspace.rawFile(label: try Label("dog"), sha256: full.sha256!, fileExtension: "png")
        full.format = "png"
        full.width = 640
        full.height = 480
        full.phash = 0xF0F0_F0F0_F0F0_F0F0   // high bit set: stored as a signed 64-bit integer
        full.dhash = 1
        full.flags = [.blurry, .dark]
        full.cluster = 7
        full.split = .train
        full.attempts = 1
        full.elapsedMilliseconds = 12.5
        full.updatedAt = 1_700_000_000
        let catalog = try Catalog(path: path)
        full.id = try catalog.upsert(full)
        #expect(try catalog.item(source: "/images/a.png", label: Label("dog")) == full)
    }

    @Test func batchesCommitAndSurviveReopening() throws {
        do {
            let catalog = try Catalog(path: path)
            let writer = CatalogBatchWriter(catalog: catalog, batchSize: 100)
            for i in 0..<1050 {
                try writer.add(try item("https://a.example/\(i).jpg", i % 3 == 0 ? "cat" : "dog", status: i % 5 == 0 ? .failed : .ok))
            }
            try writer.flush()
        }
        let reopened = try Catalog(path: path, create: false)
        let summary = try reopened.summary()
        #expect(summary.total == 1050)
        #expect(summary.byStatus["failed"] == 210)
        #expect(summary.labels.map(\.label) == ["cat", "dog"])
        #expect(summary.labels[0].total == 350)
        var failedCats = 0
        try reopened.forEachItem(status: .failed, label: Label("cat")) { _ in failedCats += 1 }
        #expect(failedCats == 70)
    }

    @Test func aFailedTransactionLeavesNothingBehind() throws {
        let catalog = try Catalog(path: path)
        let fresh = try item("https://a.example/x.jpg", "cat")
        #expect(throws: CatalogError.self) {
            try catalog.write { t throws(CatalogError) in
                try t.upsert(fresh)
                throw CatalogError(path: "a transaction", detail: "stop halfway")
            }
        }
        #expect(try catalog.summary().total == 0)
    }

    @Test func refusesACatalogFromANewerVersionAndAMissingOne() throws {
        _ = try Catalog(path: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, "PRAGMA user_version = 99"]
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") {
            try process.run()
            process.waitUntilExit()
            #expect(throws: CatalogError.self) { try Catalog(path: path) }
        }
        #expect(throws: CatalogError.self) { try Catalog(path: folder.file("none.sqlite"), create: false) }
    }

    @Test func summaryCountsReasonsAndSplits() throws {
        let catalog = try Catalog(path: path)
        var a = try item("1", "cat", status: .failed)
        a.reason = .fetch(.timeout)
        var b = try item("2", "cat", status: .ok)
        b.split = .train
        b.bytes = 1000
        var c = try item("3", "dog", status: .ok)
        c.split = .validation
        c.bytes = 500
        for x in [a, b, c] { try catalog.upsert(x) }
        let summary = try catalog.summary()
        #expect(summary.byReason == [Reason.fetch(.timeout).code: 1])
        #expect(summary.splits == [Split.train.rawValue: ["cat": 1], Split.validation.rawValue: ["dog": 1]])
        #expect(summary.storedBytes == 1500)
    }
}

@Suite struct LabelTests {
    @Test(arguments: ["cat", "porn", "neutral", "Golden Retriever", "狗", "a.b", "x-y_z"])
    func acceptsFolderSafeNames(name: String) throws {
        #expect(try Label(name).name == name)
    }

    @Test(arguments: ["", "a/b", "..", ".", ".hidden", "a\\b", "tab\there", "new\nline", " padded", "bell\u{7}",
                      String(repeating: "x", count: 201)])
    func rejectsNamesThatAreNotSafeFolderNames(name: String) {
        #expect(throws: LabelError.self) { try Label(name) }
    }

    @Test func theErrorSaysWhy() {
        do {
            _ = try Label("a/b")
        } catch {
            #expect(error.description.contains("path separator"))
        }
    }
}

@Suite struct MergeTests {
    /// Workers storing the first files of new labels at once: each label's folder is made by whichever gets
    /// there first, and none of the others fails (one that found the folder missing, then made by another
    /// worker, used to give up with write_failed).
    @Test func workersStoringTheFirstFilesOfALabelAtOnceAllSucceed() throws {
        let folder = TemporaryFolder()
        let workspace = Workspace(root: folder.file("ws"))
        try workspace.prepareTemporaryFolder()
        let failures = Mutex(0)
        let workers = 8, rounds = 100
        for round in 0..<rounds {
            // Threads of their own (not the 2 of Dispatch's pool), started together at a gate.
            let gate = DispatchSemaphore(value: 0), done = DispatchGroup()
            for i in 0..<workers {
                done.enter()
                Thread {
                    gate.wait()
                    do { try workspace.storeOnce(Array("\(round)-\(i)".utf8), at: "raw/label\(round)/\(i).jpg") } catch {
                        failures.withLock { $0 += 1 }
                    }
                    done.leave()
                }.start()
            }
            for _ in 0..<workers { gate.signal() }
            done.wait()
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(try FileIO.read(workspace.path("raw/label\(rounds - 1)/\(workers - 1).jpg")) == Array("\(rounds - 1)-\(workers - 1)".utf8))
    }

    @Test func shardsMergeWithTheirFiles() throws {
        let folder = TemporaryFolder()
        let a = Workspace(root: folder.file("a")), b = Workspace(root: folder.file("b")), merged = Workspace(root: folder.file("m"))
        func row(_ source: String, _ status: ItemStatus, path: String? = nil, at time: Double) throws -> CatalogItem {
            var item = CatalogItem(source: source, sourceKind: .url, label: try Label("cat"))
            item.status = status
            item.path = path
            item.updatedAt = time
            return item
        }
        let catalogA = try a.openCatalog(), catalogB = try b.openCatalog()
        try catalogA.upsert(try row("u1", .ok, path: "stored/cat/1.jpg", at: 10))
        try catalogA.upsert(try row("u2", .failed, at: 10))
        try catalogB.upsert(try row("u2", .ok, path: "stored/cat/2.jpg", at: 5))   // further along: wins though older
        try catalogB.upsert(try row("u3", .pending, at: 20))
        try catalogB.upsert(try row("u1", .failed, at: 30))                       // not further along: ours stays
        for (workspace, name) in [(a, "1.jpg"), (b, "2.jpg")] {
            try workspace.storeOnce(Array(name.utf8), at: "stored/cat/\(name)")
        }
        let first = try merged.merge(from: a)
        #expect([first.added, first.replaced, first.kept, first.filesCopied, first.filesMissing] as [Int] == [2, 0, 0, 1, 0])
        let second = try merged.merge(from: b)
        #expect([second.added, second.replaced, second.kept, second.filesCopied, second.filesMissing] as [Int] == [1, 1, 1, 1, 0])
        let catalog = try merged.openCatalog()
        #expect(try catalog.item(source: "u1", label: Label("cat"))?.status == .ok)
        #expect(try catalog.item(source: "u2", label: Label("cat"))?.status == .ok)
        #expect(try FileIO.read(merged.path("stored/cat/2.jpg")) == Array("2.jpg".utf8))
        #expect(throws: CatalogError.self) { try merged.merge(from: Workspace(root: folder.file("nothing"))) }
    }

    @Test func shardMergeRefusesSetsThatAreNotOneWholeFetch() throws {
        let folder = TemporaryFolder()
        func shard(_ name: String, _ k: Int, of n: Int, identity: String = "m1", by: String = "url") throws -> Workspace {
            let workspace = Workspace(root: folder.file(name))
            try workspace.openCatalog().upsert(CatalogItem(source: "https://x.example/\(name)", sourceKind: .url, label: try Label("cat")))
            try workspace.writeShardCompletion(ShardCompletion(shard: .init(index: k, count: n, by: by), manifestIdentity: identity, manifests: []))
            return workspace
        }
        let a = try shard("a", 1, of: 2), b = try shard("b", 2, of: 2)
        func refusal(_ shards: [Workspace]) -> String {
            do {
                _ = try Workspace(root: folder.file("m-\(UUID())")).mergeShards(shards)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(refusal([a, try shard("c", 2, of: 2, identity: "m2")]).contains("other manifests"))
        #expect(refusal([a, try shard("d", 2, of: 3)]).contains("is shard 2/3"))
        #expect(refusal([a, try shard("e", 2, of: 2, by: "host")]).contains("is shard 2/2 by host"))
        #expect(refusal([a, try shard("f", 1, of: 2)]).contains("shard 1/2 again"))
        #expect(refusal([b]).contains("shards 1 of 2 are missing"))
        let unfinished = Workspace(root: folder.file("g"))
        try unfinished.openCatalog().upsert(CatalogItem(source: "https://x.example/g", sourceKind: .url, label: try Label("cat")))
        #expect(refusal([a, unfinished]).contains("no completion marker"))

        // In the order of K whatever the order given; the whole set leaves a marker for the whole fetch.
        let merged = Workspace(root: folder.file("merged"))
        #expect(try merged.mergeShards([b, a]).map(\.0.root) == [a.root, b.root])
        #expect(try merged.shardCompletion()?.shard == .init(index: 1, count: 1, by: "url"))
        #expect(try merged.shardCompletion()?.items == 2)
        let partial = Workspace(root: folder.file("partial"))
        #expect(try partial.mergeShards([b, unfinished], partial: true).count == 2)
        #expect(try partial.shardCompletion() == nil)
    }
}
