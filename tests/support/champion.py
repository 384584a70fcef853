"""A champion trained for real: every stage of the training pipeline run once on a state
directory's warehouse, with what each stage returned."""

from dataclasses import dataclass
from pathlib import Path

from price_alchemy.data.backends import open_warehouse
from price_alchemy.data.extract import Snapshot
from price_alchemy.lifecycle.registry import Registration
from price_alchemy.pipeline import data_stages, model_stages
from price_alchemy.pipeline.model_stages import Evaluation
from price_alchemy.settings import Settings
from price_alchemy.validation.validate import ValidationResult
from tests.support.listings import SMALL_PARAMS, WINDOW, put_listings


@dataclass(frozen=True)
class Trained:
    """What each training stage returned."""

    snapshot: Snapshot
    validation: ValidationResult
    run_id: str
    evaluation: Evaluation
    registration: Registration


def train_champion(settings: Settings) -> Trained:
    """Run every stage once on the settings' warehouse (WINDOW), registering the model."""
    snapshot = data_stages.run_extract(*WINDOW, settings=settings)
    validation = data_stages.run_validate(snapshot.uri, settings=settings)
    run_id = model_stages.run_train(validation, snapshot, settings=settings)
    evaluation = model_stages.run_evaluate(run_id, validation, settings=settings)
    registration = model_stages.run_register(evaluation, validation, settings=settings)
    return Trained(snapshot, validation, run_id, evaluation, registration)


def champion_home(root: Path, listings) -> tuple[Settings, Trained]:
    """Settings of a new state directory under `root` whose warehouse holds `listings` and
    whose registry holds a champion trained on them, and what training returned."""
    (root / "params.yaml").write_text(SMALL_PARAMS)
    settings = Settings(home=root / "home", params_file=root / "params.yaml")
    put_listings(open_warehouse(settings), listings)
    return settings, train_champion(settings)


def register_challenger(settings: Settings, trained: Trained, alias: str = "challenger") -> str:
    """A second model, trained on the same listings with another Ridge strength (so its prices
    differ from the champion's), registered and given `alias`; returns its version."""
    import mlflow
    import pandas as pd

    from price_alchemy.lifecycle.tracking import ensure_experiment, log_price_model, use_tracking
    from price_alchemy.model.train import fit_model, split_listings
    from price_alchemy.params import apply_overrides, load_params

    params = apply_overrides(load_params(settings.params_file), {"linear.alpha": 20.0})
    train, _ = split_listings(pd.read_parquet(trained.validation.clean_uri), params.split)
    client = use_tracking(settings)
    with mlflow.start_run(experiment_id=ensure_experiment(settings)):
        uri = log_price_model(fit_model(train, params), train)
    version = str(mlflow.register_model(uri, settings.model_name).version)
    client.set_registered_model_alias(settings.model_name, alias, version)
    return version
