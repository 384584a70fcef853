"""The served model's lifecycle against a real MLflow registry: a new champion is swapped in
while the API runs, a broken one is refused and the old one keeps serving, an exported model
directory is served with no MLflow at all, and every answer lands in the prediction log."""

import gc
import weakref
from types import SimpleNamespace

import mlflow
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from mlflow.exceptions import MlflowException
from sklearn.dummy import DummyRegressor
from typer.testing import CliRunner

from price_alchemy.cli import app as cli_app
from price_alchemy.lifecycle.export import ModelInfo
from price_alchemy.lifecycle.names import CHAMPION
from price_alchemy.lifecycle.registry import champion_version
from price_alchemy.lifecycle.tracking import ensure_experiment, use_tracking
from price_alchemy.serving import models
from price_alchemy.serving.app import create_app
from price_alchemy.serving.models import ModelHolder, RegistryPoller, ServedModel, smoke_test
from price_alchemy.settings import Settings
from tests.support.waiting import wait_for

LISTING = {"name": "Apple iPhone 128GB", "item_condition_id": 2, "shipping": 1}


def _version(client) -> str:
    return client.get("/v1/model").json()["version"]


def _register_broken_model(settings: Settings) -> str:
    """A model version that loads but is no price model (it cannot give a range); logged in
    the project's experiment, whose artifacts live under its home (the default experiment's
    would land in ./mlruns)."""
    name = settings.model_name
    with mlflow.start_run(experiment_id=ensure_experiment(settings)):
        info = mlflow.sklearn.log_model(DummyRegressor().fit([[0]], [1.0]), name="model")
    return str(mlflow.register_model(info.model_uri, name).version)


def test_a_new_champion_is_swapped_in_and_a_broken_one_refused(trained_settings):
    settings, _ = trained_settings
    settings = settings.model_copy(update={"model_poll_seconds": 0.2})
    registry = use_tracking(settings)
    name = settings.model_name
    with TestClient(create_app(settings)) as client:
        assert _version(client) == "1"
        first = champion_version(registry, name)
        second = mlflow.register_model(f"models:/{name}/{first.version}", name)
        registry.set_registered_model_alias(name, CHAMPION, second.version)
        wait_for(lambda: _version(client) == "2", 15, "version 2 served")
        answer = client.post("/v1/price-suggestions", json={"listings": [LISTING]})
        assert answer.json()["model_version"] == "2"

        broken = _register_broken_model(settings)
        registry.set_registered_model_alias(name, CHAMPION, broken)
        wait_for(lambda: client.get("/readyz").json()["model_error"], 15, "the swap refused")
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["model"] == f"{name} v2"
        assert "predict_range" in ready.json()["model_error"]
        answer = client.post("/v1/price-suggestions", json={"listings": [LISTING]})
        assert answer.status_code == 200 and answer.json()["model_version"] == "2"


def test_an_exported_model_is_served_without_mlflow(champion_settings, tmp_path, monkeypatch):
    out = tmp_path / "models" / "champion"
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", str(champion_settings.home))
    from price_alchemy.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(cli_app, ["export-model", "--alias", "champion", "--out", str(out)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (out / "model.json").exists() and (out / "model" / "MLmodel").exists()
    offline = Settings(
        home=tmp_path / "container",
        model_dir=out,
        mlflow_tracking_uri="http://127.0.0.1:9",  # nothing listens: it must not be needed
    )
    with TestClient(create_app(offline)) as client:
        described = client.get("/v1/model").json()
        answer = client.post("/v1/price-suggestions", json={"listings": [LISTING]})
        assert client.get("/readyz").status_code == 200
    assert described["version"] == "1" and described["metrics"]["model_rmsle"] > 0
    assert answer.status_code == 200 and answer.json()["model_version"] == "1"


def test_export_without_the_alias_says_so(settings):
    result = CliRunner().invoke(cli_app, ["export-model", "--alias", "champion"])
    assert result.exit_code == 1
    assert "no 'champion' version" in result.output


@pytest.mark.parametrize("listings_per_request", [1, 3])
def test_every_answer_is_in_the_prediction_log(champion_settings, tmp_path, listings_per_request):
    url = f"sqlite:///{tmp_path / 'predictions.db'}"
    settings = champion_settings.model_copy(
        update={"prediction_log_url": url, "model_poll_seconds": 0}
    )
    with TestClient(create_app(settings)) as client:
        for i in range(40):
            client.post(
                "/v1/price-suggestions",
                json={"listings": [LISTING] * listings_per_request},
                headers={"X-Request-ID": f"req-{i}"},
            )
    with sa.create_engine(url).connect() as connection:
        rows = connection.execute(sa.text("SELECT request_id, model_version FROM predictions"))
        rows = rows.all()
    assert len(rows) == 40 * listings_per_request
    assert {r.request_id for r in rows} == {f"req-{i}" for i in range(40)}
    assert {r.model_version for r in rows} == {"1"}


class _ConstantPrice:
    """Stands in for a price model in the holder's memory test: a constant price and range,
    and a reference cycle, so that only the garbage collector can free it."""

    def __init__(self) -> None:
        self.cycle = self

    def predict_range(self, listings):
        ones = np.ones(len(listings))
        return 10 * ones, 8 * ones, 12 * ones


def _served(version: str) -> ServedModel:
    return ServedModel(ModelInfo("m", version, "champion", None, None), _ConstantPrice())


def test_a_swapped_out_model_is_freed_and_the_served_one_kept_from_the_collector():
    holder = ModelHolder()
    assert holder.offer(lambda: _served("1"))
    freed = weakref.ref(holder.current.model)
    assert gc.get_freeze_count() > 0  # the served model is out of the collector's scans
    assert holder.offer(lambda: _served("2"))
    assert freed() is None and holder.current.info.version == "2"
    holder.close()
    assert gc.get_freeze_count() == 0 and holder.current is None


class FixedPrices:
    """A stand-in model answering the smoke listings with the given (price, low, high)."""

    def __init__(self, price, low, high) -> None:
        self.answer = tuple(np.asarray(values, dtype=float) for values in (price, low, high))

    def predict_range(self, listings):
        return self.answer


INFO = ModelInfo("price-alchemy", "9", "champion", None, None)


@pytest.mark.parametrize(
    ("price", "low", "high"),
    [
        ([10, np.nan], [9, 9], [11, 11]),  # not a number
        ([10, 12], [9, 9], [11, np.inf]),  # infinite
        ([10, 0], [9, 0], [11, 1]),  # not positive
        ([10, -5], [-6, -6], [11, -4]),
        ([10, 12], [9, 13], [11, 14]),  # low above the price
        ([10, 12], [9, 11], [11, 11.5]),  # high below the price
        ([10], [9], [11]),  # one answer for two listings
    ],
)
def test_the_smoke_test_refuses_a_model_whose_prices_are_unusable(price, low, high):
    served = ServedModel(INFO, FixedPrices(price, low, high))
    with pytest.raises(ValueError, match="smoke prediction failed"):
        smoke_test(served)
    holder = ModelHolder()
    assert holder.offer(lambda: served) is False and "smoke" in holder.last_error


def test_the_smoke_test_passes_usable_prices():
    smoke_test(ServedModel(INFO, FixedPrices([10, 12], [9, 12], [11, 12])))


class FlakyRegistry:
    """A stand-in registry client (the one edge a test cannot make fail on cue): answers
    with `version`, or raises when it is an exception."""

    def __init__(self, version) -> None:
        self.version = version

    def get_model_version_by_alias(self, name, alias):
        if isinstance(self.version, Exception):
            raise self.version
        return SimpleNamespace(version=self.version)


def _poller(monkeypatch, registry, loads: list) -> tuple[RegistryPoller, ModelHolder]:
    def load(client, name, alias):
        loads.append(client.version)
        if client.version == "bad":
            raise OSError("artifact missing")
        info = ModelInfo(name, client.version, alias, None, None)
        return ServedModel(info, FixedPrices([10, 12], [9, 9], [11, 13]))

    monkeypatch.setattr(models, "load_registered", load)
    holder = ModelHolder()
    return RegistryPoller(holder, registry, "price-alchemy", "champion", 60), holder


def test_the_poller_reports_an_unreachable_registry_and_recovers(monkeypatch):
    registry, loads = FlakyRegistry(MlflowException("connection refused")), []
    poller, holder = _poller(monkeypatch, registry, loads)
    assert poller.poll_once() is False
    assert holder.last_error.startswith("registry: ") and "connection refused" in holder.last_error
    registry.version = "4"
    assert poller.poll_once() is True and holder.last_error is None
    assert holder.current.info.version == "4" and loads == ["4"]


def test_the_poller_tries_a_failing_version_once_and_the_next_one_again(monkeypatch):
    registry, loads = FlakyRegistry("4"), []
    poller, holder = _poller(monkeypatch, registry, loads)
    assert poller.poll_once() is True
    registry.version = "bad"
    assert poller.poll_once() is False and "artifact missing" in holder.last_error
    assert poller.poll_once() is False and loads == ["4", "bad"]  # not tried again
    assert holder.current.info.version == "4"  # the old one keeps serving
    registry.version = "5"
    assert poller.poll_once() is True and holder.current.info.version == "5"
    assert poller.poll_once() is False and loads == ["4", "bad", "5"]  # unchanged: no reload
