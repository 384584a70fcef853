"""The served model and its lifecycle: load it from the registry (`models:/<name>@<alias>`) or
from a directory exported by `price-alchemy export-model` (so a container needs no MLflow
server), check it with a smoke prediction, and swap it in atomically.

`ModelHolder` keeps the model being served; `offer` loads a candidate and swaps it in only if
it loads and passes the smoke prediction, otherwise the old model keeps serving and the error
is remembered for `/readyz`. `RegistryPoller` offers the alias's version whenever it changes.
"""

import gc
import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from mlflow.artifacts import download_artifacts
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from price_alchemy.features import listing_columns
from price_alchemy.serving.fast_path import fast_predict_range
from price_alchemy.tracking import load_price_model

log = logging.getLogger(__name__)
MODEL_INFO = "model.json"
MODEL_FOLDER = "model"
SMOKE_LISTINGS = (
    {
        "name": "Nike running shoes size 9",
        "item_condition_id": 3,
        "category_name": "Women/Shoes/Athletic",
        "brand_name": "Nike",
        "shipping": 1,
        "item_description": "Worn a few times, good condition.",
    },
    {
        "name": "vintage levis denim jacket ✨",
        "item_condition_id": 1,
        "category_name": None,
        "brand_name": None,
        "shipping": 0,
        "item_description": None,
    },
)


@dataclass(frozen=True)
class ModelInfo:
    """What `/v1/model` says about the served model."""

    name: str
    version: str
    alias: str
    run_id: str | None
    trained_at: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    source: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ServedModel:
    info: ModelInfo
    model: object  # a PriceRangeModel: predict_range(listings) -> (price, low, high)
    # (price, low, high) of listings as a dict of column lists (`features.listing_columns`):
    # the model's own predict_range, or the same prices faster (see fast_path)
    predict_range: Callable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        predict_range = fast_predict_range(self.model, SMOKE_LISTINGS)
        object.__setattr__(self, "predict_range", predict_range)


def _timestamp(millis: int | None) -> str | None:
    return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC).isoformat()


def describe_version(client: MlflowClient, name: str, alias: str) -> ModelInfo:
    """The version holding `alias`, with its training run's time and metrics; LookupError
    when no version holds it."""
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        raise LookupError(f"no '{alias}' version of model '{name}': train one first") from error
    run = client.get_run(version.run_id) if version.run_id else None
    return ModelInfo(
        name=name,
        version=str(version.version),
        alias=alias,
        run_id=version.run_id,
        trained_at=_timestamp(
            (run.info.end_time or run.info.start_time) if run else version.creation_timestamp
        ),
        metrics=dict(run.data.metrics) if run else {},
        source=f"models:/{name}/{version.version}",
    )


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


def export_model(client: MlflowClient, name: str, alias: str, out_dir: Path) -> ModelInfo:
    """Write the version holding `alias` to `out_dir` (its MLflow model in `model/`, what
    `/v1/model` reports in `model.json`), replacing `out_dir` only once all is written."""
    info = describe_version(client, name, alias)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent) as work:
        staged = Path(work) / "export"
        download_artifacts(info.source, dst_path=str(staged / MODEL_FOLDER))
        (staged / MODEL_INFO).write_text(json.dumps(info.to_dict(), indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staged.rename(out_dir)
    return info


def load_exported(path: Path) -> ServedModel:
    """A model directory written by `export_model`, loaded."""
    path = Path(path)
    if not (path / MODEL_INFO).exists():
        raise LookupError(f"{path} holds no exported model ({MODEL_INFO} is missing)")
    info = ModelInfo(**json.loads((path / MODEL_INFO).read_text()))
    info = ModelInfo(**{**info.to_dict(), "source": str(path)})
    return ServedModel(info, load_price_model(str(path / MODEL_FOLDER)))


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

    def close(self) -> None:
        """Stop serving and hand the heap back to the garbage collector."""
        self.current = None
        gc.unfreeze()

    def describe(self) -> str:
        current = self.current
        return "no model" if current is None else f"{current.info.name} v{current.info.version}"


class RegistryPoller:
    """Every `interval` seconds, offer the version holding the alias when it differs from
    the served one; a daemon thread, stopped by `stop`."""

    def __init__(
        self, holder: ModelHolder, client: MlflowClient, name: str, alias: str, interval: float
    ) -> None:
        self.holder, self.client, self.name, self.alias = holder, client, name, alias
        self.interval = interval
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
