"""Live experiments against a real registry with a champion and a challenger: a share of
listings meets the challenger, always the same ones for the same listing id, priced by the
challenger's own model and logged with their arm and version; shadow mode answers with the
champion and logs both; a challenger that loses its alias stops being served."""

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from price_alchemy.lifecycle.tracking import load_price_model, use_tracking
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.serving.app import create_app
from price_alchemy.serving.experiment import Experiment, bucket, experiment_unit
from tests.support.champion import register_challenger
from tests.support.waiting import wait_for

LISTING = {"name": "Apple iPhone 128GB", "item_condition_id": 2, "shipping": 1}


def test_assignment_is_sticky_and_splits_by_the_share():
    experiment = Experiment(share=0.3, key="k")
    units = [f"listing:{i}" for i in range(20_000)]
    arms = [experiment.arm(unit) for unit in units]
    assert arms == [experiment.arm(unit) for unit in units]
    assert abs(arms.count("challenger") / len(arms) - 0.3) < 0.015
    other = [Experiment(share=0.3, key="other").arm(unit) for unit in units]
    assert other != arms  # another experiment draws other listings
    assert {Experiment(share=0.0).arm(u) for u in units[:500]} == {"champion"}
    assert {Experiment(share=1.0).arm(u) for u in units[:500]} == {"challenger"}
    assert {Experiment(share=0.5, mode="shadow").arm(u) for u in units[:500]} == {"champion"}
    assert 0 <= bucket("listing:1", "k") < 1


def test_the_unit_is_the_listing_then_the_seller_then_the_request():
    assert experiment_unit({"listing_id": "a", "seller_id": "s"}, "r", 0) == "listing:a"
    assert experiment_unit({"listing_id": None, "seller_id": "s"}, "r", 0) == "seller:s"
    assert experiment_unit({"listing_id": None, "seller_id": None}, "r", 3) == "request:r:3"


@pytest.fixture(scope="module")
def experiment_home(trained_home):
    settings, trained = trained_home
    return settings, register_challenger(settings, trained)


def _settings(experiment_home, tmp_path, **experiment):
    settings, _ = experiment_home
    log = f"sqlite:///{tmp_path / 'predictions.db'}"
    return settings.model_copy(
        update={"prediction_log_url": log, "model_poll_seconds": 0} | experiment
    )


def _listings(count: int, small_listings) -> list[dict]:
    frame = small_listings.to_pandas().head(count)[list(LISTING_FIELDS)]
    rows = [{k: v for k, v in r.items() if pd.notna(v)} for r in frame.to_dict("records")]
    return [row | {"listing_id": f"m-{i}"} for i, row in enumerate(rows)]


def _log(settings) -> pd.DataFrame:
    with sa.create_engine(settings.prediction_log_url).connect() as connection:
        return pd.read_sql("SELECT * FROM predictions", connection)


def test_a_share_of_listings_meets_the_challenger_always_the_same(
    experiment_home, tmp_path, small_listings
):
    settings = _settings(experiment_home, tmp_path, challenger_share=0.5)
    challenger_version = experiment_home[1]
    listings = _listings(200, small_listings)
    with TestClient(create_app(settings)) as client:
        first = client.post("/v1/price-suggestions", json={"listings": listings}).json()
        again = client.post("/v1/price-suggestions", json={"listings": listings[::-1]}).json()
        described = client.get("/v1/model").json()
    versions = {s["listing_id"]: s["model_version"] for s in first["suggestions"]}
    assert {s["listing_id"]: s["model_version"] for s in again["suggestions"]} == versions
    met = list(versions.values()).count(challenger_version)
    assert 70 < met < 130  # about half of 200
    assert first["model_version"] == "1"  # the champion serves
    assert described["experiment"]["challenger"]["version"] == challenger_version
    assert described["experiment"]["share"] == 0.5 and described["experiment"]["mode"] == "split"
    use_tracking(settings)
    own = load_price_model(f"models:/{settings.model_name}/{challenger_version}")
    mine = [i for i, s in enumerate(first["suggestions"]) if s["model_version"] != "1"]
    expected = own.predict(pd.DataFrame([listings[i] for i in mine], columns=LISTING_FIELDS))
    assert [first["suggestions"][i]["price"] for i in mine] == [round(p, 2) for p in expected]
    logged = _log(settings)
    assert len(logged) == 400 and set(logged["served"]) == {1}
    by_id = logged.drop_duplicates("listing_id").set_index("listing_id")
    assert (by_id["model_version"] == pd.Series(versions)).all()
    assert set(by_id["arm"]) == {"champion", "challenger"}


def test_shadow_mode_answers_with_the_champion_and_logs_both(
    experiment_home, tmp_path, small_listings
):
    settings = _settings(experiment_home, tmp_path, experiment_mode="shadow")
    listings = _listings(30, small_listings)
    with TestClient(create_app(settings)) as client:
        body = client.post(
            "/v1/price-suggestions", json={"listings": listings}, headers={"X-Traffic": "test"}
        ).json()
    assert {s["model_version"] for s in body["suggestions"]} == {"1"}
    logged = _log(settings)
    assert len(logged) == 60
    served, shadow = logged[logged["served"] == 1], logged[logged["served"] == 0]
    assert set(served["arm"]) == {"champion"} and set(shadow["arm"]) == {"challenger"}
    assert set(shadow["model_version"]) == {experiment_home[1]}
    assert list(shadow["listing_id"]) == list(served["listing_id"])
    assert (shadow["price"].to_numpy() != served["price"].to_numpy()).any()
    assert set(logged["traffic"]) == {"test"}


def test_a_challenger_that_loses_its_alias_stops_being_served(
    experiment_home, tmp_path, small_listings
):
    settings = _settings(experiment_home, tmp_path, challenger_share=1.0)
    settings = settings.model_copy(update={"model_poll_seconds": 0.2})
    client_ = use_tracking(settings)
    listing = _listings(1, small_listings)
    try:
        with TestClient(create_app(settings)) as client:
            post = lambda: client.post("/v1/price-suggestions", json={"listings": listing})  # noqa: E731
            assert post().json()["suggestions"][0]["model_version"] == experiment_home[1]
            client_.delete_registered_model_alias(settings.model_name, "challenger")
            wait_for(lambda: client.get("/v1/model").json()["experiment"]["challenger"] is None)
            assert post().json()["suggestions"][0]["model_version"] == "1"
            status = client.get("/v1/model").json()["experiment"]["challenger_status"]
            assert "no 'challenger' version" in status
    finally:
        client_.set_registered_model_alias(settings.model_name, "challenger", experiment_home[1])


def test_without_ids_each_listing_gets_null_and_the_log_keeps_them_null(experiment_home, tmp_path):
    settings = _settings(experiment_home, tmp_path)
    with TestClient(create_app(settings)) as client:
        body = client.post("/v1/price-suggestions", json={"listings": [LISTING]}).json()
    assert body["suggestions"][0]["listing_id"] is None
    assert body["suggestions"][0]["model_version"] == "1"
    row = _log(settings).iloc[0]
    assert row["listing_id"] is None and row["arm"] == "champion" and row["traffic"] == "live"


@pytest.mark.parametrize("bad", ["", "a" * 129, "has space", "é", "a/b"])
def test_an_id_outside_the_allowed_characters_is_422(experiment_home, tmp_path, bad):
    settings = _settings(experiment_home, tmp_path)
    with TestClient(create_app(settings)) as client:
        for field in ("listing_id", "seller_id"):
            response = client.post(
                "/v1/price-suggestions", json={"listings": [LISTING | {field: bad}]}
            )
            assert response.status_code == 422 and field in response.text
