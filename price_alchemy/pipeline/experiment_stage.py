"""Promotion by live evidence, with its I/O: what the monitoring DAG's `judge_experiment` and
`apply_verdict` tasks call. The online report's challenger-minus-champion interval decides:
the challenger is promoted when it is better with 95% confidence over at least
`online.min_listings` sold listings per arm, and the experiment ends (the challenger retired)
when it is worse with that confidence; otherwise the experiment goes on. A promotion waits for a
person's approval in Airflow when `promotion.approval` (or the DAG form) is `required`; every
decision is recorded in the versions' status history and sent as an alert.
"""

from dataclasses import dataclass

from price_alchemy.errors import ActionRequired
from price_alchemy.lifecycle.names import CHALLENGER
from price_alchemy.lifecycle.registry import alias_version, promote, retire_challenger
from price_alchemy.lifecycle.tracking import use_tracking
from price_alchemy.monitoring.online import experiment_verdict
from price_alchemy.params import load_params
from price_alchemy.pipeline.alerts import send_alert
from price_alchemy.pipeline.online_stage import OnlineReport
from price_alchemy.records import Record
from price_alchemy.settings import Settings, get_settings


@dataclass(frozen=True)
class Verdict(Record):
    """What the evidence says of the challenger: promote, reject or wait, and why."""

    decision: str
    reason: str
    champion_version: str | None
    challenger_version: str | None
    approval: str = "none"  # required: a promotion waits for a person

    @property
    def needs_approval(self) -> bool:
        return self.decision == "promote" and self.approval == "required"

    @property
    def changes_anything(self) -> bool:
        """Whether applying it promotes or retires a version (else the experiment goes on)."""
        return self.challenger_version is not None and self.decision in ("promote", "reject")


def run_judge_experiment(
    report: OnlineReport, approval: str | None = None, settings: Settings | None = None
) -> Verdict:
    """The verdict on the challenger of `report`; a promotion that needs approval is
    announced as an alert (once per window)."""
    settings = settings or get_settings()
    params = load_params(settings.params_file)
    decision, reason = experiment_verdict(report.difference, params.online.min_listings)
    if report.challenger_version is None:
        decision, reason = "wait", "no challenger is being tested"
    verdict = Verdict(
        decision,
        reason,
        report.champion_version,
        report.challenger_version,
        approval or params.promotion.approval,
    )
    if verdict.needs_approval:
        _alert(settings, verdict, report.end, "proposed for promotion, awaiting approval")
    return verdict


def run_apply_verdict(verdict: Verdict, settings: Settings | None = None) -> Verdict:
    """Promote the challenger or retire it, as the verdict says, if it is still the one that
    was judged."""
    settings = settings or get_settings()
    client, name = use_tracking(settings), settings.model_name
    version = verdict.challenger_version
    if version is None or not verdict.changes_anything:
        return verdict
    if alias_version(client, name, CHALLENGER) != version:
        raise ActionRequired(
            f"version {version} is no longer the challenger: the verdict on it does not apply"
        )
    if verdict.decision == "promote":
        reason = f"promoted by live evidence: {verdict.reason}"
        promote(client, name, version, reason, verdict.champion_version)
        _alert(settings, verdict, version, "promoted to champion")
    else:
        retire_challenger(client, name, version, f"experiment ended: {verdict.reason}")
        _alert(settings, verdict, version, "rejected, experiment ended")
    return verdict


def _alert(settings: Settings, verdict: Verdict, key: str, what: str) -> None:
    send_alert(
        settings,
        f"experiment:{verdict.challenger_version}:{verdict.decision}:{key}",
        f"Price Alchemy: challenger v{verdict.challenger_version} {what}",
        verdict.reason,
    )
