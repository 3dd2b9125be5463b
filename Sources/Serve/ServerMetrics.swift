import Metrics
import Prometheus

/// `/metrics` in Prometheus's text format. swift-metrics has one backend per process, so the first server started
/// installs this registry and every server in the process reports into it: Hummingbird's `MetricsMiddleware`
/// (requests by route, method and status; the latency histogram `http_server_request_duration_seconds`) and the
/// inference queue's own (batch sizes, queue depth, images classified or refused).
enum ServerMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Images per batch: 1 to the largest `--max-batch` worth having.
        factory.valueHistogramBuckets["imgcls_batch_images"] = [1, 2, 4, 8, 16, 32, 64, 128]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Installs the backend (once); call before any metric is made.
    static func install() { _ = registry }

    static func text() -> [UInt8] { registry.emitToBuffer() }
}
