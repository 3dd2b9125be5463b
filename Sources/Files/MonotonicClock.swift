#if canImport(Glibc)
import Glibc
#endif

/// Monotonic seconds, for scheduling and timing (immune to clock changes).
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
