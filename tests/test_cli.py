"""The `price-alchemy` command line, run in-process with Typer's runner."""

import json

import duckdb
import pytest
from typer.testing import CliRunner

from price_alchemy.cli import app
from price_alchemy.warehouse import open_warehouse

runner = CliRunner()


def _all_rows(settings):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql("SELECT * FROM listings ORDER BY train_id").to_arrow_table()
COMMANDS = ["demo-data", "status", "serve", "airflow-ui"]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
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


def test_status_reports_the_champion(trained_settings):
    settings, out = trained_settings
    report = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert report["warehouse_rows"] == 4000
    assert report["champion"]["version"] == "1"
    assert report["champion"]["rmsle"] == pytest.approx(out["metrics"]["model_rmsle"])
    text = runner.invoke(app, ["status"]).output
    assert "price-alchemy v1 RMSLE" in text
