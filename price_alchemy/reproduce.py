"""Reproduce: retrain a logged training run from its own data snapshot and parameters, and check
that it scores the same test RMSLE.

The run records the validated listings it trained on (`validation.clean_uri`), the snapshot's
sha256, and its full effective parameters (`params.json`, the search's choices included).
Reproducing refuses a snapshot whose bytes changed, refits with those parameters, scores the
same hash-split test listings and compares with the RMSLE the run logged.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from mlflow.artifacts import load_dict
from mlflow.tracking import MlflowClient

from price_alchemy.evaluate import rmsle
from price_alchemy.extract import file_sha256
from price_alchemy.params import Params
from price_alchemy.train import fit_model, split_listings

PARAMS_ARTIFACT = "params.json"


class ReproductionError(RuntimeError):
    """The run cannot be reproduced (missing or changed inputs)."""


@dataclass
class Reproduction:
    run_id: str
    logged_rmsle: float
    reproduced_rmsle: float
    tolerance: float

    @property
    def difference(self) -> float:
        return abs(self.reproduced_rmsle - self.logged_rmsle)

    @property
    def matches(self) -> bool:
        return self.difference <= self.tolerance

    def to_dict(self) -> dict:
        return asdict(self) | {"difference": self.difference, "matches": self.matches}


def _run_inputs(client: MlflowClient, run_id: str) -> tuple[Params, Path, float]:
    run = client.get_run(run_id)
    tags, metrics = run.data.tags, run.data.metrics
    if "validation.clean_uri" not in tags or "model_rmsle" not in metrics:
        raise ReproductionError(f"run {run_id} is not an evaluated training run")
    snapshot = Path(tags["snapshot.uri"])
    if not snapshot.exists() or file_sha256(snapshot) != tags["snapshot.sha256"]:
        raise ReproductionError(f"snapshot {snapshot} is missing or no longer has its sha256")
    clean = Path(tags["validation.clean_uri"])
    if not clean.exists():
        raise ReproductionError(f"validated listings {clean} are missing")
    params = Params.model_validate(load_dict(f"{run.info.artifact_uri}/{PARAMS_ARTIFACT}"))
    return params, clean, metrics["model_rmsle"]


def reproduce_run(client: MlflowClient, run_id: str, tolerance: float = 1e-6) -> Reproduction:
    """Refit the run's model from its recorded inputs; compare its test RMSLE with the log."""
    params, clean, logged = _run_inputs(client, run_id)
    train, test = split_listings(pd.read_parquet(clean), params.split)
    model = fit_model(train, params)
    return Reproduction(run_id, logged, rmsle(test["price"], model.predict(test)), tolerance)
