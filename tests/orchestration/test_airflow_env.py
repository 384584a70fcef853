"""The environment Airflow runs in: the state directory's Airflow home and the repo's DAGs by
default, a deployment's own Airflow settings when it sets them, and never an empty one (an
empty AIRFLOW_HOME would send Airflow to the working directory, a database nobody migrated)."""

from price_alchemy.orchestration.airflow_env import airflow_environment
from price_alchemy.settings import Settings


def test_defaults_point_airflow_at_the_state_directory(tmp_path):
    settings = Settings(home=tmp_path / "home")
    env = airflow_environment(settings, {"PATH": "/bin", "AIRFLOW_HOME": ""})
    assert env["AIRFLOW_HOME"] == str(settings.airflow_home)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(settings.dags_folder)
    assert env["PRICE_ALCHEMY_HOME"] == str(settings.home) and env["PATH"] == "/bin"
    assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) > 40


def test_a_deployments_own_airflow_settings_win(tmp_path):
    settings = Settings(home=tmp_path / "home")
    own = {"AIRFLOW_HOME": "/srv/airflow", "AIRFLOW__CORE__PARALLELISM": "16", "EMPTY": ""}
    env = airflow_environment(settings, own | {"PRICE_ALCHEMY_HOME": "elsewhere"})
    assert env["AIRFLOW_HOME"] == "/srv/airflow"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "16" and env["EMPTY"] == ""
    assert env["PRICE_ALCHEMY_HOME"] == str(settings.home)
