import Prometheus

/// `/metrics`: watch's counters, the LISTEN gauge and the alert latency histogram in a swift-prometheus
/// registry, updated as things happen and written in Prometheus' text format when scraped.
public struct WatchMetrics: Sendable {
  public let registry: PrometheusCollectorRegistry
  let checks: Counter
  let checkFailures: Counter
  let driftFound: Counter
  let alertsDelivered: Counter
  let alertFailures: Counter
  let listening: Gauge
  let alertLatency: ValueHistogram

  public static let latencyBuckets: [Double] = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300]

  public init() {
    let registry = PrometheusCollectorRegistry()
    self.registry = registry
    func counter(_ name: String, _ help: String) -> Counter {
      registry.makeCounter(descriptor: Self.descriptor(name, help))
    }
    checks = counter("driftwatch_checks_total", "Checks run by watch.")
    checkFailures = counter(
      "driftwatch_check_failures_total", "Checks that failed (warehouse or project errors).")
    driftFound = counter("driftwatch_drift_found_total", "Incidents opened on breaking drift.")
    alertsDelivered = counter("driftwatch_alerts_delivered_total", "Alerts delivered.")
    alertFailures = counter("driftwatch_alert_failures_total", "Failed alert delivery attempts (retried).")
    listening = registry.makeGauge(
      descriptor: Self.descriptor("driftwatch_listening", "Whether the LISTEN connection is up (PostgreSQL).")
    )
    alertLatency = registry.makeValueHistogram(
      descriptor: Self.descriptor(
        "driftwatch_alert_latency_seconds", "DDL (or detection) to alert delivered."),
      buckets: Self.latencyBuckets)
  }

  static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, helpText: help)
  }

  /// The exposition, `text/plain; version=0.0.4`.
  public func rendered() -> String { registry.emitToString() }
}
