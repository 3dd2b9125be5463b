import Files
import Foundation
import Imaging

/// A folder in Keras's `flow_from_directory` layout: one sub-folder per label, the labels being the sorted
/// sub-folder names (so class indices match what Keras assigns), the images anywhere below each.
public struct ImageFolder: Sendable {
    public struct Sample: Sendable, Hashable {
        public let path: String
        public let label: Int

        public init(path: String, label: Int) {
            (self.path, self.label) = (path, label)
        }
    }

    public let root: String
    public let labels: [String]
    public let samples: [Sample]

    public init(_ root: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
            throw EngineError("\(root): no such folder; give a folder with one sub-folder per label (as `imgcls split` writes)")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        labels = names.filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isFolder) && isFolder.boolValue
        }.sorted()
        guard !labels.isEmpty else { throw EngineError("\(root): has no label sub-folders (expected \(root)/<label>/<image files>)") }
        self.root = root
        samples = labels.enumerated().flatMap { index, label in
            DirectoryWalker(root: root + "/" + label).map { Sample(path: $0, label: index) }.sorted { $0.path < $1.path }
        }
    }

    /// Maps this folder's samples onto `modelLabels` (the validation folder may lack a label, or order them
    /// differently); samples of labels the model does not know are an error naming them.
    public func samples(for modelLabels: [String]) throws -> [Sample] {
        let index = Dictionary(uniqueKeysWithValues: modelLabels.enumerated().map { ($1, $0) })
        let unknown = labels.filter { index[$0] == nil }
        guard unknown.isEmpty else {
            throw EngineError("\(root): labels \(labelList(unknown)) are not among the model's (\(labelList(modelLabels)))")
        }
        return samples.map { Sample(path: $0.path, label: index[labels[$0.label]]!) }
    }
}
