"""Re-pricing the live listings with a real champion from a real MLflow store, on DuckDB and on
BigQuery through the real client against the emulator: one suggestion per valid listing, each
skipped one in the skipped table with its reasons, the same rows after a rerun, and prices
identical to the API's for the same listings."""

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.load import load_table
from price_alchemy.demo.generator import active_listings
from price_alchemy.errors import ActionRequired
from price_alchemy.pipeline.repricing_stage import run_repricing
from price_alchemy.schema import ACTIVE_LISTING_SCHEMA, LISTING_FIELDS
from price_alchemy.serving.app import create_app

LIVE = 300


def _live_with_bad_rows() -> pa.Table:
    """LIVE good live listings, then four that cannot be priced as they are."""
    good = active_listings(LIVE, seed=9)
    first = good.slice(0, 1).to_pylist()[0]
    bad = [
        first | {"listing_id": "bad-condition", "item_condition_id": 9},
        first | {"listing_id": "bad-title", "name": "   "},
        first | {"listing_id": None},
        first,  # its id again
    ]
    return pa.concat_tables([good, pa.Table.from_pylist(bad, schema=ACTIVE_LISTING_SCHEMA)])


def _load_live(settings, rows: pa.Table) -> None:
    live = open_warehouse(settings, settings.active_table)
    load_table(live, rows, settings.home / "loads", replace=True)


def _table(settings, table: str) -> pd.DataFrame:
    if settings.warehouse == "duckdb":
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.sql(f'SELECT * FROM "{table}"').df()
    warehouse = open_warehouse(settings, table)
    return pa.Table.from_batches(list(warehouse.read_all(10_000))).to_pandas()


@pytest.fixture(scope="module")
def champion(trained_home):
    return trained_home[0]


def _own_home(champion, tmp_path):
    """The champion's registry, with a state directory (and DuckDB warehouse) of the test's own."""
    update = {"home": tmp_path / "home", "mlflow_tracking_uri": champion.tracking_uri}
    return champion.model_copy(update=update)


@pytest.fixture(params=["duckdb", "bigquery"])
def settings(request, champion, tmp_path):
    """The champion's settings, with a warehouse of each backend holding the live listings."""
    if request.param == "duckdb":
        settings = _own_home(champion, tmp_path)
    else:
        emulator = request.getfixturevalue("bigquery_emulator")
        settings = champion.model_copy(
            update={
                "warehouse": "bigquery",
                "bigquery_project": emulator.project,
                "bigquery_endpoint": emulator.endpoint,
                "bigquery_dataset": f"live_{tmp_path.name[-12:].replace('-', '_')}",
                "bigquery_retry_seconds": 5,
            }
        )
    _load_live(settings, _live_with_bad_rows())
    return settings


def test_every_live_listing_is_priced_or_skipped_with_its_reasons(settings):
    done = run_repricing("run-1", settings)
    assert (done.listings, done.priced, done.skipped) == (LIVE + 4, LIVE, 4)
    suggestions = _table(settings, settings.suggestions_table)
    assert len(suggestions) == LIVE and suggestions["listing_id"].is_unique
    assert (suggestions["low"] <= suggestions["price"]).all()
    assert (suggestions["price"] <= suggestions["high"]).all()
    assert set(suggestions["model_version"]) == {"1"} and set(suggestions["run_id"]) == {"run-1"}
    live = active_listings(LIVE, seed=9).to_pandas().set_index("listing_id")["listed_price"]
    gaps = suggestions.set_index("listing_id")
    expected = live[gaps.index] / gaps["price"] - 1
    assert gaps["gap"].to_numpy() == pytest.approx(expected.to_numpy())
    skipped = _table(settings, settings.skipped_table).set_index("listing_id", drop=False)
    reasons = dict(zip(skipped["listing_id"].fillna("<none>"), skipped["reasons"], strict=True))
    assert "item_condition_id" in reasons["bad-condition"] and "name" in reasons["bad-title"]
    assert reasons["<none>"] == "listing_id: missing"
    assert reasons["live-0"] == "listing_id: repeated in the run"


def test_a_rerun_replaces_its_rows_and_keeps_other_runs(settings):
    run_repricing("run-1", settings)
    run_repricing("run-2", settings)
    _load_live(settings, active_listings(LIVE // 2, seed=9))  # half the listings sold meanwhile
    again = run_repricing("run-1", settings)
    assert (again.priced, again.skipped) == (LIVE // 2, 0)
    suggestions = _table(settings, settings.suggestions_table)
    assert suggestions.groupby("run_id").size().to_dict() == {"run-1": LIVE // 2, "run-2": LIVE}
    skipped = _table(settings, settings.skipped_table)
    assert skipped.groupby("run_id").size().to_dict() == {"run-2": 4}


def test_batch_prices_are_the_apis(champion, tmp_path):
    settings = _own_home(champion, tmp_path)
    live = active_listings(LIVE, seed=10)
    _load_live(settings, live)
    run_repricing("run-api", settings.model_copy(update={"repricing_batch_rows": 64}))
    batch = _table(settings, settings.suggestions_table).set_index("listing_id")
    rows = live.to_pandas()
    listings = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in rows[["listing_id", *LISTING_FIELDS]].to_dict("records")
    ]
    with TestClient(create_app(champion)) as client:
        answer = client.post("/v1/price-suggestions", json={"listings": listings}).json()
    online = pd.DataFrame(answer["suggestions"]).set_index("listing_id")
    for column in ("price", "low", "high"):
        assert batch.loc[online.index, column].tolist() == online[column].tolist()


def test_no_champion_says_what_to_do(settings, tmp_path):
    bare = settings.model_copy(update={"mlflow_tracking_uri": f"sqlite:///{tmp_path}/none.db"})
    with pytest.raises(ActionRequired, match="no model to re-price with"):
        run_repricing("run-x", bare)
