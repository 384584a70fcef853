"""Outcomes as the prediction log stores them: one row per listing and event (the last of a
request wins, as a later post replaces an earlier one), with when it happened (naive UTC; when
posted if not said) and when it was received."""

from datetime import datetime

from price_alchemy.data.extract import naive_utc
from price_alchemy.serving.schemas import Outcome


def outcome_rows(outcomes: list[Outcome], received_at: datetime) -> list[dict]:
    """The rows of a request's outcomes, each listing and event once."""
    latest = {(o.listing_id, o.event): o for o in outcomes}
    return [
        {
            "listing_id": outcome.listing_id,
            "event": outcome.event,
            "price": outcome.price,
            "occurred_at": naive_utc(outcome.at) if outcome.at else received_at,
            "received_at": received_at,
        }
        for outcome in latest.values()
    ]
