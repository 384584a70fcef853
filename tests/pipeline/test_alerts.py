"""Alerts through Apprise to a real webhook receiver on loopback: one per key however often it
is raised, none without a URL, a failed delivery sent again by the next try; and the monitoring
stage alerting once per window that calls for retraining."""

from pydantic import SecretStr

from price_alchemy.pipeline.alerts import send_alert
from price_alchemy.settings import Settings
from tests.support.webhook import receiver


def _settings(tmp_path, url: str | None) -> Settings:
    return Settings(home=tmp_path / "home", alert_url=SecretStr(url) if url else None)


def test_an_alert_goes_out_once_per_key(tmp_path):
    with receiver() as webhook:
        settings = _settings(tmp_path, webhook.url)
        assert send_alert(settings, "retrain:2026-06-03", "Retraining", "the market moved")
        assert not send_alert(settings, "retrain:2026-06-03", "Retraining", "again")
        assert send_alert(settings, "retrain:2026-06-04", "Retraining", "the next window")
    assert webhook.messages() == [
        "Retraining\nthe market moved",
        "Retraining\nthe next window",
    ]


def test_a_failed_delivery_is_sent_by_the_next_try(tmp_path):
    with receiver() as webhook:
        settings = _settings(tmp_path, webhook.url)
        webhook.failing = True
        assert not send_alert(settings, "failed:dag:run:task", "Failed", "first try")
        webhook.failing = False
        assert send_alert(settings, "failed:dag:run:task", "Failed", "second try")
    assert webhook.messages() == ["Failed\nsecond try"]


def test_without_a_url_nothing_is_sent(tmp_path):
    with receiver() as webhook:
        assert not send_alert(_settings(tmp_path, None), "k", "t", "b")
    assert webhook.bodies == []
