"""`price-alchemy reproduce`: a training run retrained from its own snapshot and parameters
scores the same test RMSLE (real MLflow store, real retraining)."""

from typer.testing import CliRunner

from price_alchemy.cli import app
from price_alchemy.lifecycle.reproduce import ReproductionError
from price_alchemy.pipeline import model_stages

runner = CliRunner()


def test_a_run_reproduces_its_test_rmsle(trained_shared):
    settings, outputs = trained_shared
    result = model_stages.run_reproduce(outputs.run_id, settings=settings)
    assert result.logged_rmsle == outputs.evaluation.rmsle
    assert result.difference <= 1e-6 and result.matches


def test_reproduce_command_reports_a_match(trained_shared):
    _, outputs = trained_shared
    result = runner.invoke(app, ["reproduce", outputs.run_id, "--json"])
    assert result.exit_code == 0, result.output
    assert '"matches": true' in result.output


def test_a_changed_snapshot_is_refused(trained_settings):
    settings, outputs = trained_settings
    with open(outputs.snapshot.uri, "ab") as snapshot:
        snapshot.write(b"tampered")
    try:
        model_stages.run_reproduce(outputs.run_id, settings=settings)
    except ReproductionError as error:
        assert "sha256" in str(error)
    else:
        raise AssertionError("a tampered snapshot was reproduced")


def test_reproduce_unknown_run_exits_1(settings):
    result = runner.invoke(app, ["reproduce", "0123456789abcdef"])
    assert result.exit_code == 1
    assert "error:" in result.output


def test_reproduce_needs_an_evaluated_training_run(trained_shared):
    settings, outputs = trained_shared
    result = model_stages.run_tune(
        outputs.validation, outputs.snapshot, max_evals=1, settings=settings
    )
    cli = runner.invoke(app, ["reproduce", result.search_run_id])
    assert cli.exit_code == 1 and "not an evaluated training run" in cli.output
