"""The HTTP API with a real champion model loaded from a real MLflow store."""

import gc
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from price_alchemy.serving.app import create_app
from price_alchemy.serving.service import GC_THRESHOLDS
from price_alchemy.settings import Settings

GOOD = {
    "name": "Nike Air Max 90 size 10",
    "item_condition_id": 2,
    "category_name": "Men/Shoes/Athletic",
    "brand_name": "Nike",
    "shipping": 0,
    "item_description": "Worn twice, like new.",
}


@pytest.fixture(scope="module")
def client(champion_settings):
    with TestClient(create_app(champion_settings)) as client:
        yield client


def _post(client, *listings):
    return client.post("/v1/price-suggestions", json={"listings": list(listings)})


def test_suggests_a_positive_price_with_model_version(client):
    response = _post(client, GOOD, {**GOOD, "brand_name": None, "item_description": None})
    assert response.status_code == 200
    body = response.json()
    assert body["model_name"] == "price-alchemy" and body["model_version"] == "1"
    assert len(body["suggestions"]) == 2
    assert all(0 < s["low"] <= s["price"] <= s["high"] for s in body["suggestions"])
    assert {s["currency"] for s in body["suggestions"]} == {"USD"}


def test_the_request_id_is_echoed_or_generated(client):
    given = client.post(
        "/v1/price-suggestions", json={"listings": [GOOD]}, headers={"X-Request-ID": "abc-123"}
    )
    assert given.headers["X-Request-ID"] == given.json()["request_id"] == "abc-123"
    made = _post(client, GOOD)
    assert len(made.json()["request_id"]) == 32 and made.headers["X-Request-ID"]
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert unsafe.headers["X-Request-ID"] != "bad id with spaces"


def test_a_thousand_listings_in_one_request(client):
    listings = [{**GOOD, "name": f"{GOOD['name']} #{i}"} for i in range(1000)]
    response = client.post("/v1/price-suggestions", json={"listings": listings})
    assert response.status_code == 200
    assert len(response.json()["suggestions"]) == 1000


def test_model_description(client):
    body = client.get("/v1/model").json()
    assert (body["name"], body["version"], body["alias"]) == ("price-alchemy", "1", "champion")
    assert body["trained_at"].startswith("20") and body["run_id"]
    assert 0 < body["metrics"]["model_rmsle"] < body["metrics"]["baseline_rmsle"]


def test_readyz_says_what_serves(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "model": "price-alchemy v1",
        "model_error": None,
        "prediction_log_writable": True,
        "prediction_log_error": None,
    }


def test_metrics_count_requests_suggestions_and_the_model(client):
    _post(client, GOOD, GOOD)
    client.post("/v1/price-suggestions", json={"listings": []})
    text = client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/v1/price-suggestions",status="200"}' in text
    assert 'http_requests_total{method="POST",route="/v1/price-suggestions",status="422"}' in text
    assert "http_request_duration_seconds_bucket{" in text
    model = 'served_model_info{alias="champion",arm="champion",name="price-alchemy",version="1"}'
    assert f"{model} 1.0" in text
    served = [line for line in text.splitlines() if line.startswith("price_suggestions_total{")]
    assert served[0].startswith('price_suggestions_total{arm="champion"}')
    assert float(served[0].split()[-1]) >= 2
    assert "prediction_log_dropped_total 0.0" in text


def test_healthz_names_the_served_version(client):
    assert client.get("/healthz").json() == {"status": "ok", "model_version": "1"}


def test_unusual_but_valid_input_gets_a_price(client):
    unusual = {
        **GOOD,
        "name": "名前 🎉 Ünïcödé \u200b",
        "brand_name": "A brand nobody has seen",
        "category_name": "Never/Seen/Before",
        "item_description": "x" * 19_000,
    }
    response = _post(client, unusual, {"name": "a", "item_condition_id": 5, "shipping": 1})
    assert response.status_code == 200
    assert all(s["price"] > 0 for s in response.json()["suggestions"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"item_condition_id": 0}, "item_condition_id"),
        ({"item_condition_id": 6}, "item_condition_id"),
        ({"item_condition_id": "new"}, "item_condition_id"),
        ({"shipping": 2}, "shipping"),
        ({"shipping": None}, "shipping"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": 12}, "name"),
        ({"item_description": "x" * 20_001}, "item_description"),
        ({"brand_name": ["Nike"]}, "brand_name"),
    ],
)
def test_bad_listing_is_a_422_naming_the_field(client, change, field):
    response = _post(client, {**GOOD, **change})
    assert response.status_code == 422
    assert ["body", "listings", 0, field] in [e["loc"] for e in response.json()["detail"]]


def test_missing_field_is_named(client):
    listing = {k: v for k, v in GOOD.items() if k != "shipping"}
    response = _post(client, listing)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "listings", 0, "shipping"]


@pytest.mark.parametrize("count", [0, 1001])
def test_listing_count_is_bounded(client, count):
    response = client.post("/v1/price-suggestions", json={"listings": [GOOD] * count})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "listings"]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b"null", b'{"listings": "x"}', "\ud800".encode("utf-8", "surrogatepass")],
)
def test_malformed_bodies_are_4xx(client, content):
    response = client.post(
        "/v1/price-suggestions", content=content, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


def test_without_a_champion_answers_503_not_500(settings):
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["model_version"] is None
        response = _post(client, GOOD)
        ready = client.get("/readyz")
        model = client.get("/v1/model")
    assert response.status_code == 503
    assert "no model is loaded" in response.json()["detail"]
    assert ready.status_code == 503 and not ready.json()["ready"]
    assert "no 'champion' version" in ready.json()["model_error"]
    assert model.status_code == 503


def test_the_collector_runs_rarely_while_serving_and_as_before_after(settings):
    original = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's default
    try:
        with TestClient(create_app(settings)) as client:
            client.get("/healthz")
            assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*original)


def test_a_model_exported_by_an_earlier_version_keeps_serving(tmp_path):
    """The artifact of git 2c99a4c (tests/fixtures) answers over HTTP with the prices it gave
    then, rounded to the cent as the API answers."""
    legacy = Path(__file__).parents[1] / "fixtures" / "model_2c99a4c"
    expected = json.loads((legacy / "expected_prices.json").read_text())
    settings = Settings(home=tmp_path / "home", model_dir=legacy / "model")
    with TestClient(create_app(settings)) as client:
        # as JSON sends them: a missing value (NaN in the file) is null
        rows = [{k: None if v != v else v for k, v in row.items()} for row in expected["listings"]]
        response = _post(client, *rows)
    assert response.status_code == 200, response.text
    got = response.json()["suggestions"]
    for key in ("price", "low", "high"):
        assert [s[key] for s in got] == [round(value, 2) for value in expected[key]]
