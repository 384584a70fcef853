"""Runtime settings: one typed object read lazily from `PRICE_ALCHEMY_*` environment variables.

Everything the system writes lives under one state directory (`PRICE_ALCHEMY_HOME`, default
`./.price_alchemy`): the DuckDB warehouse, the MLflow store and artifacts, the Airflow home, run
snapshots and logs. Real backends (an MLflow server, another warehouse) are chosen by setting the
matching variables; nothing here creates folders or touches a backend at import time.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where state lives and which backends to use."""

    model_config = SettingsConfigDict(env_prefix="PRICE_ALCHEMY_", extra="ignore")

    home: Path = Field(Path(".price_alchemy"), description="State directory.")
    warehouse: Literal["duckdb", "bigquery"] = Field("duckdb", description="Warehouse backend.")
    warehouse_table: str = Field("listings", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    active_table: str = Field(
        "active_listings",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Warehouse table of the live listings the re-pricing DAG prices.",
    )
    suggestions_table: str = Field(
        "price_suggestions",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Warehouse table the re-pricing DAG writes its suggestions to.",
    )
    skipped_table: str = Field(
        "active_quarantine",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Warehouse table of the live listings a re-pricing run skipped, and why.",
    )
    bigquery_project: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$", description="Google Cloud project."
    )
    bigquery_dataset: str = Field("price_alchemy", pattern=r"^[A-Za-z0-9_]{1,1024}$")
    bigquery_location: str = Field("US", description="Dataset location, e.g. US or EU.")
    bigquery_endpoint: str | None = Field(
        None, description="API endpoint override (a BigQuery emulator); anonymous credentials."
    )
    gcp_conn_id: str = Field("google_cloud_default", description="Airflow connection id.")
    bigquery_retry_seconds: float = Field(
        120.0, gt=0, description="How long one BigQuery call retries transient errors."
    )
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking URI; default: a sqlite store under the home."
    )
    mlflow_experiment: str = "price-alchemy"
    monitoring_experiment: str = "price-alchemy-monitoring"
    model_name: str = "price-alchemy"
    model_alias: str = Field("champion", description="Registry alias the API serves.")
    model_dir: Path | None = Field(
        None, description="Serve this `export-model` directory instead of the registry."
    )
    model_poll_seconds: float = Field(
        30.0, ge=0, description="How often the API checks the alias for a new version; 0: never."
    )
    challenger_alias: str = Field(
        "challenger", description="Registry alias of the model a live experiment tests."
    )
    challenger_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of listings the challenger prices (sticky by listing id); 0: no"
        " experiment.",
    )
    experiment_mode: Literal["split", "shadow"] = Field(
        "split",
        description="split: the challenger answers its share of listings; shadow: it prices"
        " every listing beside the champion, whose price is the answer, and both are logged.",
    )
    prediction_log_url: str | None = Field(
        None,
        description="Prediction log: a SQLAlchemy URL (e.g. Postgres) or bigquery:TABLE (in"
        " the BigQuery project and dataset); default: sqlite under the home.",
    )
    prediction_log_queue: int = Field(
        10_000, ge=1, description="Prediction records waiting to be written, at most."
    )
    outcomes_token: SecretStr | None = Field(
        None,
        description="The bearer token POST /v1/outcomes requires (outcomes steer promotions);"
        " unset: the endpoint is off.",
    )
    outcomes_rate: float = Field(
        50.0, gt=0, description="Outcome requests a client may send per second (a burst of 2x)."
    )
    batch_max_wait_ms: float = Field(
        2.0, ge=0, description="How long a request waits for others to be priced with it."
    )
    access_log: bool = Field(
        False,
        description="Log a line per HTTP request (uvicorn's access log, ~8% of the API's CPU);"
        " /metrics counts every request by route and status either way.",
    )
    alert_url: SecretStr | None = Field(
        None,
        description="Apprise URLs (Slack, email, webhooks, ...; several separated by spaces) that"
        " monitoring decisions and failed tasks are sent to; unset: no alerts.",
    )
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="Currency of the prices.")
    params_file: Path | None = Field(None, description="YAML overriding the modelling params.")
    training_schedule: str | None = Field(
        "@weekly",
        description="When the training DAG runs: a cron expression or a preset; 'none': only "
        "when triggered.",
    )
    monitoring_schedule: str | None = Field(
        "@daily",
        description="When the monitoring DAG runs: a cron expression or a preset; 'none': only "
        "when triggered.",
    )
    repricing_schedule: str | None = Field(
        "@daily",
        description="When the re-pricing DAG prices the live listings (and whenever a new "
        "champion is registered): a cron expression or a preset; 'none': only then.",
    )
    repricing_batch_rows: int = Field(
        100_000, ge=1, description="Live listings read, checked and priced per batch."
    )
    dags_folder: Path = Field(
        Path(__file__).resolve().parents[1] / "dags", description="Folder holding the DAGs."
    )

    @field_validator("model_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return None if value == "" else value

    @field_validator("training_schedule", "monitoring_schedule", "repricing_schedule")
    @classmethod
    def _no_schedule(cls, schedule: str | None) -> str | None:
        return None if schedule is None or schedule.strip().lower() in ("", "none") else schedule

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, home: Path) -> Path:
        return home.expanduser().resolve()

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_tracking_uri or f"sqlite:///{self.home / 'mlflow.db'}"

    @property
    def prediction_log(self) -> str:
        return self.prediction_log_url or f"sqlite:///{self.home / 'predictions.db'}"

    @property
    def artifact_root(self) -> Path:
        return self.home / "mlartifacts"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def snapshots_dir(self) -> Path:
        return self.home / "snapshots"

    @property
    def monitoring_dir(self) -> Path:
        return self.home / "monitoring"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
