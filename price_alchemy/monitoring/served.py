"""What the API served, counted honestly for monitoring: live traffic only (requests marked
test, load or smoke with `X-Traffic` are left out), the answers clients got (not shadow prices),
and each listing once: by its listing id, else by its fields (a load test that sends one listing
thousands of times is one listing)."""

import pandas as pd

from price_alchemy.schema import LISTING_FIELDS


def live_served_listings(log: pd.DataFrame) -> pd.DataFrame:
    """The distinct listings of live answers in a window of the prediction log."""
    traffic = log["traffic"] if "traffic" in log else pd.Series(None, index=log.index)
    served = log["served"] if "served" in log else pd.Series(1, index=log.index)
    live = log[(traffic.isna() | (traffic == "live")) & (served.fillna(1) == 1)]
    ids = live["listing_id"] if "listing_id" in live else pd.Series(None, index=live.index)
    content = pd.util.hash_pandas_object(live[list(LISTING_FIELDS)].astype(str), index=False)
    key = ids.where(ids.notna(), "content:" + content.astype(str))
    return live.loc[~key.duplicated()].reset_index(drop=True)
