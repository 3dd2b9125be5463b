/// Eight floats in one AVX register: the unit of the direct loops (`DirectConvolution`, `DirectDepthwise`).
typealias Lanes = SIMD8<Float>

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

@inline(__always) func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
}

/// acc += a * b, fused where the build has FMA (without it `addProduct` would be a library call per lane).
@inline(__always) func multiplyAdd(_ acc: inout Lanes, _ a: Lanes, _ b: Lanes) {
    #if IMGCLS_FMA
    acc.addProduct(a, b)
    #else
    acc += a * b
    #endif
}

/// v clamped to [floor, ceiling] lane by lane, as compare-and-blend instructions: the standard library's
/// `clamped(lowerBound:upperBound:)` compiles to a scalar, NaN-aware call per lane (measured: it made the depthwise
/// loops several times slower).
@inline(__always) func clamp(_ v: Lanes, _ floor: Lanes, _ ceiling: Lanes) -> Lanes {
    v.replacing(with: floor, where: v .< floor).replacing(with: ceiling, where: v .> ceiling)
}
