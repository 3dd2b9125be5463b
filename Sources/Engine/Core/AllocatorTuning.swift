internal import CMalloc

/// Training allocates and frees the same large buffers (layer outputs, im2col matrices) every step. glibc
/// serves large blocks with mmap and returns them on free, so each step would fault every page in again (a
/// tenth of the time); keeping freed memory in the heap lets the next step reuse it.
enum AllocatorTuning {
    nonisolated(unsafe) private static var applied = false

    static func keepFreedMemoryForReuse() {
        guard !applied else { return }
        applied = true
        // 32 MiB is glibc's largest mmap threshold on 64-bit systems; larger blocks are rare here.
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
    }
}
