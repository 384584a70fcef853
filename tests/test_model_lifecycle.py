"""The served model's lifecycle against a real MLflow registry: a new champion is swapped in
while the API runs, a broken one is refused and the old one keeps serving, an exported model
directory is served with no MLflow at all, and every answer lands in the prediction log."""

import gc
import time
import weakref

import mlflow
import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sklearn.dummy import DummyRegressor
from typer.testing import CliRunner

from price_alchemy.cli import app as cli_app
from price_alchemy.registry import CHAMPION, champion_version
from price_alchemy.serving.app import create_app
from price_alchemy.serving.models import ModelHolder, ModelInfo, ServedModel
from price_alchemy.settings import Settings
from price_alchemy.tracking import use_tracking

LISTING = {"name": "Apple iPhone 128GB", "item_condition_id": 2, "shipping": 1}


def _wait_for(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.1)


def _version(client) -> str:
    return client.get("/v1/model").json()["version"]


def _register_broken_model(name: str) -> str:
    """A model version that loads but is no price model (it cannot give a range)."""
    with mlflow.start_run():
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
        _wait_for(lambda: _version(client) == "2")
        answer = client.post("/v1/price-suggestions", json={"listings": [LISTING]})
        assert answer.json()["model_version"] == "2"

        broken = _register_broken_model(name)
        registry.set_registered_model_alias(name, CHAMPION, broken)
        _wait_for(lambda: client.get("/readyz").json()["model_error"] is not None)
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
