"""Alerts: people are told when monitoring decides (retraining, and the fate of a challenger)
and when a task fails for good, through the Apprise URLs of `PRICE_ALCHEMY_ALERT_URL` (Slack,
email, Teams, a webhook, ...; several separated by spaces); none set: no alerts.

One alert per key (a window and its decision, a failed task of a run), never a storm: the keys
sent are remembered in `alerts.db` under the state directory, and a key whose sending failed is
forgotten, so a retry sends it.
"""

import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import apprise

from price_alchemy.settings import Settings

log = logging.getLogger(__name__)


def send_alert(settings: Settings, key: str, title: str, body: str) -> bool:
    """Send the alert unless one with `key` was sent before; True when it was sent now."""
    if settings.alert_url is None:
        return False
    book = settings.home / "alerts.db"
    if not _claim(book, key):
        log.info("alert %s was sent before", key)
        return False
    notifier = apprise.Apprise()
    for url in settings.alert_url.get_secret_value().split():
        notifier.add(url)
    if notifier.notify(title=title, body=body):
        return True
    log.warning("alert %s could not be sent; a later try will send it", key)
    _release(book, key)
    return False


def _connect(book: Path) -> sqlite3.Connection:
    book.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(book, timeout=30)
    connection.execute("CREATE TABLE IF NOT EXISTS sent (key TEXT PRIMARY KEY, at TEXT)")
    return connection


def _claim(book: Path, key: str) -> bool:
    """Record `key` as sent; False when it already was (by this or another process)."""
    with closing(_connect(book)) as connection, connection:
        now = datetime.now(UTC).isoformat()
        found = connection.execute("INSERT OR IGNORE INTO sent VALUES (?, ?)", (key, now))
        return found.rowcount == 1


def _release(book: Path, key: str) -> None:
    with closing(_connect(book)) as connection, connection:
        connection.execute("DELETE FROM sent WHERE key = ?", (key,))
