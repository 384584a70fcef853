"""Credentials and clients for Google BigQuery, never stored in the repository.

In order: an explicit emulator endpoint (anonymous, for tests and local runs); the Airflow
connection `google_cloud_default` (its `keyfile_dict` or `key_path` extra) when running inside
Airflow; Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, or
`gcloud auth application-default login`). Failures become one-line `ConfigurationError`s that say
what to set.
"""

import json
import logging

import google.auth
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import bigquery
from google.oauth2 import service_account

from price_alchemy.errors import ConfigurationError

log = logging.getLogger(__name__)
SCOPES = ("https://www.googleapis.com/auth/bigquery",)
HOW_TO = (
    "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run"
    " `gcloud auth application-default login`, or define the Airflow connection {conn}"
)


def credentials_from_connection_extra(extra: dict) -> Credentials | None:
    """Service-account credentials from an Airflow Google connection's extra, if it has one."""
    keyfile = extra.get("keyfile_dict") or extra.get("extra__google_cloud_platform__keyfile_dict")
    if keyfile:
        info = json.loads(keyfile) if isinstance(keyfile, str) else keyfile
        return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    path = extra.get("key_path") or extra.get("extra__google_cloud_platform__key_path")
    if path:
        return service_account.Credentials.from_service_account_file(path, scopes=SCOPES)
    return None


def _airflow_credentials(conn_id: str) -> Credentials | None:
    """Credentials from the Airflow connection, or None outside Airflow / without one."""
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn_id)
    except Exception as error:  # no Airflow here, or no such connection
        log.debug("no Airflow connection %s: %s", conn_id, error)
        return None
    try:
        return credentials_from_connection_extra(connection.extra_dejson)
    except (OSError, ValueError) as error:  # unreadable key file, malformed key
        raise ConfigurationError(
            f"the Airflow connection {conn_id} has unusable credentials"
            f" ({type(error).__name__}: {error}); fix its keyfile_dict or key_path extra"
        ) from error


def _default_credentials(conn_id: str) -> Credentials:
    try:
        credentials, _ = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError as error:
        raise ConfigurationError(
            "no Google credentials found: " + HOW_TO.format(conn=conn_id)
        ) from error
    return credentials


def bigquery_client(settings) -> bigquery.Client:
    """A BigQuery client for the configured project (or emulator endpoint)."""
    if not settings.bigquery_project:
        raise ConfigurationError(
            "PRICE_ALCHEMY_BIGQUERY_PROJECT is not set (the Google Cloud project)"
        )
    if settings.bigquery_endpoint:
        return bigquery.Client(
            project=settings.bigquery_project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=settings.bigquery_endpoint),
        )
    credentials = _airflow_credentials(settings.gcp_conn_id) or _default_credentials(
        settings.gcp_conn_id
    )
    return bigquery.Client(
        project=settings.bigquery_project,
        credentials=credentials,
        location=settings.bigquery_location,
    )
