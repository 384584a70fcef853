"""Export a registered model version to a directory that serves without MLflow (a container
needs no tracking server), and describe a version as `/v1/model` shows it.

An export holds the version's MLflow model in `model/` and its description in `model.json`;
`read_exported` loads both back.
"""

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mlflow.artifacts import download_artifacts
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from price_alchemy.errors import ActionRequired
from price_alchemy.lifecycle.tracking import load_price_model
from price_alchemy.records import Record

MODEL_INFO = "model.json"
MODEL_FOLDER = "model"


class NoSuchModel(ActionRequired):
    """No version holds the alias, or a directory holds no exported model."""


@dataclass(frozen=True)
class ModelInfo(Record):
    """What `/v1/model` says about the served model."""

    name: str
    version: str
    alias: str
    run_id: str | None
    trained_at: str | None
    metrics: dict[str, float] = field(default_factory=dict)
    source: str = ""


def _timestamp(millis: int | None) -> str | None:
    return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC).isoformat()


def describe_version(client: MlflowClient, name: str, alias: str) -> ModelInfo:
    """The version holding `alias`, with its training run's time and metrics; NoSuchModel
    when no version holds it."""
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        raise NoSuchModel(f"no '{alias}' version of model '{name}': train one first") from error
    run = client.get_run(version.run_id) if version.run_id else None
    return ModelInfo(
        name=name,
        version=str(version.version),
        alias=alias,
        run_id=version.run_id,
        trained_at=_timestamp(
            (run.info.end_time or run.info.start_time) if run else version.creation_timestamp
        ),
        metrics=dict(run.data.metrics) if run else {},
        source=f"models:/{name}/{version.version}",
    )


def export_model(client: MlflowClient, name: str, alias: str, out_dir: Path) -> ModelInfo:
    """Write the version holding `alias` to `out_dir` (its MLflow model in `model/`, what
    `/v1/model` reports in `model.json`), replacing `out_dir` only once all is written."""
    info = describe_version(client, name, alias)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent) as work:
        staged = Path(work) / "export"
        download_artifacts(info.source, dst_path=str(staged / MODEL_FOLDER))
        (staged / MODEL_INFO).write_text(json.dumps(info.to_dict(), indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staged.rename(out_dir)
    return info


def read_exported(path: Path) -> tuple[ModelInfo, object]:
    """The description and the model of a directory written by `export_model`."""
    path = Path(path)
    if not (path / MODEL_INFO).exists():
        raise NoSuchModel(f"{path} holds no exported model ({MODEL_INFO} is missing)")
    info = ModelInfo.from_dict(json.loads((path / MODEL_INFO).read_text()) | {"source": str(path)})
    return info, load_price_model(str(path / MODEL_FOLDER))
