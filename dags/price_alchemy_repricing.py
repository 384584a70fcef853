"""
### Price Alchemy: re-pricing

Prices every live listing (the warehouse table `PRICE_ALCHEMY_ACTIVE_TABLE`, default
`active_listings`) with the champion, and writes the suggestions to `price_suggestions`
(`PRICE_ALCHEMY_SUGGESTIONS_TABLE`): per listing the price, low, high, the model name and
version, the run, when it was scored and `gap`, the listed price over the suggestion less 1
(+0.25: listed 25% above it). Runs on `PRICE_ALCHEMY_REPRICING_SCHEDULE` (default `@daily`) and
whenever a training run makes a new champion (the asset `price_alchemy_champion`), so a new
champion re-prices the backlog; or by hand.

1. **reprice**: reads the live listings in batches of `PRICE_ALCHEMY_REPRICING_BATCH_ROWS`,
   checks each with the training data's row rules for the fields a seller types, prices those
   that pass with the model code the API serves (identical prices), and skips the rest with
   every failed check in `active_quarantine` (`PRICE_ALCHEMY_SKIPPED_TABLE`), as it does a
   listing without an id or with one already priced in the run. The run's rows go into each
   table in one MERGE (on BigQuery from a staging table a load job filled): a rerun replaces
   them and never doubles them. Without a champion it fails at once, saying so.
"""

from datetime import timedelta

from airflow.sdk import dag, task

from price_alchemy.orchestration.dag_support import CHAMPION_ASSET, DAG_DEFAULTS, run_stage
from price_alchemy.settings import get_settings


def _schedule():
    """The settings' schedule or the champion asset, whichever comes first; the asset alone
    when the schedule is 'none'."""
    from airflow.timetables.assets import AssetOrTimeSchedule
    from airflow.timetables.trigger import CronTriggerTimetable

    cron = get_settings().repricing_schedule
    if cron is None:
        return [CHAMPION_ASSET]
    timetable = CronTriggerTimetable(cron, timezone="UTC")
    return AssetOrTimeSchedule(timetable=timetable, assets=[CHAMPION_ASSET])


@dag(dag_id="price_alchemy_repricing", schedule=_schedule(), doc_md=__doc__, **DAG_DEFAULTS)
def price_alchemy_repricing():
    @task(execution_timeout=timedelta(hours=1))
    def reprice(**context) -> dict:
        from price_alchemy.pipeline.repricing_stage import run_repricing

        return run_stage(run_repricing, context["dag_run"].run_id)

    reprice()


price_alchemy_repricing()
