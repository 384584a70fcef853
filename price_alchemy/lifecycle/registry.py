"""Registry: register trained price models and decide which one is the champion.

Every trained run becomes a version of the registered model (once per run, however often the
step is retried) and takes the `challenger` alias. It takes the `champion` alias only when there
is no champion yet, or when its RMSLE on the current held-out listings beats the champion's
RMSLE on the same listings by the configured relative margin. A manual run may `force` the
promotion or say `never`; the scores and the decision are returned for logging.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from price_alchemy.lifecycle.names import CHALLENGER, CHAMPION, RETIRED, STATUS, STATUS_HISTORY
from price_alchemy.lifecycle.tracking import load_price_model
from price_alchemy.model.metrics import score_model
from price_alchemy.records import Record

PromoteMode = Literal["auto", "force", "never"]
HISTORY_KEPT = 30


@dataclass(frozen=True)
class Registration(Record):
    """The version a run became, whether it is now champion, both scores and why."""

    version: str
    promoted: bool
    rmsle: float
    champion_rmsle: float | None
    decision: str = ""


def champion_version(client: MlflowClient, name: str):
    """The model version holding the champion alias, or None."""
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def _version_for_run(client: MlflowClient, name: str, run_id: str, model_uri: str) -> str:
    """The version registered from `run_id`, registering it on the first call only."""
    for version in client.search_model_versions(f"name='{name}' and run_id='{run_id}'"):
        return str(version.version)
    return str(mlflow.register_model(model_uri, name, tags={"run_id": run_id}).version)


def _champion_rmsle(client: MlflowClient, name: str, test: pd.DataFrame) -> float | None:
    current = champion_version(client, name)
    if current is None:
        return None
    model = load_price_model(f"models:/{name}@{CHAMPION}")
    return score_model(model, test)["rmsle"]


def decide_promotion(
    rmsle: float, champion_rmsle: float | None, margin: float, mode: PromoteMode
) -> tuple[bool, str]:
    """(promote?, why) for a challenger scoring `rmsle` against the champion's score."""
    if mode not in ("auto", "force", "never"):
        raise ValueError(f"promote must be auto, force or never, not {mode!r}")
    if mode == "force":
        return True, "forced by the run's promote=force"
    if mode == "never":
        return False, "kept the champion: the run's promote=never"
    if champion_rmsle is None:
        return True, "promoted: there was no champion"
    bar = champion_rmsle * (1 - margin)
    scores = f"RMSLE {rmsle:.5f} vs {bar:.5f} (champion {champion_rmsle:.5f} less {margin:.2%})"
    if rmsle < bar:
        return True, f"promoted: {scores}"
    return False, f"kept the champion: {scores}"


def record_status(client: MlflowClient, name: str, version: str, status: str, reason: str) -> None:
    """Set the version's status (champion, challenger, retired) and append it, with when and
    why, to its history (the last HISTORY_KEPT entries are kept)."""
    history = history_of(client.get_model_version(name, version))
    when = datetime.now(UTC).isoformat(timespec="seconds")
    history.append({"status": status, "since": when, "reason": reason[:500]})
    client.set_model_version_tag(name, version, STATUS_HISTORY, json.dumps(history[-HISTORY_KEPT:]))
    client.set_model_version_tag(name, version, STATUS, status)


def history_of(found) -> list[dict]:
    """The statuses of a fetched model version, oldest first."""
    return json.loads(found.tags.get(STATUS_HISTORY, "[]"))


def status_history(client: MlflowClient, name: str, version: str) -> list[dict]:
    """The version's statuses, oldest first."""
    return history_of(client.get_model_version(name, version))


def holding_since(client: MlflowClient, name: str, version: str, status: str) -> datetime:
    """Since when `version` has held `status` (its latest such entry in the status history;
    else, for a version given its alias by hand, when it was registered), naive UTC."""
    found = client.get_model_version(name, version)
    entries = [entry["since"] for entry in history_of(found) if entry["status"] == status]
    if entries:
        return datetime.fromisoformat(entries[-1]).astimezone(UTC).replace(tzinfo=None)
    return datetime.fromtimestamp(found.creation_timestamp / 1000, UTC).replace(tzinfo=None)


def register_model(
    client: MlflowClient,
    name: str,
    run_id: str,
    model_uri: str,
    rmsle: float,
    test: pd.DataFrame,
    margin: float = 0.005,
    mode: PromoteMode = "auto",
) -> Registration:
    """Register the run's model (which scored `rmsle` on the held-out listings `test`) as the
    challenger; promote it to champion by the gate."""
    current = champion_version(client, name)
    if current is not None and current.run_id == run_id:  # a retry after promotion
        return Registration(str(current.version), True, rmsle, rmsle, "already champion")
    champion_rmsle = _champion_rmsle(client, name, test)
    version = _version_for_run(client, name, run_id, model_uri)
    client.set_registered_model_alias(name, CHALLENGER, version)
    promoted, decision = decide_promotion(rmsle, champion_rmsle, margin, mode)
    record_status(client, name, version, CHALLENGER, f"registered; {decision}")
    if promoted:
        promote(client, name, version, decision, str(current.version) if current else None)
    return Registration(version, promoted, rmsle, champion_rmsle, decision)


def promote(
    client: MlflowClient, name: str, version: str, reason: str, replaced: str | None
) -> None:
    """Make `version` the champion (it leaves the challenger alias); the version it replaces
    (`replaced`, the champion until now), if any, is retired."""
    client.set_registered_model_alias(name, CHAMPION, version)
    if alias_version(client, name, CHALLENGER) == version:
        client.delete_registered_model_alias(name, CHALLENGER)
    record_status(client, name, version, CHAMPION, reason)
    if replaced is not None and replaced != version:
        record_status(client, name, replaced, RETIRED, f"replaced by version {version}")


def retire_challenger(client: MlflowClient, name: str, version: str, reason: str) -> None:
    """End the experiment of `version`: it loses the challenger alias and is retired."""
    if alias_version(client, name, CHALLENGER) == version:
        client.delete_registered_model_alias(name, CHALLENGER)
    record_status(client, name, version, RETIRED, reason)


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version holding `alias`, or None."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None
