"""Live experiments: which model prices a listing. Assignment is a pure function of a stable unit
(the listing's id, else its seller's, else the request's) and the experiment's key, as feature-
flag tools do it: a hash compared with the challenger's share. The same listing always meets
the same model, no state is kept, and any logged answer's arm can be recomputed offline.

`split` sends the challenger its share of listings and answers with it; `shadow` prices every
listing with both models, answers with the champion and logs both.
"""

import hashlib
from dataclasses import dataclass
from typing import Literal

CHAMPION, CHALLENGER = "champion", "challenger"  # the arms
_SCALE = float(1 << 64)


def experiment_unit(listing: dict, request_id: str, position: int) -> str:
    """What the experiment assigns: the listing's id, else its seller's, else the request's
    listing (request id and position)."""
    if listing.get("listing_id"):
        return f"listing:{listing['listing_id']}"
    if listing.get("seller_id"):
        return f"seller:{listing['seller_id']}"
    return f"request:{request_id}:{position}"


def bucket(unit: str, key: str) -> float:
    """A uniform number in [0, 1) fixed by the unit and the experiment's key."""
    digest = hashlib.sha256(f"{key}\x1f{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


@dataclass(frozen=True)
class Experiment:
    """A live experiment: the challenger's share of listings, the mode and the key."""

    share: float = 0.0
    mode: Literal["split", "shadow"] = "split"
    key: str = "price-alchemy"

    @property
    def on(self) -> bool:
        return self.mode == "shadow" or self.share > 0

    def arm(self, unit: str) -> str:
        """The model that answers for `unit` (in shadow mode, always the champion)."""
        if self.mode == "split" and self.share > 0 and bucket(unit, self.key) < self.share:
            return CHALLENGER
        return CHAMPION

    def arms(self, listings: list[dict], request_id: str) -> list[str] | None:
        """Each listing's arm; None when every listing meets the champion (no split)."""
        if self.mode != "split" or self.share <= 0:
            return None
        return [
            self.arm(experiment_unit(listing, request_id, position))
            for position, listing in enumerate(listings)
        ]
