"""The online report on a real loop: a champion and a challenger served by the real app with a
50% share, listings with ids, their sales posted as outcomes (and some found in the warehouse),
then the report: per version, the count and the RMSLE that the answers and the sale prices
imply; the challenger-minus-champion interval; synthetic traffic left out."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from price_alchemy.cli import app as cli
from price_alchemy.lifecycle.names import STATUS_HISTORY
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.monitoring.online import rmsle_difference
from price_alchemy.pipeline.online_stage import run_online_report
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.serving.app import create_app
from tests.support.champion import register_challenger
from tests.support.evidence import write_evidence

TOKEN = "online-report-token"


@pytest.fixture(scope="module")
def experiment(trained_home):
    """Settings of a home with a champion and a challenger, served with a 50% share and
    outcomes taken with TOKEN; and what training returned."""
    settings, trained = trained_home
    register_challenger(settings, trained)
    experiment = {"challenger_share": 0.5, "model_poll_seconds": 0}
    return settings.model_copy(update=experiment | {"outcomes_token": SecretStr(TOKEN)}), trained


@pytest.fixture(scope="module")
def served(experiment):
    """200 listings with ids priced by the app with a 50% challenger share: the first 120 sold
    by posted outcomes (at 1.1 times their warehouse price: a posted sale wins), the next 40
    sold in the warehouse only (their ids are train_ids), the last 40 new and unsold; 10 load
    test requests that must not count. Returns (settings, answers, sold prices)."""
    settings, trained = experiment
    market = trained_warehouse_listings(trained)
    ids = [str(row.pop("train_id")) for row in market[:160]] + [f"new-{i}" for i in range(40)]
    listings = [row | {"listing_id": i} for row, i in zip(market, ids, strict=True)]
    sold = {row["listing_id"]: 1.1 * row["price"] for row in listings[:120]}  # posted: wins
    sold |= {row["listing_id"]: row["price"] for row in listings[120:160]}  # the warehouse's
    bodies = [{k: v for k, v in row.items() if k != "price"} for row in listings]
    with TestClient(create_app(settings)) as client:
        answers = client.post("/v1/price-suggestions", json={"listings": bodies}).json()
        client.post(
            "/v1/price-suggestions",
            json={"listings": bodies[:10]},
            headers={"X-Traffic": "load"},
        )
        outcomes = [{"listing_id": i, "event": "sold", "price": sold[i]} for i in list(sold)[:120]]
        auth = {"Authorization": f"Bearer {TOKEN}"}
        posted = client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=auth)
        assert posted.status_code == 200
    return settings, answers["suggestions"], sold


def trained_warehouse_listings(trained) -> list[dict]:
    """200 listings of the warehouse (the training snapshot's clean rows) with their ids."""
    frame = pd.read_parquet(trained.validation.clean_uri).head(200)
    frame = frame[["train_id", *LISTING_FIELDS, "price"]]
    return [{k: v for k, v in row.items() if pd.notna(v)} for row in frame.to_dict("records")]


def _implied(answers: list[dict], sold: dict) -> dict:
    """Per version: (suggestions, sold, RMSLE) as the answers and the sale prices imply."""
    found = {}
    for version in {a["model_version"] for a in answers}:
        mine = [a for a in answers if a["model_version"] == version]
        errors = [
            np.log1p(a["price"]) - np.log1p(sold[a["listing_id"]])
            for a in mine
            if a["listing_id"] in sold
        ]
        found[version] = (len(mine), len(errors), float(np.sqrt(np.mean(np.square(errors)))))
    return found


def test_the_report_gives_what_the_answers_and_sales_imply(served):
    settings, answers, sold = served
    report = run_online_report(pd.Timestamp.now("UTC").to_pydatetime(), 30, settings)
    implied = _implied(answers, sold)
    assert len(implied) == 2 and report.suggestions == 200  # the load test is left out
    assert report.with_sale == 160  # 120 posted, 40 found in the warehouse
    for v in report.versions:
        count, with_sale, rmsle = implied[v["model_version"]]
        assert (v["suggestions"], v["with_sale"]) == (count, with_sale)
        assert v["rmsle"] == pytest.approx(rmsle, abs=1e-3)  # answers are rounded to cents
        assert 0 <= v["range_coverage"] <= 1
    assert {v["arm"] for v in report.versions} == {"champion", "challenger"}
    assert report.difference is not None and not report.difference["paired"]
    assert report.difference["low"] <= report.difference["difference"] <= report.difference["high"]
    assert "Online report" in open(report.report_uri).read()


def test_the_report_joins_in_each_store(experiment, fresh_log):
    """On sqlite, Postgres and BigQuery (the join runs in the store): a listing priced twice
    (then edited) counts once, by its latest answer; a sale posted again replaces the first; a
    listing listed but not sold counts among the suggestions only."""
    settings = fresh_log(experiment[0])
    listings = [
        {"listing_id": f"b-{i}", "name": f"Nike shoes size {i}", "item_condition_id": 1 + i % 5,
         "shipping": i % 2, "brand_name": "Nike"}
        for i in range(60)
    ]  # fmt: skip
    sold = {f"b-{i}": 20.0 + i for i in range(40)}
    first = [{"listing_id": i, "event": "sold", "price": 2 * p} for i, p in sold.items()]
    final = [{"listing_id": i, "event": "sold", "price": p} for i, p in sold.items()]
    listed = [{"listing_id": f"b-{i}", "event": "listed", "price": 50.0} for i in range(40, 50)]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as client:
        edited = [listing | {"name": "Lot of 5 luxury watches"} for listing in listings[:10]]
        client.post("/v1/price-suggestions", json={"listings": edited})  # then edited
        answers = client.post("/v1/price-suggestions", json={"listings": listings}).json()
        for outcomes in (first, final + listed):
            posted = client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=auth)
            assert posted.status_code == 200
    report = run_online_report(pd.Timestamp.now("UTC").to_pydatetime(), 30, settings)
    implied = _implied(answers["suggestions"], sold)
    assert (report.suggestions, report.with_sale) == (60, 40)
    assert {v["model_version"] for v in report.versions} == set(implied)
    for v in report.versions:
        count, with_sale, rmsle = implied[v["model_version"]]
        assert (v["suggestions"], v["with_sale"]) == (count, with_sale)
        assert v["rmsle"] == pytest.approx(rmsle, abs=1e-3)


def test_the_evidence_counts_from_when_the_experiment_began(trained_settings):
    """An experiment that began 40 days ago is judged on every sale since then, also those
    older than the report's 30 days; suggestions from before it began are left out."""
    settings, trained = trained_settings
    version = register_challenger(settings, trained)
    client, now = use_tracking(settings), datetime.now(UTC).replace(tzinfo=None)
    began = (now - timedelta(days=40)).replace(tzinfo=UTC).isoformat()
    for held, status in (("1", "champion"), (version, "challenger")):
        history = [{"status": status, "since": began, "reason": "an experiment of 40 days"}]
        client.set_model_version_tag(settings.model_name, held, STATUS_HISTORY, json.dumps(history))
    write_evidence(settings, [("champion", "1", 3.0)], 100, now - timedelta(days=50), seed=1)
    arms = [("champion", "1", 1.3), ("challenger", version, 1.02)]
    write_evidence(settings, arms, 400, now - timedelta(days=35), seed=2)
    report = run_online_report(now, 30, settings)
    assert report.suggestions == 0  # nothing in the report's own window
    found = report.difference
    assert (found["champion_listings"], found["challenger_listings"]) == (200, 200)
    assert found["difference"] == pytest.approx(np.log(1.02) - np.log(1.3), abs=0.02)
    assert found["anytime_high"] < 0


def test_the_command_prints_the_report_as_json(served, monkeypatch):
    settings, answers, _ = served
    monkeypatch.setenv("PRICE_ALCHEMY_HOME", str(settings.home))
    monkeypatch.setenv("PRICE_ALCHEMY_PARAMS_FILE", str(settings.params_file))
    from price_alchemy.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["online-report", "--days", "7", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert sum(v["suggestions"] for v in report["versions"]) == len(answers)


def test_a_paired_difference_sees_a_better_challenger():
    """Shadow pairs where the challenger is off by 5% and the champion by 20%."""
    rng = np.random.default_rng(1)
    sold = rng.uniform(5, 200, 400)
    ids = [f"m-{i}" for i in range(400)]
    champion = pd.DataFrame(
        {"listing_id": ids, "arm": "champion", "served": 1, "price": sold * 1.2, "sold_price": sold}
    )
    challenger = champion.assign(arm="challenger", served=0, price=sold * 1.05)
    found = rmsle_difference(pd.concat([champion, challenger]))
    assert found["paired"] and found["high"] < 0
    expected = np.log1p(1.05 * 100) - np.log1p(1.2 * 100)
    assert found["difference"] == pytest.approx(expected, abs=0.05)
