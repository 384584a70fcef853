"""The `price-alchemy` command line, run in-process with Typer's runner."""

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from price_alchemy.cli import app
from price_alchemy.data.backends import open_warehouse

runner = CliRunner()


def _all_rows(settings):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql("SELECT * FROM listings ORDER BY train_id").to_arrow_table()


COMMANDS = [
    "demo-data",
    "status",
    "serve",
    "airflow-ui",
    "extract",
    "validate",
    "reproduce",
    "export-model",
    "warehouse",
]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS], ["warehouse", "load"]])
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_top_level_help_lists_every_command():
    output = runner.invoke(app, ["--help"]).output
    assert all(command in output for command in [*COMMANDS, "airflow"])


def test_demo_data_writes_deterministic_rows(settings):
    args = ["demo-data", "--rows", "500", "--seed", "4", "--end", "2025-06-01"]
    assert runner.invoke(app, args).exit_code == 0
    first = _all_rows(settings)
    assert runner.invoke(app, args).exit_code == 0  # replaces: running twice works
    again = _all_rows(settings)
    assert first.num_rows == again.num_rows == 500
    assert first.equals(again)


def test_demo_data_append(settings):
    runner.invoke(app, ["demo-data", "--rows", "100"])
    runner.invoke(app, ["demo-data", "--rows", "100", "--seed", "1", "--append"])
    assert open_warehouse(settings).count_rows() == 200
    ids = _all_rows(settings).column("train_id").to_pylist()
    assert sorted(ids) == list(range(200))  # appended ids continue, never collide


def _live_rows(settings):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql("SELECT * FROM active_listings ORDER BY listing_id").df()


def test_demo_data_fills_the_live_listings_too(settings):
    result = runner.invoke(app, ["demo-data", "--rows", "100", "--active", "40"])
    assert result.exit_code == 0, result.output
    live = _live_rows(settings)
    assert len(live) == 40 and live["listing_id"].str.startswith("live-").all()
    assert (live["listed_price"] > 0).all() and live["listed_at"].notna().all()
    assert open_warehouse(settings).count_rows() == 100


def test_warehouse_load_into_the_live_listings(settings, tmp_path):
    """A CSV of live listings without listed_at: every row loaded, the load time filled in, an
    unreadable listed price loaded as null and counted."""
    source = tmp_path / "live.csv"
    source.write_text(
        "listing_id,name,item_condition_id,category_name,brand_name,shipping,"
        "item_description,listed_price\n"
        "a-1,Lamp,3,Home/Decor/Lamps,,1,nice,20\n"
        "a-2,Chair,9,,,0,,abc\n"
    )
    args = ["warehouse", "load", str(source), "--table", "active_listings", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == 2 and summary["unreadable_values"] == {"listed_price": 1}
    assert summary["created_at_filled"] and "active_listings" in summary["warehouse"]
    live = _live_rows(settings)
    assert live["listing_id"].tolist() == ["a-1", "a-2"] and live["listed_at"].notna().all()
    unknown = runner.invoke(app, ["warehouse", "load", str(source), "--table", "nope"])
    assert unknown.exit_code == 1 and "unknown table 'nope'" in unknown.output


def test_demo_data_rejects_bad_rows_option(settings):
    result = runner.invoke(app, ["demo-data", "--rows", "-5"])
    assert result.exit_code == 2
    assert "--rows" in result.output


def test_status_json_before_anything_exists(settings):
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["warehouse_rows"] == 0 and report["champion"] is None
    assert report["mlflow_tracking_uri"].startswith("sqlite:///")
    assert report["airflow_home"].startswith(str(settings.home))
    assert not settings.home.joinpath("mlflow.db").exists()  # status creates nothing


def test_status_reports_the_champion(trained_shared):
    settings, out = trained_shared
    report = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert report["warehouse_rows"] == 4000
    assert report["champion"]["version"] == "1"
    assert report["champion"]["rmsle"] == pytest.approx(out.evaluation.rmsle)
    text = runner.invoke(app, ["status"]).output
    assert "price-alchemy v1 RMSLE" in text


def _write_tsv(path, small_listings, rows: int = 300) -> None:
    frame = small_listings.slice(0, rows).to_pandas()
    frame.loc[0, "price"] = -3.0  # one bad row travels to validation
    frame.to_csv(path, sep="\t", index=False)


def test_load_extract_validate_from_the_cli(settings, small_listings, tmp_path):
    source = tmp_path / "listings.tsv"
    _write_tsv(source, small_listings)
    loaded = json.loads(runner.invoke(app, ["warehouse", "load", str(source), "--json"]).output)
    assert loaded["rows"] == 300 and loaded["warehouse"].startswith("duckdb:")
    window = ["--start", "2024-01-01", "--end", "2026-01-01", "--json"]
    snapshot = json.loads(runner.invoke(app, ["extract", *window]).output)
    assert snapshot["rows"] == 300 and len(snapshot["sha256"]) == 64
    assert snapshot["parameters"]["start"] == "2024-01-01T00:00:00"
    result = runner.invoke(app, ["validate", snapshot["uri"], "--json"])
    assert result.exit_code == 0, result.output
    checked = json.loads(result.output)
    counts = (checked["rows_in"], checked["rows_passed"], checked["rows_quarantined"])
    assert counts == (300, 299, 1)
    assert {check["name"] for check in checked["checks"]} >= {"columns", "bad_share"}
    assert Path(checked["report_html_uri"]).exists() and Path(checked["quarantine_uri"]).exists()


def test_cli_errors_are_one_line_with_exit_1(settings, tmp_path):
    cases = [
        ["warehouse", "load", str(tmp_path / "missing.tsv")],
        ["warehouse", "load", str(tmp_path)],
        ["extract", "--start", "2025-01-01", "--end", "2025-02-01"],
        ["validate", str(tmp_path / "nothing.parquet")],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1, args


def test_extract_rejects_a_bad_date(settings):
    result = runner.invoke(app, ["extract", "--start", "yesterday", "--end", "2025-01-01"])
    assert result.exit_code == 2 and "--start" in result.output
