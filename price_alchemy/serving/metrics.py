"""Prometheus metrics of the service, in a registry of its own (one per app): requests and their
latency by route, method and status, suggestions served by arm, prediction-log rows dropped, and
the model each arm serves (1 for the version it serves)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("route", "method", "status")
        self.requests = Counter(
            "http_requests", "HTTP requests answered.", labels, registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.suggestions = Counter(
            "price_suggestions", "Listings priced, by arm.", ("arm",), registry=self.registry
        )
        self.log_dropped = Counter(
            "prediction_log_dropped",
            "Prediction records not written (queue full or write failed).",
            registry=self.registry,
        )
        self.batch_requests = Histogram(
            "prediction_batch_requests",
            "Requests priced together in one model call.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.models = Gauge(
            "served_model_info",
            "The version each arm serves (1), by arm, name, version and alias.",
            ("arm", "name", "version", "alias"),
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method, str(status)).observe(seconds)

    def show_models(self, served: dict) -> None:
        """The models each arm serves now (a ServedModel, or None when the arm serves none)."""
        self.models.clear()
        for arm, model in served.items():
            if model is not None:
                info = model.info
                self.models.labels(arm, info.name, info.version, info.alias).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
