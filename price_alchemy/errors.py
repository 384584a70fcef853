"""The one error family that decides how a failure is handled. Every error this package raises
on purpose is a `PriceAlchemyError` of one of two branches:

- `ActionRequired`: a person must fix something (a setting, credentials, a missing table or
  file, unusable data); retrying cannot help, so a DAG task fails at once and the CLI prints
  the one-line message and exits 1.
- `Transient`: a service was unreachable or failing; the same call may pass later, so a DAG
  task is retried with backoff and the CLI says to try again (exit 75, EX_TEMPFAIL).

Anything else is a bug: tasks retry it as Airflow does by default, and the CLI shows its
traceback.
"""


class PriceAlchemyError(Exception):
    """An error this package raises on purpose; the message says what happened."""


class ActionRequired(PriceAlchemyError):
    """A problem a person must fix; the message says what. Retrying cannot help."""


class Transient(PriceAlchemyError):
    """A failure that may pass (a service unreachable or failing): worth a retry."""


class ConfigurationError(ActionRequired):
    """A setting, a name or credentials are missing or invalid; the message says what to set."""
