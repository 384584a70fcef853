"""MLflow tracking: point MLflow at the configured store and log price models to it.

On the embedded defaults the store is a sqlite file under the state directory with artifacts in
a local folder beside it; with `PRICE_ALCHEMY_MLFLOW_TRACKING_URI` set, a tracking server is used
and it decides where artifacts go.
"""

import os
import subprocess
from importlib.metadata import version
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from price_alchemy.lifecycle import names
from price_alchemy.schema import LISTING_FIELDS
from price_alchemy.settings import Settings

SERVING_REQUIREMENTS = ("scikit-learn", "lightgbm", "scipy", "numpy", "pandas", "cloudpickle")


def _pip_requirements() -> list[str]:
    """What a model needs to load, pinned to this environment (MLflow's own inference of it
    re-imports the model in a subprocess, which costs seconds per logged model). The model also
    needs this package (`price_alchemy`), which every serving image installs."""
    return [f"{name}=={version(name)}" for name in SERVING_REQUIREMENTS]


def use_tracking(settings: Settings) -> MlflowClient:
    """Point this process's MLflow at the configured store; return a client for it."""
    settings.home.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(settings.tracking_uri, settings.tracking_uri)


def ensure_experiment(settings: Settings, name: str | None = None) -> str:
    """The id of experiment `name` (default: the training experiment), created with local
    artifacts when missing."""
    name = name or settings.mlflow_experiment
    client = use_tracking(settings)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None if settings.mlflow_tracking_uri else settings.artifact_root.as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:  # created meanwhile by a concurrent task
        created = client.get_experiment_by_name(name)
        if created is None:
            raise
        return created.experiment_id


def log_price_model(model, example: pd.DataFrame) -> str:
    """Log `model` to the active run with its signature and an input example; return its URI."""
    inputs = example[list(LISTING_FIELDS)].head(5).reset_index(drop=True)
    inputs = inputs.astype({c: object for c in inputs.columns if inputs[c].dtype == "str"})
    signature = infer_signature(inputs, model.predict(inputs))
    info = mlflow.sklearn.log_model(
        model,
        name=names.MODEL_ARTIFACT,
        signature=signature,
        input_example=inputs,
        pip_requirements=_pip_requirements(),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
    )
    return info.model_uri


def load_price_model(model_uri: str):
    """Load a price model that this package logged (a sklearn estimator).

    MLflow refuses to unpickle any model unless told the source is trusted; the models loaded
    here are the ones our own training pipeline wrote to our own registry.
    """
    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    return mlflow.sklearn.load_model(model_uri)


def code_version_tags() -> dict[str, str]:
    """The package version and the git commit of the code that runs (when it is a checkout)."""
    from price_alchemy import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"code.version": __version__, "code.git_commit": commit}


def flatten_params(params: dict, prefix: str = "") -> dict[str, object]:
    """Nested parameter sections as MLflow's flat `section.key` names."""
    flat: dict[str, object] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(flatten_params(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
