import Catalog
import Files
import Foundation

/// A backbone's pooled features of any image files, through the workspace's feature cache (the one
/// `train --mode head` reads and fills): what is cached is read, the rest computed and cached. For
/// model-assisted curation, which needs features of the catalog's images rather than of a split.
public enum BackboneFeatures {
    /// Each file's features (nil where the file cannot be read), `EfficientNetLite.featureWidth` values each.
    public static func of(_ files: [String], backbone: BackboneReference, workspace: Workspace,
                          showProgress: Bool) throws -> [[Float]?] {
        try views(files, backbone: backbone, workspace: workspace, showProgress: showProgress, quarterTurned: false).map { $0?.plain }
    }

    /// Each file's features as it is and, when asked, turned a quarter (`Augmentation.quarterTurned`), both cached.
    public static func views(_ files: [String], backbone: BackboneReference, workspace: Workspace, showProgress: Bool,
                             quarterTurned: Bool) throws -> [(plain: [Float], quarterTurned: [Float]?)?] {
        let model = try ModelFile.load(backbone.modelFile).model
        let cache = FeatureCache(folder: workspace.featuresFolder(backbone: backbone.name, inputSize: model.spec.inputSize),
                                 width: EfficientNetLite.featureWidth)
        let loader = BatchLoader(side: model.spec.inputSize, normalization: model.normalization, cacheMegabytes: 0)
        // Each sample's label is its position, so the features come back to their files without hashing
        // the files again (extraction leaves out the unreadable ones).
        let extracted = try FeatureExtraction(model: model, cache: cache, loader: loader,
                                              augmentation: quarterTurned ? .quarterTurned : Augmentation(), showProgress: showProgress, stop: nil)
            .features(train: files.enumerated().map { ImageFolder.Sample(path: $1, label: $0) }, validation: [], views: quarterTurned ? 2 : 1)
        var features = [(plain: [Float], quarterTurned: [Float]?)?](repeating: nil, count: files.count)
        for item in extracted.train { features[item.label] = (item.views[0], item.views.count > 1 ? item.views[1] : nil) }
        return features
    }

    /// The width of the features `of` returns.
    public static var width: Int { EfficientNetLite.featureWidth }
}
