// Engine: the neural-network engine, with no workspace, catalog or console. Entries: `Model` (a network: spec,
// labels, head, one training step; Networks/Model.swift), `ModelFile` (model.safetensors in and out), `BatchLoader`
// (image files to input tensors), `Kernels` (below: threads and convolution kernels) and `InferenceKernels` (oneDNN
// or the engine's own loops for inference). Train learns with it;
// Predict, Serve, Backbone and Assist only run it. Folders in reading order:
//   Engine.swift   this map, `Kernels`, `EngineError`
//   Core/          Tensor.swift (Tensor, Parameter), Layer.swift (the protocol, Sequential), Parallel.swift (a batch
//                  shared by threads), BLAS.swift (OpenBLAS sgemm), AllocatorTuning.swift (glibc malloc for big arrays)
//   Layers/        Convolution.swift (Conv2D) with Im2col.swift, DirectConvolution.swift and Lanes.swift (the AVX2/FMA
//                  loops), DepthwiseConvolution.swift with DirectDepthwise.swift, BatchNorm.swift, Pooling.swift,
//                  Activations.swift, Dense.swift, Residual.swift, ZeroPad.swift, Loss.swift, Weights.swift
//   Networks/      Model.swift, ResidualNetwork.swift, BaselineNetwork.swift, EfficientNetLite.swift,
//                  CombinedBackbones.swift (several backbones side by side, their features concatenated),
//                  InferenceFolding.swift (batch norm folded into convolutions for inference)
//   Graph/         GraphSpec.swift (an imported network's steps, as the model file stores them), GraphNetwork.swift
//                  (runs them image by image), GraphKernels.swift (the loops of steps no engine layer runs),
//                  GraphTraining.swift (fine-tuning its last blocks: their backward passes), GraphOnLibrary.swift
//                  (its inference copy on library kernels, activations and residual sums fused into convolutions)
//   Kernels/       InferenceKernels.swift (library or reference kernels for inference; the pass that moves layers
//                  onto the library), OneDNN.swift (the library: engine, streams, threads), LibraryConvolution.swift
//                  (a oneDNN convolution with post-ops, beside its plain-loop reference), ConvolutionPrimitive.swift
//                  (its primitive per input shape, float or int8), Int8Quantization.swift (input scales, weight
//                  codes, calibration ranges), FastStepKernels.swift (tight loops for an imported network's
//                  element-wise, pooling and reduction steps)
//   ModelFiles/    ModelFile.swift (the model file's contents, BackboneReference), SafeTensors.swift (the format)
//   Input/         ImageFolder.swift (flow_from_directory folders), BatchLoader.swift (InputPreparation: decode,
//                  resize, normalise; batches), Augmentation.swift
//   Inference/     Evaluator.swift (a model over samples: Predictions), FeatureExtraction.swift (backbone features
//                  through a cache folder, LoopProgress), Int8Calibration.swift (input scales for an int8 model)
// Loading images and caching features sit here, not in Train, because Backbone and Assist run networks over
// image files too and must not link training or the catalog.

import Files

/// A refusal of the engine's (a folder that is not a dataset, a feature cache that cannot be written).
public typealias EngineError = ErrorMessage

/// Labels for a message: all of them when few, else the first ones and the count (an ImageNet model has 1000).
package func labelList(_ labels: [String]) -> String {
    labels.count <= 12 ? labels.joined(separator: ", ") : labels.prefix(10).joined(separator: ", ") + ", … (\(labels.count) in all)"
}

/// The engine as benchmarks and reports see it: the threads of the math and the convolution kernels this build
/// uses. Training and evaluation set the threads from `--threads`; nothing else needs these.
public enum Kernels {
    /// Threads that share each batch; each runs OpenBLAS single-threaded on its share (see `Parallel`).
    public static var threads: Int {
        get { Parallel.threads }
        set { Parallel.threads = newValue }
    }

    /// True when convolutions with a window run in the AVX2/FMA direct loops (`DirectConvolution`); false in a
    /// portable build, which uses im2col + OpenBLAS everywhere.
    public static var usesDirectConvolution: Bool { DirectConvolution.isFast }

    /// How this build convolves, in words, for benchmark reports.
    public static var convolutionDescription: String {
        usesDirectConvolution
            ? "direct convolution loops built for AVX2/FMA where channels allow, im2col + OpenBLAS (single-threaded) elsewhere"
            : "im2col + OpenBLAS (single-threaded) in each (a portable build: no AVX2/FMA loops)"
    }
}
