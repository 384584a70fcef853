"""The served model and its lifecycle: load it from the registry (`models:/<name>@<alias>`) or
from a directory exported by `price-alchemy export-model` (so a container needs no MLflow
server), check it with a smoke prediction, and swap it in atomically.

`ModelHolder` keeps the model being served; `offer` loads a candidate and swaps it in only if
it loads and passes the smoke prediction, otherwise the old model keeps serving and the error
is remembered for `/readyz`. `RegistryPoller` offers the alias's version whenever it changes.
"""

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from price_alchemy.lifecycle.export import ModelInfo, describe_version, read_exported
from price_alchemy.lifecycle.tracking import load_price_model
from price_alchemy.model.features import listing_columns
from price_alchemy.model.served_predict import SAMPLE_LISTINGS, fast_predict_range
from price_alchemy.serving.explanations import Explanations

log = logging.getLogger(__name__)
SMOKE_LISTINGS = SAMPLE_LISTINGS  # the smoke prediction prices the sample listings


@dataclass(frozen=True)
class ServedModel:
    info: ModelInfo
    model: object  # a PriceRangeModel: predict_range(listings) -> (price, low, high)
    # (price, low, high) of listings as a dict of column lists (`features.listing_columns`):
    # the model's own predict_range, or the same prices faster (see model.served_predict)
    predict_range: Callable = field(init=False, repr=False, compare=False)
    # its factors, comparable sales and catalogue (see serving.explanations)
    explanations: Explanations = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        predict_range = fast_predict_range(self.model, SMOKE_LISTINGS)
        object.__setattr__(self, "predict_range", predict_range)
        explanations = Explanations(self.model, listing_columns(SMOKE_LISTINGS))
        object.__setattr__(self, "explanations", explanations)


def smoke_test(served: ServedModel) -> None:
    """Price the smoke listings as served; ValueError unless every price and range is finite,
    positive and ordered."""
    priced = served.predict_range(listing_columns(SMOKE_LISTINGS))
    price, low, high = (np.asarray(values, dtype=float) for values in priced)
    ok = (
        price.shape == low.shape == high.shape == (len(SMOKE_LISTINGS),)
        and np.isfinite([price, low, high]).all()
        and bool(np.all((0 < low) & (low <= price) & (price <= high)))
    )
    if not ok:
        raise ValueError(f"smoke prediction failed: price {price}, low {low}, high {high}")


def load_registered(client: MlflowClient, name: str, alias: str) -> ServedModel:
    """The registered version holding `alias`, loaded."""
    info = describe_version(client, name, alias)
    return ServedModel(info, load_price_model(info.source))


def load_exported(path: Path) -> ServedModel:
    """A model directory written by `export_model`, loaded."""
    return ServedModel(*read_exported(path))


def _freeze_heap() -> None:
    """Collect what the previous model left and move everything alive (the new model's
    vocabularies and trees: hundreds of thousands of objects) out of the garbage collector's
    reach, so no later collection pauses requests for a full heap scan (~130 ms)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ModelHolder:
    """The model being served; swapped as one reference, so a request sees one model."""

    def __init__(self) -> None:
        self.current: ServedModel | None = None
        self.last_error: str | None = None
        self._lock = threading.Lock()

    def offer(self, load: Callable[[], ServedModel]) -> bool:
        """Load a candidate and serve it if it passes the smoke test; otherwise keep the
        current model and remember why. True when the candidate now serves."""
        with self._lock:
            try:
                candidate = load()
                smoke_test(candidate)
            except Exception as error:  # any failure keeps the old model serving
                self.last_error = f"{type(error).__name__}: {error}"
                log.error("model not swapped in, keeping %s: %s", self.describe(), self.last_error)
                return False
            self.current, self.last_error = candidate, None
            _freeze_heap()
            log.info("serving %s", self.describe())
            return True

    def retire(self, why: str) -> None:
        """Stop serving the current model, if any, because its alias is gone (an experiment
        that ended); `why` is kept for /v1/model."""
        with self._lock:
            if self.current is not None:
                log.info("no longer serving %s: %s", self.describe(), why)
            self.current, self.last_error = None, why

    def close(self) -> None:
        """Stop serving and hand the heap back to the garbage collector."""
        self.current = None
        gc.unfreeze()

    def describe(self) -> str:
        current = self.current
        return "no model" if current is None else f"{current.info.name} v{current.info.version}"


_NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")  # no model, no alias


class RegistryPoller:
    """Every `interval` seconds, offer the version holding the alias when it differs from
    the served one; a daemon thread, stopped by `stop`. For an `optional` alias (the
    challenger), a version that loses the alias stops being served."""

    def __init__(
        self,
        holder: ModelHolder,
        client: MlflowClient,
        name: str,
        alias: str,
        interval: float,
        optional: bool = False,
    ) -> None:
        self.holder, self.client, self.name, self.alias = holder, client, name, alias
        self.interval, self.optional = interval, optional
        self._refused: str | None = None  # a version that failed once is not tried again
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def poll_once(self) -> bool:
        """Offer the alias's version if it is new; True when a new model now serves."""
        try:
            version = self.client.get_model_version_by_alias(self.name, self.alias)
        except MlflowException as error:
            if self.optional and error.error_code in _NOT_FOUND:
                self.holder.retire(f"no '{self.alias}' version in the registry")
                return False
            self.holder.last_error = f"registry: {error}"
            return False
        if (self.holder.last_error or "").startswith("registry: "):
            self.holder.last_error = None  # the registry answers again
        current, candidate = self.holder.current, str(version.version)
        if candidate == self._refused or (current and current.info.version == candidate):
            return False
        swapped = self.holder.offer(lambda: load_registered(self.client, self.name, self.alias))
        self._refused = None if swapped else candidate
        return swapped

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll_once()
