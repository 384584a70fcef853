"""The names through which the pipeline's stages talk in MLflow, defined once: run tags, metric
names, artifact paths and registry aliases. A stage that writes one and a stage (or the API,
or a person's query) that reads it both import it from here."""

# run tags
KIND = "kind"  # what a run is: one of the RUN_KINDS
RUN_KINDS = ("training", "search", "monitoring")
MODEL_URI = "model_uri"  # the logged model of a training run
CLEAN_URI = "validation.clean_uri"  # the validated listings a training run used
SNAPSHOT_PREFIX = "snapshot."  # + each field of the data snapshot (uri, sha256, query, ...)
SNAPSHOT_URI = SNAPSHOT_PREFIX + "uri"
SNAPSHOT_SHA256 = SNAPSHOT_PREFIX + "sha256"
SEARCH_RUN_ID = "search_run_id"  # the Hyperopt search whose best parameters the run used
TRIGGER_REASON = "trigger.reason"  # why the run started (a schedule, a person, monitoring)
PROMOTED = "promoted"
PROMOTION_DECISION = "promotion.decision"
TRIAL_STATUS = "trial.status"
TRIAL_ERROR = "trial.error"

# metrics: `<row>_<score>` for each row scored on the held-out split
MODEL_ROW = "model"  # the blend that is served
BASELINE_ROW = "baseline"  # the rules baseline
CHAMPION_SAME_SPLIT = "champion_rmsle_same_split"
RANGE_COVERAGE = "range_coverage"
RANGE_NOMINAL = "range_nominal"


def score_metric(row: str, score: str) -> str:
    """The metric name of one score (rmsle, mae, r2) of one row (model, baseline, a member)."""
    return f"{row}_{score}"


MODEL_RMSLE = score_metric(MODEL_ROW, "rmsle")
BASELINE_RMSLE = score_metric(BASELINE_ROW, "rmsle")

# artifacts
MODEL_ARTIFACT = "model"
PARAMS_ARTIFACT = "params.json"  # the run's full effective parameters
TRIALS_ARTIFACT = "search/trials.csv"

# registry aliases
CHAMPION = "champion"
CHALLENGER = "challenger"

# model version tags: the version's status now, and every status it had, since when and why
STATUS = "status"
STATUS_HISTORY = "status.history"
RETIRED = "retired"  # the status of a version no alias points at any more
