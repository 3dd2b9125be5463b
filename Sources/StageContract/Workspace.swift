// StageContract: what every stage agrees on, below them all and above no database. Entry: `Workspace` (the layout
// drawn once, every path spelled there). Files in reading order:
//   Workspace.swift         the workspace folder and every path in it (this file), CatalogError
//   Label.swift             class labels, checked like path parts
//   Reason.swift            the stable reason codes and quality flags, as one type
//   Share.swift             share K of N of a set (`--shard`)
//   DuplicateCluster.swift  the one rule for a cluster of the same picture: the keeper, or a label conflict
//   ContactSheet.swift      the grid pictures of items that reports show, written in the workspace

import Files
import Foundation

/// A workspace or catalog that cannot be used: the file or folder, and what is wrong (for the catalog, the statement
/// or step and SQLite's own words). The same type as a file's refusal, under the catalog's name.
public typealias CatalogError = FileError


/// The workspace folder (`./data` by default) and every path a stage reads or writes in it: the one place that
/// spells the layout, so no stage builds a workspace path itself.
///
/// ```
/// catalog.sqlite                       the catalog (`Catalog`)
/// raw/<label>/<sha256-prefix>.<ext>    stored bytes, as received (content addressed)
/// resized/<label>/<sha256-prefix>.jpg  copies resized while fetching
/// tmp/                                 temporary files of atomic writes
/// train|validation|test/<label>/       the split (`Split`); folds/<k>/{train,validation}/<label>/ for k-fold
/// splits.csv                           every file of the split
/// models/<name>/                       model.safetensors, checkpoint.safetensors, report/
/// reports/                             stage summaries; reports/curate/ holds the contact sheets
/// features/<backbone>/<size>/          cached backbone features, by content hash
/// thumbnails/<side>/<sha256[..2]>/     the review app's thumbnails, by content hash (a cache)
/// ```
public struct Workspace: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    /// `root/relative`; catalog rows store paths relative to the workspace so it can be moved.
    public func path(_ relative: String) -> String { root + "/" + relative }

    // MARK: The catalog

    public static let catalogFileName = "catalog.sqlite"
    public var catalogPath: String { path(Workspace.catalogFileName) }
    public var hasCatalog: Bool { FileIO.kind(of: catalogPath) == .file }

    // MARK: Stored files

    /// Where the bytes as received are stored: by label and content, so the same bytes under one label are one file.
    public static func rawFile(label: Label, sha256: String, fileExtension: String) -> String {
        "raw/\(label.name)/\(sha256.prefix(16)).\(fileExtension)"
    }

    /// Where the copy resized while fetching is stored (always JPEG).
    public static func resizedFile(label: Label, sha256: String) -> String {
        "resized/\(label.name)/\(sha256.prefix(16)).jpg"
    }

    public var temporaryFolder: String { path("tmp") }

    /// Makes the temporary folder and removes what killed runs left in it: a stage that stores files calls this
    /// once before it starts.
    public func prepareTemporaryFolder() throws(CatalogError) {
        do { try FileIO.createDirectory(temporaryFolder) } catch {
            throw CatalogError(path: temporaryFolder, detail: "\(error.detail); choose a writable --workspace")
        }
        FileIO.removeStaleTemporaryFiles(in: temporaryFolder)
    }

    /// Stores `bytes` at `relative` once: an existing file there is left alone (a content-addressed name means
    /// the same bytes). Written through the temporary folder and linked into place, so nothing half-written is
    /// ever seen; the label's folder is made on first use. With `linkingFrom`, a hard link to that file is
    /// tried first (no copy when both are on one file system). True when this call created the file.
    @discardableResult
    public func storeOnce(_ bytes: [UInt8], at relative: String, linkingFrom source: String? = nil) throws(FileError) -> Bool {
        let target = path(relative)
        if let source {
            if FileIO.kind(of: target) == .file { return false }
            try FileIO.createDirectory(FileIO.parentFolder(of: target))
            if FileIO.hardLink(source, at: target) { return true }
        }
        do {
            return try FileIO.createOnce(bytes, at: target, temporaryFolder: temporaryFolder)
        } catch {
            // The label's first file: make its folder and try again. Not only when the folder is still missing:
            // another worker may have made it since this one failed (that race lost a demo picture as
            // write_failed). Any other cause fails the second try with its own error.
            try FileIO.createDirectory(FileIO.parentFolder(of: target))
            return try FileIO.createOnce(bytes, at: target, temporaryFolder: temporaryFolder)
        }
    }

    // MARK: The split

    /// A split's folder, `train/`, `validation/` or `test/`, in the Keras flow_from_directory layout.
    public func folder(of split: Split) -> String { path(split.rawValue) }

    /// A split's label folder relative to the workspace, in fold `fold` for a k-fold split.
    public static func splitFolder(_ split: Split, label: String, fold: Int? = nil) -> String {
        (fold.map { "\(foldsFolderName)/\($0)/" } ?? "") + "\(split.rawValue)/\(label)"
    }

    /// The top-level folders a split writes (and replaces when it runs again).
    public static var splitFolderNames: [String] { Split.allCases.map(\.rawValue) + [foldsFolderName] }

    private static let foldsFolderName = "folds"

    /// Every file of the split, as CSV.
    public var splitListPath: String { path("splits.csv") }

    // MARK: Models

    public var modelsFolder: String { path("models") }

    public static let modelFileName = "model.safetensors"
    public static let checkpointFileName = "checkpoint.safetensors"

    /// The folder of the model called `name`.
    public func modelFolder(_ name: String) -> String { modelsFolder + "/" + name }

    /// The model file a command line's model reference means: a reference with a slash (or a `.safetensors`
    /// ending) is a path, to the file or to the folder holding `model.safetensors`; anything else is a model name
    /// in this workspace. The error says which was looked for, and where.
    public func modelFile(_ reference: String) throws(CatalogError) -> String {
        if reference.contains("/") || reference.hasSuffix(".safetensors") {
            let file = FileIO.kind(of: reference) == .directory ? reference + "/" + Workspace.modelFileName : reference
            guard FileIO.kind(of: file) == .file else {
                throw CatalogError(path: file, detail: "no model file there (the model was given as a path, since it has a slash or a .safetensors ending); give a model.safetensors that `imgcls train` wrote, or a model name")
            }
            return file
        }
        let file = modelFolder(reference) + "/" + Workspace.modelFileName
        guard FileIO.kind(of: file) == .file else {
            throw CatalogError(path: file, detail: "no model named \(reference) in \(root); train one with `imgcls train --name \(reference)`, or give the path of a model.safetensors")
        }
        return file
    }

    /// Where `evaluate` writes its report for a model file: `report/` beside it.
    public static func reportFolder(forModelFile file: String) -> String {
        FileIO.parentFolder(of: file) + "/report"
    }

    // MARK: Features

    /// Cached backbone features, by backbone and input size (the files inside are named by content hash).
    public func featuresFolder(backbone: String, inputSize: Int) -> String { path("features/\(backbone)/\(inputSize)") }

    // MARK: Reports

    public var reportsFolder: String { path(Workspace.reportsFolderName) }

    /// A stage's summary, e.g. `reports/curate.json`.
    public func report(_ fileName: String) -> String { reportsFolder + "/" + fileName }

    /// The reports folder's files: the stages' summaries and the page that shows them all.
    public enum ReportFile {
        public static let fetch = "fetch.json", curate = "curate.json", curateMarkdown = "curate.md", split = "split.json"
        public static let page = "index.html"
        /// Model-assisted curation's summary (`curate --label-issues`, `--semantic-duplicates`, `--off-topic`).
        public static let assist = "assist.json", assistMarkdown = "assist.md"
        /// A completed fetch's marker (`ShardCompletion`).
        public static let shard = "shard.json"
    }

    /// A model's report folder's files (`reportFolder(forModelFile:)`).
    public enum ModelReportFile {
        public static let metrics = "metrics.json", confusion = "confusion.svg", curves = "curves.svg"
        public static let misclassified = "misclassified.csv"
        /// What describes one evaluation of the model (the curves describe its training).
        public static let evaluation = [metrics, confusion, misclassified]
    }

    /// The curate contact sheets' folder, relative to the workspace and to the reports folder (curate.md links
    /// them from there).
    public static let contactSheetsFolder = (workspace: reportsFolderName + "/curate", reports: "curate")
    /// Model-assisted curation's contact sheets, likewise.
    public static let assistSheetsFolder = (workspace: reportsFolderName + "/assist", reports: "assist")

    /// Removes model-assisted curation's report and sheets: a curate run or reset clears the decisions they show.
    public func removeAssistReports() {
        for file in [ReportFile.assist, ReportFile.assistMarkdown] { try? FileManager.default.removeItem(atPath: report(file)) }
        try? FileManager.default.removeItem(atPath: path(Self.assistSheetsFolder.workspace))
    }

    private static let reportsFolderName = "reports"

    // MARK: The review app

    /// `imgcls review`'s port unless told otherwise (serve's is 8133).
    public static let reviewPort = 8134

    /// The command that opens the review app on this workspace (what curate and the report page suggest).
    public static func reviewCommand(_ workspace: Workspace) -> String {
        workspace.root == "data" || workspace.root == "./data" ? "imgcls review" : "imgcls review --workspace \(workspace.root)"
    }

    /// The review app's thumbnail of a file, by its content hash and the thumbnail's longer side (a cache: removing
    /// it only costs making them again). Two hex digits of folders keep each folder small on millions of files.
    public static func thumbnailFile(sha256: String, side: Int) -> String {
        "thumbnails/\(side)/\(sha256.prefix(2))/\(sha256).jpg"
    }
}

/// The parts of a split; the raw values are the folder names and the catalog's `split` column.
public enum Split: String, Sendable, Codable, CaseIterable, Comparable {
    case train
    case validation
    case test

    public static func < (a: Split, b: Split) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
