import Foundation
import Testing

/// The tree's shape, checked so it stays true: Package.swift declares exactly what each target imports, and
/// each module's map (the comment at the top of its entry file) names every one of its files.
@Suite struct StructureTests {
    /// The package's root, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Modules that come with the toolchain: imported without being declared.
    static let toolchainModules: Set<String> = [
        "Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Darwin", "Dispatch", "Testing", "XCTest", "Synchronization",
        "_Concurrency", "PackageDescription",
    ]

    @Test(.timeLimit(.minutes(1))) func declaredDependenciesAreTheImports() throws {
        for target in try PackageTargets.read(root: Self.root) where target.isSwift {
            let imported = try SourceTree.imports(of: target.folder).subtracting(Self.toolchainModules)
            let undeclared = imported.subtracting(target.dependencies).sorted()
            let unused = target.dependencies.subtracting(imported).sorted()
            #expect(undeclared.isEmpty, "\(target.name) imports \(undeclared) without declaring them in Package.swift")
            #expect(unused.isEmpty, "\(target.name) declares \(unused) in Package.swift and imports none of them")
        }
    }

    /// The engine links no workspace, catalog, console or SQLite; the model's answers (Predict, Serve) no SQLite;
    /// training and the stage contract no catalog.
    @Test(.timeLimit(.minutes(1))) func theEngineAndTheServerStandApartFromTheCatalog() throws {
        let targets = Dictionary(uniqueKeysWithValues: try PackageTargets.read(root: Self.root).map { ($0.name, $0) })
        func closure(_ name: String) -> Set<String> {
            var seen: Set<String> = [], queue = [name]
            while let next = queue.popLast() {
                for dependency in targets[next]?.dependencies ?? [] where seen.insert(dependency).inserted { queue.append(dependency) }
            }
            return seen
        }
        #expect(closure("Engine").isDisjoint(with: ["StageContract", "Catalog", "Console", "CSQLite", "Train"]), "Engine links \(closure("Engine").sorted())")
        for module in ["Predict", "Serve", "Backbone"] {
            #expect(closure(module).isDisjoint(with: ["Catalog", "CSQLite", "Train"]), "\(module) links \(closure(module).sorted())")
        }
        #expect(closure("Assist").isDisjoint(with: ["Train", "Curate", "Fetch"]), "Assist links another stage: \(closure("Assist").sorted())")
        // The readers of untrusted files stand alone: what they hand on is data, never engine objects.
        for reader in ["ONNXModel", "TorchCheckpoint", "HTTPBodies"] {
            #expect(closure(reader).isSubset(of: ["Files", "CCrypto", "CLibz", "SwiftProtobuf", "ZIPFoundation"]), "\(reader) links \(closure(reader).sorted())")
        }
        // Training needs the workspace's layout, not its database.
        #expect(closure("Train").isDisjoint(with: ["Catalog", "CSQLite"]), "Train links \(closure("Train").sorted())")
        #expect(closure("StageContract").isDisjoint(with: ["Catalog", "CSQLite"]), "StageContract links \(closure("StageContract").sorted())")
    }

    @Test(.timeLimit(.minutes(1))) func everyModuleMapNamesEachOfItsFiles() throws {
        for target in try PackageTargets.read(root: Self.root) where target.isSwift && !target.isTest {
            let files = try SourceTree.swiftFiles(in: target.folder)
            let maps = try files.compactMap { file in try SourceTree.moduleMap(in: target.folder + "/" + file) }
            #expect(maps.count == 1, "\(target.name): \(maps.count) files open with a module map (\"Files in reading order\" or \"Folders in reading order\"); one should")
            guard let map = maps.first else { continue }
            let unnamed = files.filter { !map.contains(($0 as NSString).lastPathComponent) }
            #expect(unnamed.isEmpty, "\(target.name)'s map does not name \(unnamed)")
        }
    }

    @Test func theMapReaderFindsOnlyTheOpeningComment() throws {
        let folder = NSTemporaryDirectory() + "structure-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "// M: a module. Files in reading order:\n//   A.swift  one\n\nimport Foundation\n// B.swift later\n"
            .write(toFile: folder + "/A.swift", atomically: true, encoding: .utf8)
        try "import Foundation\n\n/// Files in reading order, in a doc comment that is not a map\n"
            .write(toFile: folder + "/B.swift", atomically: true, encoding: .utf8)
        let map = try #require(try SourceTree.moduleMap(in: folder + "/A.swift"))
        #expect(map.contains("A.swift") && !map.contains("B.swift"))
        #expect(try SourceTree.moduleMap(in: folder + "/B.swift") == nil)
        try "import Foundation\n\n// C: after the imports. Files in reading order:\n//   C.swift\nlet c = 1\n"
            .write(toFile: folder + "/C.swift", atomically: true, encoding: .utf8)
        #expect(try SourceTree.moduleMap(in: folder + "/C.swift")?.contains("C.swift") == true)
        #expect(try SourceTree.imports(of: folder) == ["Foundation"])
    }
}

/// The targets as SwiftPM reads Package.swift (`swift package dump-package`), with the module names they depend on.
struct PackageTargets {
    let name: String
    let folder: String
    let dependencies: Set<String>
    let isSwift: Bool
    let isTest: Bool

    static func read(root: String) throws -> [PackageTargets] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A scratch folder of its own, so the check never waits for the build's lock on .build.
        let scratch = NSTemporaryDirectory() + "imgcls-structure-scratch"
        process.arguments = ["swift", "package", "--package-path", root, "--scratch-path", scratch, "dump-package"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CheckError("swift package dump-package failed in \(root)") }
        struct Manifest: Decodable { let targets: [Target] }
        struct Target: Decodable {
            let name: String
            let type: String
            let path: String?
            let dependencies: [Dependency]
        }
        /// `{"byName": [name, null]}`, `{"target": [name, null]}` or `{"product": [name, package, ...]}`.
        struct Dependency: Decodable {
            let name: String
            init(from decoder: any Decoder) throws {
                let values = try decoder.singleValueContainer().decode([String: [String?]].self)
                guard let first = values.values.first?.first ?? nil else { throw CheckError("a dependency without a name") }
                name = first
            }
        }
        return try JSONDecoder().decode(Manifest.self, from: data).targets.map { target in
            let folder = root + "/" + (target.path ?? (target.type == "test" ? "Tests/" : "Sources/") + target.name)
            // System library and C targets have no Swift files.
            let isSwift = (try? SourceTree.swiftFiles(in: folder).isEmpty) == false
            return PackageTargets(name: target.name, folder: folder, dependencies: Set(target.dependencies.map(\.name)),
                                  isSwift: isSwift, isTest: target.type == "test")
        }
    }
}

/// What the Swift files of a folder say about themselves.
enum SourceTree {
    /// Every Swift file below `folder`, as paths relative to it, sorted.
    static func swiftFiles(in folder: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { throw CheckError("\(folder): cannot be read") }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted()
    }

    /// The modules the files import (`import X`, `@testable import X`, `internal import X`, ...; not `import struct X.Y`).
    static func imports(of folder: String) throws -> Set<String> {
        var modules: Set<String> = []
        for file in try swiftFiles(in: folder) {
            for line in try String(contentsOfFile: folder + "/" + file, encoding: .utf8).split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                guard let at = words.firstIndex(of: "import"), at + 1 < words.count,
                      words[..<at].allSatisfy({ ["public", "package", "internal", "private", "fileprivate"].contains($0) }) else { continue }
                modules.insert(String(words[at + 1].split(separator: ".")[0]))
            }
        }
        return modules
    }

    /// The comment a file opens with (before or after its imports), when it is a module map: it says "in
    /// reading order".
    static func moduleMap(in path: String) throws -> String? {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let isPreamble = { (line: Substring) in line.isEmpty || line.split(separator: " ").contains("import") && !line.hasPrefix("//") }
        let opening = lines.drop(while: isPreamble).prefix { $0.hasPrefix("//") && !$0.hasPrefix("///") }.joined(separator: "\n")
        return opening.contains("in reading order") ? opening : nil
    }
}

struct CheckError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
