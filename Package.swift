// swift-tools-version:6.0
import Foundation
import PackageDescription

/// One `systemLibrary` per C library from Debian; `providers` names the package that installs it.
func system(_ name: String, _ pkgConfig: String?, _ apt: [String]) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt(apt)])
}

/// The engine's direct convolution loops (Sources/Engine/Layers/DirectConvolution.swift) and Imaging's pixel loops are
/// built for AVX2 and FMA when the machine that builds has them, as `-march=native` builds do (the resize of a
/// web-sized JPEG's decode to 256 px took 0.36 ms instead of 0.47); the binary then needs such a CPU (any x86-64
/// since 2013-2015). `IMGCLS_PORTABLE=1 swift build` builds for any x86-64 and trains with im2col + OpenBLAS:
/// use it for a binary that runs elsewhere, and when cross-compiling (the manifest sees the building machine).
func vectorSettings() -> [SwiftSetting] {
    #if arch(x86_64) && os(Linux)
    guard ProcessInfo.processInfo.environment["IMGCLS_PORTABLE"] != "1",
          let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    // What `-target-cpu haswell` lets the compiler generate from plain Swift code.
    let haswell: Set<Substring> = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "popcnt"]
    guard haswell.isSubset(of: Set(flagsLine.split(separator: " "))) else { return [] }
    return [.unsafeFlags(["-target-cpu", "haswell"]), .define("IMGCLS_FMA")]
    #else
    return []
    #endif
}

let package = Package(
    name: "imgcls",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "imgcls", targets: ["imgcls"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "Catalog", targets: ["Catalog"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // ONNX models are protobuf (ONNXModel).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // The server (Serve).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through Hummingbird; named because Serve and its tests import them.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
    ],
    targets: [
        system("CSQLite", "sqlite3", ["libsqlite3-dev"]),
        system("CCurl", "libcurl", ["libcurl4-openssl-dev"]),
        system("CXML2", "libxml-2.0", ["libxml2-dev"]),
        system("CJPEG", "libjpeg", ["libjpeg62-turbo-dev"]),
        system("CPNG", "libpng16", ["libpng-dev"]),
        system("CWebP", "libwebp", ["libwebp-dev"]),
        system("CGIF", nil, ["libgif-dev"]),
        system("COpenBLAS", "openblas", ["libopenblas-dev"]),
        // oneDNN: inference convolutions with fused post-ops, JIT-compiled for the CPU found (AVX2, AVX-512, VNNI).
        system("CDNNL", nil, ["libdnnl-dev"]),
        // zlib; named CLibz because ZIPFoundation brings a module called CZlib.
        system("CLibz", "zlib", ["zlib1g-dev"]),
        system("CCrypto", "libcrypto", ["libssl-dev"]),
        system("CMalloc", nil, ["libc6-dev"]),
        // The setjmp/longjmp error handling of libjpeg and libpng, kept inside C functions.
        .target(
            name: "CImageCodecs", dependencies: ["CJPEG", "CPNG", "CGIF"],
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("gif")]),

        .target(name: "Files", dependencies: ["CCrypto", "CLibz"]),
        // Untrusted input: the restricted ONNX reader (its protobuf code generated once by scripts/generate-onnx-protobuf.sh).
        .target(name: "ONNXModel", dependencies: ["Files", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Untrusted input: the restricted PyTorch checkpoint reader.
        .target(name: "TorchCheckpoint", dependencies: ["Files", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "Console", dependencies: ["Files", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Imaging", dependencies: ["CImageCodecs", "CPNG", "CWebP", "Files"], swiftSettings: vectorSettings()),
        // What every stage agrees on: the workspace layout, labels, reason codes, K of N, the keeper rule.
        .target(name: "StageContract", dependencies: ["Files", "Imaging"]),
        // The SQLite store of the workspace's items.
        .target(name: "Catalog", dependencies: ["CSQLite", "StageContract", "Files"]),
        .target(
            name: "Fetch",
            dependencies: ["CCurl", "CXML2", "Imaging", "Catalog", "StageContract", "Files", "Console",
                           .product(name: "Logging", package: "swift-log")]),
        .target(name: "Curate", dependencies: ["Imaging", "Catalog", "StageContract", "Files", "Console",
                                               .product(name: "Logging", package: "swift-log")]),
        // The neural-network engine: tensors, layers, kernels, networks, model files, input batches, inference.
        // No workspace, catalog or console: Predict, Serve, Backbone and Assist link it without training or SQLite.
        .target(name: "Engine", dependencies: ["COpenBLAS", "CDNNL", "CMalloc", "Imaging", "Files",
                                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: vectorSettings()),
        // Training runs on the engine: optimizers, the epoch loop, head training, evaluation reports.
        .target(name: "Train", dependencies: ["Engine", "Imaging", "StageContract", "Files", "Console",
                                              .product(name: "Logging", package: "swift-log")]),
        .target(name: "Backbone", dependencies: ["TorchCheckpoint", "ONNXModel", "Engine", "Files", "Console",
                                                 .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "Predict", dependencies: ["Engine", "Imaging", "Files", "Console"]),
        // Untrusted hash lists (PDQ, MD5, SHA-256 as moderation teams exchange them).
        .target(name: "HashLists", dependencies: ["Imaging", "Files"]),
        // Untrusted request bodies (base64, JSON, multipart, the Open Inference Protocol's JSON), apart from the server.
        .target(name: "HTTPBodies", dependencies: ["Files"]),
        // What both servers share: the connection guard, the idle timeout, JSON replies, bodies within limits, the API key.
        .target(
            name: "HTTPServing",
            dependencies: ["HTTPBodies",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                           .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Serve",
            dependencies: ["Predict", "HTTPBodies", "HTTPServing", "Imaging", "Files",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdCore", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "Logging", package: "swift-log")]),
        // The review web app (`imgcls review`): the catalog in the browser, a person's decisions journaled. Its page,
        // script and style are embedded in the binary (no build step, no network).
        .target(
            name: "Review",
            dependencies: ["Catalog", "StageContract", "HTTPBodies", "HTTPServing", "Imaging", "Files",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")],
            resources: [.embedInCode("Assets/index.html"), .embedInCode("Assets/app.js"), .embedInCode("Assets/app.css")]),
        .executableTarget(
            name: "imgcls",
            dependencies: [
                "Imaging", "Catalog", "StageContract", "Console", "Files", "Fetch", "Curate", "Engine", "Train", "Backbone", "Predict", "Serve", "Review", "Demo", "Pipeline", "Report", "Export", "Assist", "HashLists",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // The workspace's report page, from the files the stages leave (it imports no stage).
        .target(name: "Report", dependencies: ["Catalog", "StageContract", "Imaging", "Files", "Console"]),
        // The split as WebDataset tar shards, for trainers at scale.
        .target(name: "Export", dependencies: ["Catalog", "StageContract", "Files"]),
        // Model-assisted curation: label issues (confident learning), later semantic duplicates and off-topic images.
        .target(name: "Assist", dependencies: ["Engine", "Catalog", "StageContract", "Imaging", "Files", "Console"]),
        // `imgcls run`'s pipeline file and record of completed stages.
        .target(name: "Pipeline", dependencies: ["Files", .product(name: "Yams", package: "Yams")]),
        // `imgcls demo`'s pictures and web site (the stages themselves run from the command line's target).
        .target(name: "Demo", dependencies: ["SampleImages", "LoopbackHTTP", "Catalog", "StageContract", "Imaging", "Files", "Console"]),
        // A small HTTP server on 127.0.0.1 for tests and the demo.
        .target(name: "LoopbackHTTP", dependencies: ["CLibz", "Files"]),
        // Synthetic images, valid and broken, for tests, the demo and benchmarks.
        .target(name: "SampleImages", dependencies: ["Imaging", "Files", "CPNG", "CWebP", "CGIF"]),
        .executableTarget(
            name: "imgcls-dev",
            dependencies: ["Imaging", "SampleImages", "Files", "LoopbackHTTP", "Curate", "Engine", "Train", "Predict", "Demo", "Assist", "Backbone", "Catalog", "StageContract", "Console",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "ONNXModelTests", dependencies: ["ONNXModel"]),
        .testTarget(name: "TorchCheckpointTests", dependencies: ["TorchCheckpoint", "Files", "SampleImages"], exclude: ["Fixtures"]),
        .testTarget(name: "BackboneTests", dependencies: ["Backbone", "ONNXModel", "Engine", "TorchCheckpoint", "Files", "SampleImages"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "SampleImages", "Files"], exclude: ["Fixtures"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "StageContract", "Files"]),
        .testTarget(name: "ExportTests", dependencies: ["Export", "Catalog", "StageContract", "Files", "SampleImages"]),
        .testTarget(name: "AssistTests", dependencies: ["Assist", "Files", "Imaging", "SampleImages"], exclude: ["Fixtures"]),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "StageContract", "Imaging", "SampleImages", "Files"]),
        .testTarget(name: "FilesTests", dependencies: ["Files", "SampleImages"]),
        .testTarget(name: "CurateTests", dependencies: ["Curate", "Catalog", "StageContract", "Files", "Imaging", "SampleImages"]),
        .testTarget(name: "FetchTests", dependencies: ["Fetch", "LoopbackHTTP", "SampleImages", "Catalog", "StageContract", "Files", "Imaging"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Files", "SampleImages"]),
        .testTarget(name: "TrainTests", dependencies: ["Train", "Engine", "StageContract", "Files", "Imaging", "SampleImages"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["CCurl", "CXML2", "COpenBLAS", "CSQLite"]),
        .testTarget(name: "PredictTests", dependencies: ["Predict", "Engine", "Files", "Imaging", "SampleImages"]),
        .testTarget(name: "HTTPBodiesTests", dependencies: ["HTTPBodies", "Files"]),
        .testTarget(name: "HashListsTests", dependencies: ["HashLists", "Imaging", "Files", "SampleImages"]),
        .testTarget(name: "ReviewTests", dependencies: ["Review", "Catalog", "StageContract", "Imaging", "Files", "SampleImages",
                                                        .product(name: "Hummingbird", package: "hummingbird"),
                                                        .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                        .product(name: "NIOCore", package: "swift-nio"),
                                                        .product(name: "HTTPTypes", package: "swift-http-types")]),
        .testTarget(name: "ServeTests", dependencies: ["Serve", "Predict", "Engine", "Files", "SampleImages",
                                                       .product(name: "Hummingbird", package: "hummingbird"),
                                                       .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                       .product(name: "NIOCore", package: "swift-nio"),
                                                       .product(name: "HTTPTypes", package: "swift-http-types")]),
        // Package.swift against the imports, and every module map against its files.
        .testTarget(name: "StructureTests"),
        .testTarget(name: "CommandTests", dependencies: ["SampleImages", "Files", "Catalog", "StageContract", "Imaging", "LoopbackHTTP", "Demo"]),
    ]
)
