"""Online evaluation: how the suggestions that sellers were given fared once their listings sold.

Pure functions over the join of the prediction log and the outcomes (one row per logged
suggestion: listing, arm, version, whether it was the answer served or a shadow price, the
price and range, the listing's sold and listed prices when known). Labels arrive late: a
suggestion without a sale yet counts among the suggestions but not in the error measures.

Per version and arm: suggestions, those with a sale, RMSLE and MAE against the sale price, the
share of sales inside the range, acceptance (the share of listings put up within 5% of the
suggestion) and the median |listed - suggested| / suggested. And the challenger's RMSLE minus
the champion's with a 95% bootstrap interval: paired on listings both priced (shadow mode),
else over the listings each arm answered.

Monitoring looks at an experiment again every day, so a decision taken the first time a 95%
interval excludes 0 would be wrong far more often than 5% of the time. Decisions therefore use
an interval valid at every look at once: the asymptotic confidence sequence of Waudby-Smith,
Arnold, Wu, McAuliffe and Ramdas ("Time-uniform central limit theory and asymptotic confidence
sequences", Annals of Statistics 2024), the bootstrap's standard error times a factor that
changes slowly with the sold listings (3.0 near `planned` listings per arm, where it is
narrowest, 3.2 at ten times more, 3.9 at ten times fewer; one look's is 1.96).
"""

import numpy as np
import pandas as pd

ACCEPTED_WITHIN = 0.05  # a listed price this close to the suggestion counts as accepted
ALPHA = 0.05  # the intervals' error rate: 95% confidence
BOOTSTRAP_ROUNDS = 1000
_BOOTSTRAP_CELLS = 5_000_000  # resampled values held at once (40 MB of indices)


def latest_suggestions(pairs: pd.DataFrame) -> pd.DataFrame:
    """The latest suggestion of each listing, arm and served flag (a listing priced again,
    say after an edit, counts once: with what the seller saw last)."""
    pairs = pairs.assign(served=pairs["served"].fillna(1).astype(int))
    pairs = pairs.assign(arm=pairs["arm"].fillna("champion"))
    ordered = pairs.sort_values("created_at", kind="stable")
    return ordered.drop_duplicates(["listing_id", "arm", "served"], keep="last")


def _log_error(frame: pd.DataFrame) -> np.ndarray:
    return np.log1p(frame["price"].to_numpy(float)) - np.log1p(frame["sold_price"].to_numpy(float))


def version_metrics(pairs: pd.DataFrame) -> list[dict]:
    """One record per (model version, arm, served) with the online measures."""
    records = []
    for (version, arm, served), group in pairs.groupby(["model_version", "arm", "served"]):
        records.append({"model_version": str(version), "arm": arm, "served": bool(served)})
        records[-1] |= _measures(group)
    return records


def _measures(group: pd.DataFrame) -> dict:
    sold = group[group["sold_price"].notna()]
    listed = group[group["listed_price"].notna()]
    gap = (listed["listed_price"] - listed["price"]).abs() / listed["price"]
    errors = _log_error(sold)
    return {
        "suggestions": len(group),
        "with_sale": len(sold),
        "rmsle": float(np.sqrt(np.mean(errors**2))) if len(sold) else None,
        "mae": float(np.mean(np.abs(sold["price"] - sold["sold_price"]))) if len(sold) else None,
        "range_coverage": _share(sold["sold_price"].between(sold["low"], sold["high"])),
        "with_listing": len(listed),
        "acceptance": _share(gap <= ACCEPTED_WITHIN),
        "median_listed_gap": float(gap.median()) if len(listed) else None,
    }


def _share(flags: pd.Series) -> float | None:
    return float(flags.mean()) if len(flags) else None


def rmsle_difference(
    pairs: pd.DataFrame,
    seed: int = 0,
    versions: tuple[str, str] | None = None,
    planned: int = 2000,
) -> dict | None:
    """The challenger's RMSLE minus the champion's on sold listings, with a 95% bootstrap
    interval (`low`, `high`) and the 95% interval valid at every look (`anytime_low`,
    `anytime_high`; narrowest near `planned` sold listings per arm): paired on listings both
    priced (shadow), else over each arm's listings; None when an arm has no sale.
    `versions`: (champion, challenger) to compare, when the window saw others too."""
    sold = pairs[pairs["sold_price"].notna()]
    if versions is not None:
        arm_version = {"champion": versions[0], "challenger": versions[1]}
        sold = sold[sold["model_version"].astype(str) == sold["arm"].map(arm_version)]
    champion = sold[(sold["arm"] == "champion") & (sold["served"] == 1)]
    challenger = sold[sold["arm"] == "challenger"]
    if champion.empty or challenger.empty:
        return None
    rng = np.random.default_rng(seed)
    paired = challenger["served"].eq(0).all()
    if paired:
        both = champion.merge(challenger, on="listing_id", suffixes=("_a", "_b"))
        if both.empty:
            return None
        a, b = _squares(both, "_a"), _squares(both, "_b")
        draws = _paired_draws(a, b, rng)
    else:
        a, b = _log_error(champion) ** 2, _log_error(challenger) ** 2
        draws = _independent_draws(a, b, rng)
    low, high = np.percentile(draws, [100 * ALPHA / 2, 100 * (1 - ALPHA / 2)])
    difference = float(np.sqrt(b.mean()) - np.sqrt(a.mean()))
    reach = float(np.std(draws)) * anytime_factor(min(len(a), len(b)), planned)
    return {
        "difference": difference,
        "low": float(low),
        "high": float(high),
        "anytime_low": difference - reach,
        "anytime_high": difference + reach,
        "paired": bool(paired),
        "champion_listings": len(a),
        "challenger_listings": len(b),
    }


def anytime_factor(n: int, planned: int) -> float:
    """How many standard errors a 1 - ALPHA interval of a mean of `n` observations must reach
    on each side to hold at every `n` at once (the asymptotic confidence sequence's boundary,
    its free parameter chosen to make it narrowest at `planned` observations)."""
    log_alpha = -2 * np.log(ALPHA)
    rho2 = (log_alpha + np.log(log_alpha + 1)) / planned
    spread = n * rho2 + 1
    return float(np.sqrt(2 * spread / (n * rho2) * np.log(np.sqrt(spread) / ALPHA)))


def _squares(both: pd.DataFrame, suffix: str) -> np.ndarray:
    price = both[f"price{suffix}"].to_numpy(float)
    return (np.log1p(price) - np.log1p(both[f"sold_price{suffix}"].to_numpy(float))) ** 2


def _resampled_means(values: np.ndarray, rng: np.random.Generator, picks=None) -> np.ndarray:
    """The mean of `values` in each of BOOTSTRAP_ROUNDS resamples (`picks`: the resamples'
    indices, when shared with another series), drawn in chunks of bounded memory."""
    means = np.empty(BOOTSTRAP_ROUNDS)
    chunk = max(1, _BOOTSTRAP_CELLS // len(values))
    for first in range(0, BOOTSTRAP_ROUNDS, chunk):
        rounds = min(chunk, BOOTSTRAP_ROUNDS - first)
        shape = (rounds, len(values))
        drawn = picks(first, rounds) if picks else rng.integers(0, len(values), shape)
        means[first : first + rounds] = values[drawn].mean(axis=1)
    return means


def _paired_draws(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    seed = int(rng.integers(2**32))

    def picks(first: int, rounds: int) -> np.ndarray:  # the same resamples for both arms
        return np.random.default_rng([seed, first]).integers(0, len(a), (rounds, len(a)))

    return np.sqrt(_resampled_means(b, rng, picks)) - np.sqrt(_resampled_means(a, rng, picks))


def _independent_draws(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.sqrt(_resampled_means(b, rng)) - np.sqrt(_resampled_means(a, rng))


def daily_rmsle(pairs: pd.DataFrame) -> pd.DataFrame:
    """RMSLE per day (of the suggestion) and version, for the chart over time."""
    sold = pairs[pairs["sold_price"].notna()]
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(sold["created_at"]).dt.floor("D"),
            "version": sold["model_version"].astype(str) + " " + sold["arm"],
            "square": _log_error(sold) ** 2,
        }
    )
    daily = frame.groupby(["day", "version"])["square"].mean().map(np.sqrt)
    return daily.rename("rmsle").reset_index()


def experiment_verdict(difference: dict | None, min_listings: int) -> tuple[str, str]:
    """(promote | reject | wait, why) from the challenger-minus-champion RMSLE interval valid
    at every look: decided only when each arm has `min_listings` sold listings and that
    interval lies on one side of 0."""
    if difference is None:
        return "wait", "no sold listing of one of the arms yet"
    if "anytime_low" not in difference:
        return "wait", "the report predates intervals valid at every look: report again"
    counts = min(difference["champion_listings"], difference["challenger_listings"])
    evidence = (
        f"challenger - champion RMSLE {difference['difference']:+.4f}, 95% interval valid at"
        f" every look {difference['anytime_low']:+.4f} to {difference['anytime_high']:+.4f}"
        f" (at this look alone {difference['low']:+.4f} to {difference['high']:+.4f}), over"
        f" {difference['champion_listings']} and {difference['challenger_listings']} sold listings"
    )
    if counts < min_listings:
        return "wait", f"{evidence}: fewer than {min_listings} sold listings per arm"
    if difference["anytime_high"] < 0:
        return "promote", f"the challenger is better: {evidence}"
    if difference["anytime_low"] > 0:
        return "reject", f"the challenger is worse: {evidence}"
    return "wait", f"no difference with 95% confidence yet: {evidence}"
