"""What a running API holds: the served model (loaded at start-up from the registry or an
exported directory, then swapped by the registry poller), the batcher that prices with it, the
prediction log (its store in a process of its own) and the metrics; started and stopped with the
app."""

import gc
from datetime import UTC, datetime
from functools import partial

from price_alchemy.data.prediction_store import open_prediction_store
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.serving.batcher import PredictionBatcher, Priced
from price_alchemy.serving.metrics import ServiceMetrics
from price_alchemy.serving.models import (
    ModelHolder,
    RegistryPoller,
    load_exported,
    load_registered,
)
from price_alchemy.serving.prediction_log import PredictionLog
from price_alchemy.serving.store_process import StoreProcess
from price_alchemy.settings import Settings

# The garbage collector's thresholds while serving. At Python's (700, 10, 10) it ran ~150
# young-generation collections a second under load: 4% of the API's CPU, in pauses that land on
# requests. What lives long (the model) is frozen out of its scans (`models._freeze_heap`) and
# almost all else is freed by reference counting, so collecting rarely keeps little memory.
GC_THRESHOLDS = (20_000, 20, 20)


class Service:
    def __init__(self, settings: Settings, metrics: ServiceMetrics) -> None:
        self.settings, self.metrics = settings, metrics
        self._gc_thresholds = gc.get_threshold()
        self.holder = ModelHolder()
        self.log = PredictionLog(
            StoreProcess(partial(open_prediction_store, settings)),
            settings.prediction_log_queue,
            on_drop=self.metrics.log_dropped.inc,
        )
        self.batcher = PredictionBatcher(
            self.holder,
            max_wait=settings.batch_max_wait_ms / 1000,
            on_batch=self.metrics.batch_requests.observe,
        )
        self.poller: RegistryPoller | None = None

    def start(self) -> None:
        """Load the first model (a failure leaves the service up, not ready) and start polling
        the registry when serving from it."""
        gc.set_threshold(*GC_THRESHOLDS)
        settings, exported = self.settings, self.settings.model_dir
        if exported is not None:
            self.holder.offer(lambda: load_exported(exported))
            return
        client = use_tracking(settings)
        self.holder.offer(
            lambda: load_registered(client, settings.model_name, settings.model_alias)
        )
        if settings.model_poll_seconds > 0:
            self.poller = RegistryPoller(
                self.holder,
                client,
                settings.model_name,
                settings.model_alias,
                settings.model_poll_seconds,
            )
            self.poller.start()

    def stop(self) -> None:
        if self.poller is not None:
            self.poller.stop()
        self.batcher.close()
        self.log.close()
        self.holder.close()
        gc.set_threshold(*self._gc_thresholds)

    def record(self, request_id: str, listings: list[dict], priced: Priced) -> None:
        """Queue one answer for the prediction log (never blocks) and count it."""
        info, now = priced.model.info, datetime.now(UTC).replace(tzinfo=None)
        rows = [
            listing
            | {
                "request_id": request_id,
                "position": position,
                "price": price,
                "low": low,
                "high": high,
                "currency": self.settings.currency,
                "model_name": info.name,
                "model_version": info.version,
                "created_at": now,
            }
            for position, (listing, (price, low, high)) in enumerate(
                zip(listings, priced.ranges, strict=True)
            )
        ]
        self.log.record(rows)
        self.metrics.suggestions.inc(len(rows))
