"""Registry: register trained price models and decide which one is the champion.

Every trained run becomes a version of the registered model (once per run, however often the
step is retried) and takes the `challenger` alias. It takes the `champion` alias only when there
is no champion yet, or when its RMSLE on the current held-out listings beats the champion's
RMSLE on the same listings by the configured relative margin. A manual run may `force` the
promotion or say `never`; the scores and the decision are returned for logging.
"""

from dataclasses import dataclass
from typing import Literal

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from price_alchemy.lifecycle.names import CHALLENGER, CHAMPION
from price_alchemy.lifecycle.tracking import load_price_model
from price_alchemy.model.metrics import score_model
from price_alchemy.records import Record

PromoteMode = Literal["auto", "force", "never"]


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
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    return Registration(version, promoted, rmsle, champion_rmsle, decision)
