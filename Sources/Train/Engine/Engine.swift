/// The engine as benchmarks and reports see it: the threads of the math and the convolution kernels this build
/// uses. Training and evaluation set the threads from `--threads`; nothing else needs these.
public enum Engine {
    /// Threads that share each batch; each runs OpenBLAS single-threaded on its share (see `Parallel`).
    public static var threads: Int {
        get { Parallel.threads }
        set { Parallel.threads = newValue }
    }

    /// True when convolutions with a window run in the AVX2/FMA direct loops (`DirectConvolution`); false in a
    /// portable build, which uses im2col + OpenBLAS everywhere.
    public static var usesDirectConvolution: Bool { DirectConvolution.isFast }

    /// How this build convolves, in words, for benchmark reports.
    public static var convolutionKernels: String {
        usesDirectConvolution
            ? "direct convolution loops built for AVX2/FMA where channels allow, im2col + OpenBLAS (single-threaded) elsewhere"
            : "im2col + OpenBLAS (single-threaded) in each (a portable build: no AVX2/FMA loops)"
    }
}
