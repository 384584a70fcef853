"""What the DAG files share: form fields, the run's window, and how a task runs a stage (its
failure policy, its result as an XCom value).

Imported at DAG-parse time, so it imports nothing heavy at the top: the stages and their
exceptions are imported inside the functions, when a task runs.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, BaseNotifier, Param

# Updated by a training run whose model became champion; the re-pricing DAG runs on it
CHAMPION_ASSET = Asset("price_alchemy_champion")


class TaskFailureAlert(BaseNotifier):
    """Tells people (`PRICE_ALCHEMY_ALERT_URL`) that a task failed for good: once per task of
    a run, after its last retry."""

    def notify(self, context) -> None:
        from price_alchemy.pipeline.alerts import send_alert
        from price_alchemy.settings import get_settings

        ti, run_id = context["ti"], context["dag_run"].run_id
        error = context.get("exception")
        send_alert(
            get_settings(),
            f"failed:{ti.dag_id}:{run_id}:{ti.task_id}",
            f"Price Alchemy: {ti.dag_id}.{ti.task_id} failed",
            f"Run {run_id}: task {ti.task_id} failed after its retries: {error}",
        )


TASK_DEFAULTS = {  # every task: retries with backoff, and an alert when it fails for good
    "retries": 3,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": [TaskFailureAlert()],
}


DAG_DEFAULTS = {  # what every Price Alchemy DAG shares
    "start_date": pendulum.datetime(2025, 1, 1, tz="UTC"),
    "catchup": False,
    "max_active_runs": 1,
    # Airflow pauses a new DAG by default: ours run on their schedules, and monitoring's
    # trigger of training runs, as soon as the DAG processor has seen them
    "is_paused_upon_creation": False,
    "tags": ["price-alchemy"],
    "default_args": TASK_DEFAULTS,
}


def optional_param(kind: str, description: str, **bounds) -> Param:
    """A form field of JSON type `kind` that may be left empty (then the params file decides)."""
    return Param(None, type=["null", kind], description=description, **bounds)


def run_window(context, days: int | None, section: str) -> tuple:
    """The trailing `days` (None: the params file's `<section>.window_days`) before the run's
    data interval end (a manual run's: its logical date)."""
    from price_alchemy.data.extract import trailing_window
    from price_alchemy.params import load_params
    from price_alchemy.settings import get_settings

    end = context["data_interval_end"] or context["dag_run"].run_after
    if days is None:
        days = getattr(load_params(get_settings().params_file), section).window_days
    return trailing_window(end, days)


def run_stage(stage, *args, **kwargs):
    """Run a stage and return its result as an XCom value (a typed result as its dict). Errors
    a person must fix fail the task at once; the rest (transient failures, bugs) are retried."""
    from airflow.sdk.exceptions import AirflowFailException

    from price_alchemy.errors import ActionRequired

    try:
        result = stage(*args, **kwargs)
    except ActionRequired as error:
        raise AirflowFailException(str(error)) from error
    return result.to_dict() if hasattr(result, "to_dict") else result
