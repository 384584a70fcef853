"""
### Price Alchemy: monitoring

Watches the market the champion model prices and retrains it when the market has moved.
Runs on the schedule `PRICE_ALCHEMY_MONITORING_SCHEDULE` (default `@daily`) or by hand
(**Trigger** opens a form to change the window and the thresholds for one run).

1. **extract**: the listings created in the trailing `window_days` (default 1) before the run's
   data interval end, with their realized prices, from the warehouse into
   `monitoring/<window>/listings.parquet` under the state directory (a re-run overwrites it).
2. **measure**: keeps the clean rows (the validation row rules); compares what the champion
   priced in the window (the API's prediction log, when it holds `min_rows` suggestions of
   the window; else the window's new listings) with a sample of its training listings:
   - data drift: PSI of each monitored feature (log price, title and description length, title
     words, condition, shipping, top category, brand presence), with the KS test for numbers;
     the share of rows whose category or brand the champion never saw; the shift of the title
     vocabulary;
   - model drift: the champion's RMSLE on the window's listings with realized prices against
     its RMSLE on its held-out split at training.

   Each threshold (params file section `monitoring`, or this form) is a check. The report
   (`report.html` a person reads, `report.json`, plots) is written beside the snapshot and
   logged to the MLflow experiment `price-alchemy-monitoring`, one run per window. A window
   with fewer than `min_rows` clean listings, or no champion yet, is reported but not judged.
3. **should_retrain**: goes on only when a threshold was crossed (and `retrain` is `auto`).
4. **online_report**: how the suggestions of the last `online_days` (default 30) fared once
   their listings sold, per model version and arm (RMSLE, MAE, range coverage, acceptance), and
   the challenger's RMSLE minus the champion's with a 95% interval (`price-alchemy
   online-report`); logged to the monitoring experiment.
5. **judge_experiment**, **choose**, **approve_promotion**, **apply_verdict**: when a version
   holds the `challenger` alias, the online report's challenger-minus-champion interval decides:
   better with 95% confidence over `online.min_listings` sold listings per arm: promote it (at
   once, or after a person approves under **Required Actions** when `approval` is `required`);
   worse with that confidence: end the experiment and retire it; else wait. Each decision is
   in the versions' status history and sent as an alert.
6. **trigger_training**: starts `price_alchemy_training` (run id `monitoring__<window end>`)
   with the crossed thresholds as its `reason`: one training run per judged window, however
   often the window is judged again.
"""

from datetime import timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, task

from price_alchemy.orchestration.dag_support import (
    DAG_DEFAULTS,
    optional_param,
    run_stage,
    run_window,
)
from price_alchemy.settings import get_settings

THRESHOLDS = {
    "max_psi": "Largest PSI any monitored feature may reach.",
    "max_unseen_category_share": "Largest share of rows in categories unseen in training.",
    "max_unseen_brand_share": "Largest share of rows with brands unseen in training.",
    "max_vocabulary_shift": "Largest rise of the out-of-vocabulary share of title words.",
    "max_rmsle_ratio": "Largest champion RMSLE on the window / its RMSLE at training.",
}


@dag(
    dag_id="price_alchemy_monitoring",
    schedule=get_settings().monitoring_schedule,
    doc_md=__doc__,
    **DAG_DEFAULTS,
    params={
        "window_days": optional_param(
            "integer",
            "Trailing days of listings to judge; empty: the params file's.",
            minimum=1,
            maximum=365,
        ),
        **{
            name: optional_param("number", f"{text} Empty: the params file's.", minimum=0)
            for name, text in THRESHOLDS.items()
        },
        "online_days": optional_param(
            "integer",
            "The online report covers suggestions logged in these trailing days; empty: the"
            " params file's online.days.",
            minimum=1,
            maximum=365,
        ),
        "approval": Param(
            None,
            type=["null", "string"],
            enum=[None, "none", "required"],
            description="required: a promotion by live evidence waits for a person's approval;"
            " none: it applies at once; empty: the params file's promotion.approval.",
        ),
        "retrain": Param(
            "auto",
            type="string",
            enum=["auto", "never"],
            description="auto: trigger training when a threshold is crossed; never: report only.",
        ),
    },
)
def price_alchemy_monitoring():
    @task(execution_timeout=timedelta(hours=1))
    def extract(**context) -> dict:
        from price_alchemy.pipeline.data_stages import run_monitoring_extract

        window = run_window(context, context["params"]["window_days"], "monitoring")
        return run_stage(run_monitoring_extract, *window)

    @task(execution_timeout=timedelta(hours=1))
    def measure(snapshot: dict, **context) -> dict:
        from price_alchemy.data.extract import Snapshot
        from price_alchemy.pipeline.monitor_stage import run_monitor

        thresholds = {name: context["params"][name] for name in THRESHOLDS}
        return run_stage(run_monitor, Snapshot.from_dict(snapshot), thresholds)

    @task(execution_timeout=timedelta(hours=1))
    def online_report(**context) -> dict:
        from price_alchemy.pipeline.online_stage import run_online_report

        end = context["data_interval_end"] or context["dag_run"].run_after
        return run_stage(run_online_report, end, context["params"]["online_days"])

    @task.short_circuit
    def should_retrain(outcome: dict, **context) -> bool:
        return outcome["retrain"] and context["params"]["retrain"] == "auto"

    trigger = TriggerDagRunOperator(
        task_id="trigger_training",
        trigger_dag_id="price_alchemy_training",
        trigger_run_id="monitoring__{{ (data_interval_end or dag_run.run_after) | ts_nodash }}",
        conf={"reason": "{{ ti.xcom_pull(task_ids='measure')['reason'] }}", "promote": "auto"},
        skip_when_already_exists=True,
        execution_timeout=timedelta(minutes=10),
    )
    @task(execution_timeout=timedelta(minutes=30))
    def judge_experiment(report: dict, **context) -> dict:
        from price_alchemy.pipeline.experiment_stage import run_judge_experiment
        from price_alchemy.pipeline.online_stage import OnlineReport

        approval = context["params"]["approval"]
        return run_stage(run_judge_experiment, OnlineReport.from_dict(report), approval)

    @task.branch
    def choose(verdict: dict) -> list[str]:
        from price_alchemy.pipeline.experiment_stage import Verdict

        judged = Verdict.from_dict(verdict)
        if judged.needs_approval:
            return ["approve_promotion"]
        return ["apply_verdict"] if judged.changes_anything else []

    approve = ApprovalOperator(
        task_id="approve_promotion",
        subject="Promote challenger"
        " v{{ ti.xcom_pull(task_ids='judge_experiment')['challenger_version'] }} to champion?",
        body="{{ ti.xcom_pull(task_ids='judge_experiment')['reason'] }}",
        retries=0,  # asked once: no answer within a week fails it, and nothing is promoted
        response_timeout=timedelta(days=7),
    )

    @task(trigger_rule="none_failed_min_one_success", execution_timeout=timedelta(minutes=30))
    def apply_verdict(verdict: dict) -> dict:
        from price_alchemy.pipeline.experiment_stage import Verdict, run_apply_verdict

        return run_stage(run_apply_verdict, Verdict.from_dict(verdict))

    should_retrain(measure(extract())) >> trigger
    verdict = judge_experiment(online_report())
    choice, applied = choose(verdict), apply_verdict(verdict)
    choice >> [approve, applied]
    approve >> applied


price_alchemy_monitoring()
