"""Promotion by live evidence against a real registry: the interval decides promote, reject or
wait; applying a verdict moves the aliases and records each version's status, an approval-bound
promotion is announced, a stale verdict is refused, and every decision is an alert on a real
webhook on loopback."""

import pytest
from pydantic import SecretStr

from price_alchemy.errors import ActionRequired
from price_alchemy.lifecycle.names import CHALLENGER, CHAMPION
from price_alchemy.lifecycle.registry import alias_version, status_history
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.monitoring.online import experiment_verdict
from price_alchemy.pipeline.experiment_stage import (
    Verdict,
    run_apply_verdict,
    run_judge_experiment,
)
from price_alchemy.pipeline.online_stage import OnlineReport
from tests.support.champion import register_challenger
from tests.support.webhook import receiver


def _difference(
    difference: float, low: float, high: float, listings: int = 500, anytime=None
) -> dict:
    """A difference whose interval at this look is (low, high), and valid at every look
    `anytime` (default: the same)."""
    anytime_low, anytime_high = anytime or (low, high)
    return {
        "difference": difference,
        "low": low,
        "high": high,
        "anytime_low": anytime_low,
        "anytime_high": anytime_high,
        "paired": False,
        "champion_listings": listings,
        "challenger_listings": listings,
    }


@pytest.mark.parametrize(
    ("found", "decision"),
    [
        (_difference(-0.03, -0.05, -0.01), "promote"),
        (_difference(0.03, 0.01, 0.05), "reject"),
        (_difference(-0.01, -0.03, 0.01), "wait"),  # the interval holds 0
        (_difference(-0.03, -0.05, -0.01, listings=50), "wait"),  # too little evidence
        # this look alone would promote, but not what holds at every look
        (_difference(-0.03, -0.05, -0.01, anytime=(-0.06, 0.002)), "wait"),
        (None, "wait"),
    ],
)
def test_the_interval_decides(found, decision):
    verdict, why = experiment_verdict(found, min_listings=200)
    assert verdict == decision and why


@pytest.fixture
def experiment(trained_settings):
    """A registry with champion v1 and challenger v2, and alerts to a webhook."""
    settings, trained = trained_settings
    version = register_challenger(settings, trained)
    with receiver() as webhook:
        yield settings.model_copy(update={"alert_url": SecretStr(webhook.url)}), version, webhook


def _report(version: str, found: dict) -> OnlineReport:
    return OnlineReport(
        "2026-01-01T00:00:00", "2026-01-31T00:00:00", 1000, 1000, [], found, "1", version
    )


def test_a_better_challenger_is_promoted_and_the_champion_retired(experiment):
    settings, version, webhook = experiment
    verdict = run_judge_experiment(
        _report(version, _difference(-0.03, -0.05, -0.01)), settings=settings
    )
    assert verdict.decision == "promote" and not verdict.needs_approval
    run_apply_verdict(verdict, settings)
    client, name = use_tracking(settings), settings.model_name
    assert alias_version(client, name, CHAMPION) == version
    assert alias_version(client, name, CHALLENGER) is None
    assert status_history(client, name, "1")[-1]["status"] == "retired"
    last = status_history(client, name, version)[-1]
    assert last["status"] == "champion" and "live evidence" in last["reason"]
    [alert] = webhook.messages()
    assert f"challenger v{version} promoted to champion" in alert


def test_a_worse_challenger_ends_the_experiment(experiment):
    settings, version, webhook = experiment
    verdict = run_judge_experiment(
        _report(version, _difference(0.03, 0.01, 0.05)), settings=settings
    )
    run_apply_verdict(verdict, settings)
    client, name = use_tracking(settings), settings.model_name
    assert alias_version(client, name, CHAMPION) == "1"
    assert alias_version(client, name, CHALLENGER) is None
    assert status_history(client, name, version)[-1]["status"] == "retired"
    assert "rejected" in webhook.messages()[0]


def test_a_promotion_that_needs_approval_is_announced_first(experiment):
    settings, version, webhook = experiment
    report = _report(version, _difference(-0.03, -0.05, -0.01))
    verdict = run_judge_experiment(report, approval="required", settings=settings)
    assert verdict.needs_approval
    assert alias_version(use_tracking(settings), settings.model_name, CHAMPION) == "1"
    assert "awaiting approval" in webhook.messages()[0]


def test_a_verdict_on_another_challenger_is_refused(experiment):
    settings, version, _ = experiment
    stale = Verdict("promote", "better", "1", "99")
    with pytest.raises(ActionRequired, match="no longer the challenger"):
        run_apply_verdict(stale, settings)
    assert alias_version(use_tracking(settings), settings.model_name, CHALLENGER) == version
