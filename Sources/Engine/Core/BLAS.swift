internal import COpenBLAS

/// Row-major matrix products on OpenBLAS: `c = alpha * op(a) * op(b) + beta * c`, where op(a) is m x k and
/// op(b) is k x n. Public for Assist's linear heads.
public enum BLAS {
    public static func gemm(_ a: UnsafePointer<Float>, transposeA: Bool = false, _ b: UnsafePointer<Float>,
                     transposeB: Bool = false, into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
                     alpha: Float = 1, beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        if m == 1 && !transposeA {
            // One row (an image's features through a dense layer): a matrix-vector product. OpenBLAS's sgemm took
            // 0.49 ms for MobileNetV3's 960x1280 layer on one row, mostly packing the weights it reads once.
            cblas_sgemv(CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans, Int32(transposeB ? n : k), Int32(transposeB ? k : n),
                        alpha, b, Int32(transposeB ? k : n), a, 1, beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n),
                    beta, c, Int32(n))
    }

    /// The number of threads OpenBLAS uses for one product. Training sets it deliberately: the math gets the
    /// cores while decoding runs on threads of its own that are mostly idle once images are cached.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
