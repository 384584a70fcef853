"""BigQuery credentials: where they come from and the one-line errors when they are missing.

No Google endpoint is contacted: building credentials is local; the emulator tests cover the
client against a running service.
"""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials

from price_alchemy.data.google_credentials import bigquery_client, credentials_from_connection_extra
from price_alchemy.errors import ConfigurationError
from price_alchemy.settings import Settings

EMAIL = "loader@example-project.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def service_account_info() -> dict:
    """A syntactically real service-account key made here (it grants nothing anywhere)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": "example-project",
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.fixture
def no_adc(monkeypatch, tmp_path):
    """No Application Default Credentials anywhere: no key file variable, no gcloud config."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("HOME", str(tmp_path))


def _bq_settings(tmp_path, **extra) -> Settings:
    return Settings(
        home=tmp_path, warehouse="bigquery", bigquery_project="example-project", **extra
    )


def test_missing_credentials_say_what_to_set(no_adc, tmp_path):
    with pytest.raises(ConfigurationError) as raised:
        bigquery_client(_bq_settings(tmp_path))
    message = str(raised.value)
    assert "\n" not in message
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message and "google_cloud_default" in message


def test_missing_project_says_what_to_set(tmp_path):
    with pytest.raises(ConfigurationError, match="PRICE_ALCHEMY_BIGQUERY_PROJECT"):
        bigquery_client(Settings(home=tmp_path, warehouse="bigquery"))


def test_adc_key_file_is_used(no_adc, monkeypatch, tmp_path, service_account_info):
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(service_account_info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    client = bigquery_client(_bq_settings(tmp_path))
    assert client.project == "example-project"
    assert client._credentials.service_account_email == EMAIL


def test_airflow_connection_keyfile_dict_wins(no_adc, monkeypatch, tmp_path, service_account_info):
    extra = {"keyfile_dict": json.dumps(service_account_info)}
    monkeypatch.setenv(
        "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT",
        json.dumps({"conn_type": "google_cloud_platform", "extra": extra}),
    )
    client = bigquery_client(_bq_settings(tmp_path))
    assert client._credentials.service_account_email == EMAIL


def test_wrong_airflow_connection_is_a_one_line_error(no_adc, monkeypatch, tmp_path):
    monkeypatch.setenv(
        "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT",
        json.dumps({"conn_type": "google_cloud_platform", "extra": {"key_path": "/no/key.json"}}),
    )
    with pytest.raises(ConfigurationError, match="google_cloud_default has unusable credentials"):
        bigquery_client(_bq_settings(tmp_path))


def test_connection_without_key_falls_back(service_account_info):
    assert credentials_from_connection_extra({}) is None
    legacy = {"extra__google_cloud_platform__keyfile_dict": service_account_info}
    assert credentials_from_connection_extra(legacy).service_account_email == EMAIL


def test_emulator_endpoint_uses_anonymous_credentials(tmp_path):
    client = bigquery_client(_bq_settings(tmp_path, bigquery_endpoint="http://127.0.0.1:9"))
    assert isinstance(client._credentials, AnonymousCredentials)


def test_secrets_never_reach_the_error(no_adc, monkeypatch, tmp_path, service_account_info):
    garbage = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0Z2FyYmFnZQ==\n-----END PRIVATE KEY-----\n"
    broken = dict(service_account_info, private_key=garbage)
    monkeypatch.setenv(
        "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT",
        json.dumps({"conn_type": "google_cloud_platform", "extra": {"keyfile_dict": broken}}),
    )
    with pytest.raises(ConfigurationError) as raised:
        bigquery_client(_bq_settings(tmp_path))
    assert "c2VjcmV0Z2FyYmFnZQ" not in str(raised.value)
    assert "\n" not in str(raised.value)


def _every_source(monkeypatch, tmp_path, service_account_info) -> None:
    """ADC names one service account, the Airflow connection another."""
    key_file = tmp_path / "adc.json"
    adc = service_account_info | {"client_email": "adc@x.iam.gserviceaccount.com"}
    key_file.write_text(json.dumps(adc))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    extra = {"keyfile_dict": json.dumps(service_account_info)}
    connection = {"conn_type": "google_cloud_platform", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", json.dumps(connection))


def test_with_every_source_present_the_precedence_holds(
    no_adc, monkeypatch, tmp_path, service_account_info
):
    """Pinned order: an emulator endpoint, then the Airflow connection, then ADC."""
    _every_source(monkeypatch, tmp_path, service_account_info)
    emulated = bigquery_client(_bq_settings(tmp_path, bigquery_endpoint="http://127.0.0.1:9"))
    assert isinstance(emulated._credentials, AnonymousCredentials)
    assert bigquery_client(_bq_settings(tmp_path))._credentials.service_account_email == EMAIL
    monkeypatch.delenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT")
    adc = bigquery_client(_bq_settings(tmp_path))._credentials.service_account_email
    assert adc == "adc@x.iam.gserviceaccount.com"
