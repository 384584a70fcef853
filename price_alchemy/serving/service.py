"""What a running API holds: the served model (loaded at start-up from the registry or an
exported directory, then swapped by the registry poller), the batcher that prices with it, the
prediction log (its store in a process of its own) and the metrics; started and stopped with the
app."""

import gc
import threading
from datetime import UTC, datetime
from functools import partial

from price_alchemy.data.prediction_store import PredictionStore, open_prediction_store
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.serving.batcher import PredictionBatcher, Priced
from price_alchemy.serving.experiment import Experiment
from price_alchemy.serving.metrics import ServiceMetrics
from price_alchemy.serving.models import (
    ModelHolder,
    RegistryPoller,
    load_exported,
    load_registered,
)
from price_alchemy.serving.prediction_log import PredictionLog
from price_alchemy.serving.rate_limit import RateLimiter
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
        self.holder, self.challenger = ModelHolder(), ModelHolder()
        self.experiment = Experiment(
            settings.challenger_share, settings.experiment_mode, settings.model_name
        )
        self.log = PredictionLog(
            StoreProcess(partial(open_prediction_store, settings)),
            settings.prediction_log_queue,
            on_drop=self.metrics.log_dropped.inc,
        )
        self.batcher = PredictionBatcher(
            self.holder,
            max_wait=settings.batch_max_wait_ms / 1000,
            on_batch=self.metrics.batch_requests.observe,
            challenger=self.challenger if self.experiment.on else None,
            shadow=self.experiment.mode == "shadow",
        )
        self.pollers: list[RegistryPoller] = []
        self.outcome_limits = RateLimiter(settings.outcomes_rate, 2 * settings.outcomes_rate)
        self._outcome_store: PredictionStore | None = None
        self._outcome_lock = threading.Lock()

    def start(self) -> None:
        """Load the first model (a failure leaves the service up, not ready), and the
        challenger when an experiment is on, and start polling the registry for both when
        serving from it."""
        gc.set_threshold(*GC_THRESHOLDS)
        settings, exported = self.settings, self.settings.model_dir
        if exported is not None:
            self.holder.offer(lambda: load_exported(exported))
            return
        client, name = use_tracking(settings), settings.model_name
        every = settings.model_poll_seconds
        self.holder.offer(lambda: load_registered(client, name, settings.model_alias))
        pollers = [RegistryPoller(self.holder, client, name, settings.model_alias, every)]
        if self.experiment.on:
            alias = settings.challenger_alias
            challenger = RegistryPoller(self.challenger, client, name, alias, every, True)
            challenger.poll_once()
            pollers.append(challenger)
        if every > 0:
            self.pollers = pollers
            for poller in pollers:
                poller.start()

    def store_outcomes(self, rows: list[dict]) -> None:
        """Store outcomes in the prediction log's store (opened on first use, in this process:
        the caller waits until they are stored)."""
        with self._outcome_lock:
            store = self._outcome_store
            if store is None:
                store = open_prediction_store(self.settings)
                store.create()
                self._outcome_store = store
        store.write_outcomes(rows)

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        if self._outcome_store is not None:
            self._outcome_store.close()
        self.batcher.close()
        self.log.close()
        self.holder.close()
        self.challenger.close()
        gc.set_threshold(*self._gc_thresholds)

    def record(
        self, request_id: str, listings: list[dict], priced: Priced, traffic: str = "live"
    ) -> None:
        """Queue one answer for the prediction log (never blocks) and count it: a row per
        listing with the arm and version that answered, and in shadow mode one more per listing
        with the challenger's price, not served."""
        now = datetime.now(UTC).replace(tzinfo=None)
        common = {
            "request_id": request_id,
            "currency": self.settings.currency,
            "model_name": priced.model.info.name,
            "created_at": now,
            "traffic": traffic,
        }
        rows = _rows(listings, priced, common, served=1)
        if priced.shadow is not None:
            rows += _rows(listings, priced.shadow, common, served=0)
        self.log.record(rows)
        for arm in set(priced.arms):
            self.metrics.suggestions.labels(arm).inc(priced.arms.count(arm))


def _rows(listings: list[dict], priced: Priced, common: dict, served: int) -> list[dict]:
    """The prediction log's rows of one model's prices of a request's listings."""
    return [
        {"seller_id": None, "listing_id": None}
        | listing
        | common
        | {
            "position": position,
            "price": price,
            "low": low,
            "high": high,
            "model_version": version,
            "arm": arm,
            "served": served,
        }
        for position, (listing, (price, low, high), arm, version) in enumerate(
            zip(listings, priced.ranges, priced.arms, priced.versions, strict=True)
        )
    ]
