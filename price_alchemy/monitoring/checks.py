"""Monitoring judgement: compare a window of listings with the champion's training listings and
the champion's error on the window's realized prices with its error at training, against the
thresholds of params.yaml's `monitoring` section. Every threshold is one check; a failed check
is a reason to retrain, in words a person reads in the report and the triggered run's conf.
"""

import math
from dataclasses import asdict

import numpy as np
import pandas as pd

from price_alchemy.model.metrics import score_prices
from price_alchemy.monitoring.drift import (
    FeatureDrift,
    feature_drift,
    unseen_values,
    vocabulary_shift,
)
from price_alchemy.params import MonitoringParams
from price_alchemy.validation.profile import CheckResult, check_judged


def _psi_check(drift: FeatureDrift, limit: float) -> CheckResult:
    ks = f"; KS {drift.ks:.3f} (p {drift.ks_pvalue:.2g})" if drift.ks is not None else ""
    return check_judged(
        f"psi_{drift.feature}",
        drift.psi <= limit,
        f"PSI of {drift.feature} {drift.psi:.3f}{ks}; limit {limit:g}",
        value=drift.psi,
        limit=limit,
    )


def _unseen_check(name: str, unseen: dict, limit: float) -> CheckResult:
    top = ", ".join(f"{value} ({n})" for value, n in unseen["top"][:3]) or "none"
    return check_judged(
        f"unseen_{name}",
        unseen["share"] <= limit,
        f"{unseen['share']:.1%} of rows have a {name} the champion never saw in training"
        f" ({unseen['distinct']} new; most common: {top}); limit {limit:.1%}",
        value=unseen["share"],
        limit=limit,
    )


def _vocabulary_check(shift: dict, limit: float) -> CheckResult:
    return check_judged(
        "vocabulary_shift",
        shift["shift"] <= limit,
        f"{shift['current_oov']:.1%} of title words are out of the training vocabulary vs"
        f" {shift['reference_oov']:.1%} within the training titles: shift"
        f" {shift['shift']:+.3f}; limit {limit:g}",
        value=shift["shift"],
        limit=limit,
    )


def _error_check(model: dict, limit: float) -> CheckResult:
    return check_judged(
        "rmsle_ratio",
        model["ratio"] <= limit,
        f"champion RMSLE {model['window_rmsle']:.4f} on the window's realized prices vs"
        f" {model['training_rmsle']:.4f} on its held-out split at training: ratio"
        f" {model['ratio']:.3f}; limit {limit:g}",
        value=model["ratio"],
        limit=limit,
    )


def model_error(current: pd.DataFrame, predicted: np.ndarray, training_rmsle: float) -> dict:
    """The champion's scores on the window's realized prices, and their ratio to training's
    (a perfect score at training makes any error on the window an infinite ratio)."""
    scores = score_prices(current["price"], predicted)
    return {
        "window_rmsle": scores["rmsle"],
        "window_mae": scores["mae"],
        "window_r2": scores["r2"],
        "training_rmsle": training_rmsle,
        "ratio": error_ratio(scores["rmsle"], training_rmsle),
    }


def error_ratio(window_rmsle: float, training_rmsle: float) -> float:
    """window / training RMSLE; 1 when both are 0, infinite when only training's is."""
    if training_rmsle > 0:
        return window_rmsle / training_rmsle
    return 1.0 if window_rmsle == 0 else math.inf


def _drift_checks(
    reference: pd.DataFrame, listings: pd.DataFrame, params: MonitoringParams, served: bool
) -> tuple[dict, list[CheckResult]]:
    """The drift of `listings` (the window's new listings, or the served ones) against the
    training listings, and a check per threshold, named and worded by which listings it is."""
    features = feature_drift(reference, listings, params.psi_bins)
    unseen = {
        "category": unseen_values(reference["category_name"], listings["category_name"]),
        "brand": unseen_values(reference["brand_name"], listings["brand_name"]),
    }
    vocabulary = vocabulary_shift(reference["name"], listings["name"])
    checks = [
        *(_psi_check(drift, params.max_psi) for drift in features),
        _unseen_check("category", unseen["category"], params.max_unseen_category_share),
        _unseen_check("brand", unseen["brand"], params.max_unseen_brand_share),
        _vocabulary_check(vocabulary, params.max_vocabulary_shift),
    ]
    prefix, label = ("served_", "served listings") if served else ("", "new listings")
    named = [
        CheckResult(prefix + c.name, c.status, f"{label}: {c.detail}", c.numbers) for c in checks
    ]
    found = {
        "rows": len(listings),
        "features": [drift.to_dict() for drift in features],
        "unseen": unseen,
        "vocabulary": vocabulary,
    }
    return found, named


def assess_window(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    predicted: np.ndarray,
    training_rmsle: float,
    params: MonitoringParams,
    served: pd.DataFrame | None = None,
) -> dict:
    """The monitoring findings for a window: the data drift of the window's new listings
    (`current`) and, when given, of the listings the API served (`served`, live traffic, each
    listing once), each against `reference` (the champion's training listings) and each judged
    on its own; and the champion's error on `current`'s realized prices, whose `predicted`
    prices it gave."""
    listings, checks = _drift_checks(reference, current, params, served=False)
    found = {"rows": len(current), "reference_rows": len(reference)} | listings
    if served is not None:
        found["served"], served_checks = _drift_checks(reference, served, params, served=True)
        checks += served_checks
    found["model"] = model_error(current, predicted, training_rmsle)
    checks.append(_error_check(found["model"], params.max_rmsle_ratio))
    reasons = [check.detail for check in checks if check.status == "failed"]
    return found | {
        "checks": [asdict(check) for check in checks],
        "retrain": bool(reasons),
        "reasons": reasons,
    }
