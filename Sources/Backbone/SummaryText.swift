import Console
import Foundation

extension BackboneSummary {
    /// What `imgcls backbone install` prints.
    public var text: String {
        String(format: "%@: installed from %@ (%d parameters, %.1f s) as %@", name, source, parameters, seconds, modelFile)
    }
}

extension KnownBackbone {
    /// What `imgcls backbone list` prints: each known backbone, its input size, wheel and where it is installed,
    /// then the imported networks.
    public static func listing(_ store: BackboneStore) -> String {
        var table = TextTable(["backbone", "input", "from", "installed"])
        for known in all {
            table.add([known.name, "\(known.inputSize) px", "\(known.package)==\(known.version)",
                       store.isInstalled(known.name) ? store.modelFile(known.name) : "no"])
        }
        for name in store.installed where !all.contains(where: { $0.name == name }) {
            table.add([name, "", "imported (ONNX)", store.modelFile(name)])
        }
        return table.render()
    }
}

extension BackboneClassification.Answer {
    /// What `imgcls classify` prints for one file: its name (or why it could not be read) and its classes.
    public func text(skipped: [String: String]) -> String {
        ([top.isEmpty ? skipped[file] ?? "\(file): could not be read" : file]
            + top.map { String(format: "  %6.2f%%  %3d %@", $0.probability * 100, $0.index, $0.name) }).joined(separator: "\n")
    }
}
