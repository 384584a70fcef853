"""POST /v1/outcomes on a real app and a real store of each backend (sqlite, Postgres,
BigQuery through the emulator): outcomes are stored all or none, a repeat of a listing and
event replaces it, bad events are refused naming the field, only a bearer of the configured
token may post, and a client that floods is slowed down."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from price_alchemy.data.prediction_store import open_prediction_store
from price_alchemy.serving.app import create_app
from price_alchemy.settings import Settings

TOKEN = "outcome-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _settings(tmp_path, **extra) -> Settings:
    values = {"outcomes_token": TOKEN, "model_poll_seconds": 0} | extra
    return Settings(home=tmp_path / "home", **values)


def _stored(settings: Settings):
    store = open_prediction_store(settings)
    try:
        found = store.read_outcomes()
    finally:
        store.close()
    return found.sort_values(["listing_id", "event"]).reset_index(drop=True)


def test_outcomes_are_stored_and_a_repeat_replaces(fresh_log, tmp_path):
    settings = fresh_log(_settings(tmp_path))
    first = [
        {"listing_id": "m-1", "event": "listed", "price": 30},
        {"listing_id": "m-1", "event": "sold", "price": 25.5, "at": "2026-03-02T10:00:00Z"},
        {"listing_id": "m-2", "event": "withdrawn"},
    ]
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/outcomes", json={"outcomes": first}, headers=AUTH)
        assert answer.status_code == 200 and answer.json() == {"stored": 3}
        repeat = [{"listing_id": "m-1", "event": "sold", "price": 27.0}]
        assert client.post("/v1/outcomes", json={"outcomes": repeat}, headers=AUTH).json() == {
            "stored": 1
        }
    stored = _stored(settings)
    assert list(zip(stored["listing_id"], stored["event"], strict=True)) == [
        ("m-1", "listed"),
        ("m-1", "sold"),
        ("m-2", "withdrawn"),
    ]
    assert stored["price"].tolist()[:2] == [30.0, 27.0]  # replaced, not doubled
    assert stored["price"].isna().tolist()[2]
    assert stored.loc[0, "occurred_at"] <= datetime.now(UTC).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"listing_id": "m-1", "event": "sold"}, "price"),
        ({"listing_id": "m-1", "event": "listed", "price": 0}, "price"),
        ({"listing_id": "m-1", "event": "bought", "price": 3}, "event"),
        ({"listing_id": "m 1", "event": "withdrawn"}, "listing_id"),
        ({"event": "withdrawn"}, "listing_id"),
        ({"listing_id": "m-1", "event": "sold", "price": 3, "at": "yesterday"}, "at"),
    ],
)
def test_a_bad_event_is_422_naming_the_field_and_nothing_is_stored(tmp_path, event, field):
    settings = _settings(tmp_path)
    good = {"listing_id": "m-9", "event": "withdrawn"}
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/outcomes", json={"outcomes": [good, event]}, headers=AUTH)
    assert answer.status_code == 422 and field in answer.text
    assert _stored_or_none(settings) is None


def _stored_or_none(settings):
    store = open_prediction_store(settings)
    try:
        found = store.read_outcomes()
    finally:
        store.close()
    return None if found is None or found.empty else found


def test_more_than_1000_events_are_refused(tmp_path):
    events = [{"listing_id": f"m-{i}", "event": "withdrawn"} for i in range(1001)]
    with TestClient(create_app(_settings(tmp_path))) as client:
        answer = client.post("/v1/outcomes", json={"outcomes": events}, headers=AUTH)
    assert answer.status_code == 422 and "outcomes" in answer.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Basic x"}],
)
def test_only_a_bearer_of_the_token_may_post(tmp_path, headers):
    body = {"outcomes": [{"listing_id": "m-1", "event": "withdrawn"}]}
    with TestClient(create_app(_settings(tmp_path))) as client:
        answer = client.post("/v1/outcomes", json=body, headers=headers)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"


def test_without_a_configured_token_the_endpoint_is_off_and_says_so(tmp_path):
    settings = Settings(home=tmp_path / "home", model_poll_seconds=0)
    body = {"outcomes": [{"listing_id": "m-1", "event": "withdrawn"}]}
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/outcomes", json=body, headers=AUTH)
    assert answer.status_code == 403 and "PRICE_ALCHEMY_OUTCOMES_TOKEN" in answer.text


def test_a_client_that_floods_is_slowed_down(tmp_path):
    body = {"outcomes": [{"listing_id": "m-1", "event": "withdrawn"}]}
    with TestClient(create_app(_settings(tmp_path, outcomes_rate=1.0))) as client:
        codes = [client.post("/v1/outcomes", json=body, headers=AUTH) for _ in range(4)]
    assert [c.status_code for c in codes[:2]] == [200, 200]  # the burst
    assert codes[-1].status_code == 429 and int(codes[-1].headers["retry-after"]) >= 1
