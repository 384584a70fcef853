"""
### Price Alchemy: training

Trains the price-suggestion model on the listings of the run's data window and registers it.
Runs on the schedule `PRICE_ALCHEMY_TRAINING_SCHEDULE` (default `@weekly`), when
`price_alchemy_monitoring` sees drift (its `reason` param says which threshold), or by hand:
**Trigger** opens a form with the params below. A manual run's window ends at its logical date.
Tasks retry with exponential backoff (3 tries, 20 s doubling to 10 min) and each has a timeout
(extract, validate, evaluate 1 h; tune 6 h; train 3 h; register 30 min). Re-running a logical
date overwrites its snapshot and, seeded, gives the same metrics; a retried register never
registers a run twice.

1. **extract**: the trailing `window_days` of listings before the run's data interval end, from
   the warehouse (DuckDB or BigQuery, by settings) into a Parquet snapshot keyed by the window
   (a re-run overwrites it). Unreachable warehouses are retried with exponential backoff;
   missing credentials or tables fail at once with a message saying what to set.
2. **validate**: bad rows go to `quarantine.parquet` beside the snapshot with every failed check;
   free text is cleaned (HTML, URLs, control characters, length). The run fails here, naming
   the check and its numbers, if a column is missing, the window is empty, too many rows are
   bad, or the data moved too far from the previous snapshot (row count, prices, unseen
   categories or brands). `report.html` / `report.json` beside the snapshot say why.
3. **tune**: a Hyperopt TPE search over LightGBM, Ridge and feature parameters on a sample of
   the training split: one parent MLflow run, one nested run per trial. Budget: the `max_evals`,
   `timeout_minutes` and `search_sample_rows` params (empty: the params file's; 0 trials skips
   the search).
4. **train**: TF-IDF + one-hot features, a blend of Ridge and LightGBM on log1p(price) with the
   search's best parameters, and a price range; logged to MLflow with the snapshot's URI,
   sha256, rows, window and query, the code version, the parameters and the validation report.
5. **evaluate**: RMSLE, MAE and R^2 of the blend, each member and the rules baseline on the
   held-out split, the price range's coverage, and diagnostics (plots, per-category errors,
   feature importance, search loss) as artifacts.
6. **register**: once per MLflow run (a retry finds it by its run id), a new version of the
   registered model `price-alchemy` with the alias `challenger`; it takes `champion` if there
   is none, or if its RMSLE beats the champion's on the same held-out listings by the margin
   in the params (0.5%). The `promote` param of a manual trigger can `force` it or say `never`.
7. **announce_champion**: when the run's model became champion, updates the asset
   `price_alchemy_champion`, on which `price_alchemy_repricing` prices the live listings with
   it; skipped otherwise.

XCom carries only URIs, run ids and metrics. Settings come from `PRICE_ALCHEMY_*` variables,
modelling parameters from the params file (`PRICE_ALCHEMY_PARAMS_FILE`).
"""

from datetime import timedelta

from airflow.sdk import Param, dag, task

from price_alchemy.orchestration.dag_support import (
    CHAMPION_ASSET,
    DAG_DEFAULTS,
    optional_param,
    run_stage,
    run_window,
)
from price_alchemy.settings import get_settings

TIMEOUTS = {  # per task; the search's own budget is the timeout_minutes param (at most 5 h)
    "extract": timedelta(hours=1),
    "validate": timedelta(hours=1),
    "tune": timedelta(hours=6),
    "train": timedelta(hours=3),
    "evaluate": timedelta(hours=1),
    "register": timedelta(minutes=30),
    "announce_champion": timedelta(minutes=5),
}


@dag(
    dag_id="price_alchemy_training",
    schedule=get_settings().training_schedule,
    doc_md=__doc__,
    **DAG_DEFAULTS,
    params={
        "window_days": optional_param(
            "integer",
            "Trailing days of listings to train on; empty: the params file's value.",
            minimum=1,
            maximum=3650,
        ),
        "max_evals": optional_param(
            "integer",
            "Hyperopt trials; empty: the params file's value; 0 skips the search.",
            minimum=0,
            maximum=1000,
        ),
        "timeout_minutes": optional_param(
            "integer",
            "Minutes after which the search starts no new trial; empty: params file.",
            minimum=1,
            maximum=5 * 60,
        ),
        "search_sample_rows": optional_param(
            "integer",
            "Training listings sampled for the search trials; empty: params file.",
            minimum=100,
            maximum=50_000_000,
        ),
        "promote": Param(
            "auto",
            type="string",
            enum=["auto", "force", "never"],
            description="auto: champion only if it beats the champion by the margin; "
            "force: make it champion; never: register it as challenger only.",
        ),
        "reason": optional_param(
            "string",
            "Why this run was started (the monitoring DAG says which threshold was crossed);"
            " kept as the MLflow tag trigger.reason.",
            maxLength=8000,
        ),
    },
)
def price_alchemy_training():
    @task(execution_timeout=TIMEOUTS["extract"])
    def extract(**context) -> dict:
        from price_alchemy.pipeline.data_stages import run_extract

        window = run_window(context, context["params"]["window_days"], "extract")
        return run_stage(run_extract, *window)

    @task(execution_timeout=TIMEOUTS["validate"])
    def validate(snapshot: dict) -> dict:
        from price_alchemy.pipeline.data_stages import run_validate

        return run_stage(run_validate, snapshot["uri"])

    @task(execution_timeout=TIMEOUTS["tune"])
    def tune(validation: dict, snapshot: dict, **context) -> dict:
        from price_alchemy.data.extract import Snapshot
        from price_alchemy.pipeline.model_stages import run_tune
        from price_alchemy.validation.validate import ValidationResult

        form = context["params"]
        budget = form["max_evals"], form["timeout_minutes"] and form["timeout_minutes"] * 60
        inputs = ValidationResult.from_dict(validation), Snapshot.from_dict(snapshot)
        return run_stage(run_tune, *inputs, *budget, form["search_sample_rows"])

    @task(execution_timeout=TIMEOUTS["train"])
    def train(validation: dict, snapshot: dict, tuned: dict, **context) -> str:
        from price_alchemy.data.extract import Snapshot
        from price_alchemy.pipeline.model_stages import Tuning, run_train
        from price_alchemy.validation.validate import ValidationResult

        run_type = context["dag_run"].run_type
        reason = context["params"]["reason"] or f"{getattr(run_type, 'value', run_type)} run"
        inputs = ValidationResult.from_dict(validation), Snapshot.from_dict(snapshot)
        return run_stage(run_train, *inputs, Tuning.from_dict(tuned), reason)

    @task(execution_timeout=TIMEOUTS["evaluate"])
    def evaluate(mlflow_run_id: str, validation: dict) -> dict:
        from price_alchemy.pipeline.model_stages import run_evaluate
        from price_alchemy.validation.validate import ValidationResult

        return run_stage(run_evaluate, mlflow_run_id, ValidationResult.from_dict(validation))

    @task(execution_timeout=TIMEOUTS["register"])
    def register(evaluation: dict, validation: dict, **context) -> dict:
        from price_alchemy.pipeline.model_stages import Evaluation, run_register
        from price_alchemy.validation.validate import ValidationResult

        inputs = Evaluation.from_dict(evaluation), ValidationResult.from_dict(validation)
        return run_stage(run_register, *inputs, context["params"]["promote"])

    @task(execution_timeout=TIMEOUTS["announce_champion"], outlets=[CHAMPION_ASSET])
    def announce_champion(registration: dict) -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        if not registration["promoted"]:
            raise AirflowSkipException(f"the champion did not change: {registration['decision']}")
        return f"version {registration['version']} is champion"

    snapshot = extract()
    validation = validate(snapshot)
    mlflow_run_id = train(validation, snapshot, tune(validation, snapshot))
    announce_champion(register(evaluate(mlflow_run_id, validation), validation))

price_alchemy_training()
