"""
### Price Alchemy: training

Trains the price-suggestion model on the listings of the run's data window and registers it.

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
6. **register**: a new version of the registered model `price-alchemy` with the alias
   `challenger`; it takes `champion` if there is none, or if its RMSLE beats the champion's on
   the same held-out listings by the margin in the params (0.5%). The `promote` param of a
   manual trigger can `force` it or say `never`.

XCom carries only URIs, run ids and metrics. Settings come from `PRICE_ALCHEMY_*` variables.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task


def _fail_fast(stage, *args):
    """Run a stage; errors a person must fix fail the task at once, others are retried."""
    from airflow.sdk.exceptions import AirflowFailException

    from price_alchemy.validate import ValidationFailed
    from price_alchemy.warehouse import WarehouseError, WarehouseUnavailable

    try:
        return stage(*args)
    except WarehouseUnavailable:
        raise
    except (WarehouseError, ValidationFailed) as error:
        raise AirflowFailException(str(error)) from error


def _window(context) -> tuple:
    """The run's training window: `window_days` before its data interval end."""
    from price_alchemy.extract import trailing_window
    from price_alchemy.params import load_params
    from price_alchemy.settings import get_settings

    end = context["data_interval_end"] or context["dag_run"].run_after
    days = context["params"]["window_days"]
    return trailing_window(end, days or load_params(get_settings().params_file).extract.window_days)


def _optional_int(description: str, **bounds) -> Param:
    """A form field for an integer that may be left empty (then the params file decides)."""
    return Param(None, type=["null", "integer"], description=description, **bounds)


@dag(
    dag_id="price_alchemy_training",
    schedule="@weekly",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["price-alchemy"],
    default_args={
        "retries": 3,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
    },
    params={
        "window_days": _optional_int(
            "Trailing days of listings to train on; empty: the params file's value.", minimum=1
        ),
        "max_evals": _optional_int(
            "Hyperopt trials; empty: the params file's value; 0 skips the search.", minimum=0
        ),
        "timeout_minutes": _optional_int(
            "Minutes after which the search starts no new trial; empty: params file.",
            minimum=1,
            maximum=24 * 60,
        ),
        "search_sample_rows": _optional_int(
            "Training listings sampled for the search trials; empty: params file.", minimum=100
        ),
        "promote": Param(
            "auto",
            type="string",
            enum=["auto", "force", "never"],
            description="auto: champion only if it beats the champion by the margin; "
            "force: make it champion; never: register it as challenger only.",
        ),
    },
)
def price_alchemy_training():
    @task
    def extract(**context) -> dict:
        from price_alchemy.stages import run_extract

        return _fail_fast(run_extract, *_window(context))

    @task
    def validate(snapshot: dict) -> dict:
        from price_alchemy.stages import run_validate

        return _fail_fast(run_validate, snapshot["uri"])

    @task
    def tune(validation: dict, snapshot: dict, **context) -> dict:
        from price_alchemy.stages import run_tune

        params = context["params"]
        timeout = params["timeout_minutes"] and params["timeout_minutes"] * 60
        return run_tune(
            validation, snapshot, params["max_evals"], timeout, params["search_sample_rows"]
        )

    @task
    def train(validation: dict, snapshot: dict, tuned: dict) -> str:
        from price_alchemy.stages import run_train

        return run_train(validation, snapshot, tuned)

    @task
    def evaluate(mlflow_run_id: str, validation: dict) -> dict:
        from price_alchemy.stages import run_evaluate

        return run_evaluate(mlflow_run_id, validation["clean_uri"])

    @task
    def register(mlflow_run_id: str, validation: dict, **context) -> dict:
        from price_alchemy.stages import run_register

        promote = context["params"]["promote"]
        return run_register(mlflow_run_id, validation["clean_uri"], promote)

    snapshot = extract()
    validation = validate(snapshot)
    mlflow_run_id = train(validation, snapshot, tune(validation, snapshot))
    evaluate(mlflow_run_id, validation) >> register(mlflow_run_id, validation)


price_alchemy_training()
