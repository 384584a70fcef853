"""The one error family that decides how a failure is handled: `ActionRequired` is a problem a
person must fix (settings, credentials, a missing table or file, unusable data), so DAG tasks
fail at once instead of retrying and the CLI prints its one-line message."""


class ActionRequired(Exception):
    """A problem a person must fix; the message says what. Retrying cannot help."""
