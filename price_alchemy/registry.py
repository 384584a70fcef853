"""Registry: register trained price models and decide which one is the champion.

Every trained run becomes a version of the registered model (once per run, however often the
step is retried). The version takes the `champion` alias when there is no champion yet or when
it beats the current champion's RMSLE on the same held-out listings.
"""

from dataclasses import asdict, dataclass

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from price_alchemy.evaluate import score_model
from price_alchemy.tracking import load_price_model

CHAMPION = "champion"


@dataclass(frozen=True)
class Registration:
    version: str
    promoted: bool
    rmsle: float
    champion_rmsle: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ChampionModel:
    name: str
    version: str
    model: object


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


def register_model(
    client: MlflowClient, name: str, run_id: str, model_uri: str, test: pd.DataFrame
) -> Registration:
    """Register the run's model; make it champion if it beats the champion on `test`."""
    rmsle = client.get_run(run_id).data.metrics["model_rmsle"]
    current = champion_version(client, name)
    if current is not None and current.run_id == run_id:  # a retry after promotion
        return Registration(str(current.version), True, rmsle, rmsle)
    champion_rmsle = _champion_rmsle(client, name, test)
    version = _version_for_run(client, name, run_id, model_uri)
    promoted = champion_rmsle is None or rmsle < champion_rmsle
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    return Registration(version, promoted, rmsle, champion_rmsle)


def load_champion(client: MlflowClient, name: str) -> ChampionModel:
    """The champion model, ready to predict; LookupError when there is none."""
    current = champion_version(client, name)
    if current is None:
        raise LookupError(f"no '{CHAMPION}' version of model '{name}': run the training DAG first")
    model = load_price_model(f"models:/{name}/{current.version}")
    return ChampionModel(name, str(current.version), model)
