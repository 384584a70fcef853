"""The environment Airflow runs in: its home under the state directory and the repo's DAGs.

`price-alchemy airflow ...` and the tests run the Airflow CLI with this environment, so the
scheduler, the API server and `airflow dags test` all share one sqlite metadata database, one
DAG folder and the same Price Alchemy settings as the rest of the system.
"""

import os
import secrets
from pathlib import Path

from price_alchemy.settings import Settings


def _jwt_secret(airflow_home: Path) -> str:
    """A per-installation signing secret for the API server, made on first use, never in git."""
    path = airflow_home / "jwt_secret"
    if not path.exists():
        airflow_home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def airflow_environment(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) plus what Airflow needs to run here.

    Airflow variables already set (not empty) in `base` win, so a deployment can point Airflow
    at Postgres or another DAG folder without touching this code; `PRICE_ALCHEMY_HOME` is always
    the absolute state directory, so tasks find the same state whatever their working directory.
    """
    env = dict(os.environ if base is None else base)
    defaults = {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(settings.airflow_home),
    }
    chosen = {key: value for key, value in env.items() if value or key not in defaults}
    return defaults | chosen | {"PRICE_ALCHEMY_HOME": str(settings.home)}
