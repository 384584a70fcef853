"""Reproduce: retrain a logged training run from its own data snapshot and parameters, and check
that it scores the same test RMSLE.

The run records the validated listings it trained on (`validation.clean_uri`), the snapshot's
sha256, and its full effective parameters (`params.json`, the search's choices included).
Reproducing refuses a snapshot whose bytes changed, refits with those parameters, scores the
same hash-split test listings and compares with the RMSLE the run logged.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mlflow.artifacts import load_dict
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from price_alchemy.data.extract import file_sha256
from price_alchemy.errors import ActionRequired
from price_alchemy.lifecycle import names
from price_alchemy.model.metrics import rmsle
from price_alchemy.model.train import fit_model, split_listings
from price_alchemy.params import Params
from price_alchemy.records import Record


class ReproductionError(ActionRequired):
    """The run cannot be reproduced (no such run, or missing or changed inputs)."""


@dataclass
class Reproduction(Record):
    """A run's logged test RMSLE beside the one its retrained model scores."""

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
        return super().to_dict() | {"difference": self.difference, "matches": self.matches}


def _run_inputs(client: MlflowClient, run_id: str) -> tuple[Params, Path, float]:
    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        raise ReproductionError(f"no run {run_id} in the tracking store: {error}") from error
    tags, metrics = run.data.tags, run.data.metrics
    if names.CLEAN_URI not in tags or names.MODEL_RMSLE not in metrics:
        raise ReproductionError(f"run {run_id} is not an evaluated training run")
    snapshot = Path(tags[names.SNAPSHOT_URI])
    if not snapshot.exists() or file_sha256(snapshot) != tags[names.SNAPSHOT_SHA256]:
        raise ReproductionError(f"snapshot {snapshot} is missing or no longer has its sha256")
    clean = Path(tags[names.CLEAN_URI])
    if not clean.exists():
        raise ReproductionError(f"validated listings {clean} are missing")
    params = load_dict(f"{run.info.artifact_uri}/{names.PARAMS_ARTIFACT}")
    return Params.model_validate(params), clean, metrics[names.MODEL_RMSLE]


def reproduce_run(client: MlflowClient, run_id: str, tolerance: float = 1e-6) -> Reproduction:
    """Refit the run's model from its recorded inputs; compare its test RMSLE with the log."""
    params, clean, logged = _run_inputs(client, run_id)
    train, test = split_listings(pd.read_parquet(clean), params.split)
    model = fit_model(train, params)
    return Reproduction(run_id, logged, rmsle(test["price"], model.predict(test)), tolerance)
