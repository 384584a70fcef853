"""Modelling parameters: the typed contents of `params.yaml`, one section per pipeline stage.

Defaults ship inside the package; a YAML file named by the `params_file` setting is merged over
them section by section, so a user changes one knob without copying the rest.
"""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULTS_FILE = Path(__file__).with_name("params.yaml")


class _Section(BaseModel):
    """A params section: unknown keys are errors, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


class ExtractParams(_Section):
    window_days: int = Field(ge=1)


class ValidationParams(_Section):
    """Row rules, text cleaning and batch checks of the validate stage (see params.yaml)."""

    max_bad_share: float = Field(ge=0, le=1)
    price_cap: float = Field(gt=0)
    name_max_chars: int = Field(default=500, ge=1)
    description_max_chars: int = Field(default=5000, ge=1)
    min_row_ratio: float = Field(default=0.5, ge=0)
    max_row_ratio: float = Field(default=2.0, gt=0)
    max_median_log_price_shift: float = Field(default=0.3, gt=0)
    max_price_ks: float = Field(default=0.2, gt=0, le=1)
    max_unseen_category_share: float = Field(default=0.25, ge=0, le=1)
    max_unseen_brand_share: float = Field(default=0.35, ge=0, le=1)
    profile_top_n: int = Field(default=20, ge=1)
    report_sample_rows: int = Field(default=20, ge=0)

    @model_validator(mode="after")
    def _ratio_bounds_ordered(self) -> "ValidationParams":
        if self.min_row_ratio > self.max_row_ratio:
            raise ValueError(
                f"min_row_ratio {self.min_row_ratio} is above max_row_ratio {self.max_row_ratio}"
            )
        return self


class SplitParams(_Section):
    test_size: float = Field(gt=0, lt=1)
    calibration_size: float = Field(gt=0, lt=1)
    calibration_max_rows: int = Field(default=20000, ge=5)
    seed: int


class PriceRangeParams(_Section):
    coverage: float = Field(gt=0, lt=1)


class FeatureParams(_Section):
    name_max_features: int = Field(ge=1)
    description_max_features: int = Field(ge=1)
    ngram_max: int = Field(ge=1, le=3)
    min_df: int = Field(ge=1)
    word_indicator_max_features: int = Field(default=0, ge=0)
    word_indicator_weight: float = Field(default=0.3, gt=0)
    category_title_max_features: int = Field(default=100000, ge=0)
    category_title_min_df: int = Field(default=10, ge=1)
    char_max_features: int = Field(default=0, ge=0)
    brand_min_count: int = Field(default=3, ge=1)
    brand_away_min_share: float = Field(default=0.05, ge=0, le=1)


class ModelParams(_Section):
    """LightGBM, the tree member of the blend, on the linear model's out-of-fold prediction."""

    top_k: int = Field(ge=1)
    n_estimators: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    num_leaves: int = Field(ge=2)
    min_child_samples: int = Field(ge=1)
    colsample_bytree: float = Field(gt=0, le=1)
    max_bin: int = Field(ge=2)
    early_stopping_rounds: int = Field(ge=1)
    linear_folds: int = Field(default=3, ge=2)
    seed: int


class LinearParams(_Section):
    """Ridge, the linear member of the blend."""

    alpha: float = Field(gt=0)
    tol: float = Field(gt=0)


class BlendParams(_Section):
    validation_size: float = Field(gt=0, lt=1)
    min_validation_rows: int = Field(default=2000, ge=0)
    max_validation_rows: int = Field(default=20000, ge=1)
    refit_min_share: float = Field(default=0.02, ge=0, le=1)
    seed: int


class SearchParams(_Section):
    """Hyperopt budget and space; DAG params override the budget per run."""

    max_evals: int = Field(ge=0)
    timeout_seconds: int = Field(ge=1)
    trial_timeout_seconds: int = Field(ge=1)
    sample_rows: int = Field(ge=100)
    seed: int


class PromotionParams(_Section):
    margin: float = Field(ge=0, lt=1)
    approval: Literal["none", "required"] = "none"


class OnlineParams(_Section):
    """Live experiments: the online report's window and the evidence a decision needs."""

    days: int = Field(default=30, ge=1)
    min_listings: int = Field(default=200, ge=1)
    planned_listings: int = Field(default=2000, ge=1)


class BaselineParams(_Section):
    min_group_size: int = Field(ge=1)


class MonitoringParams(_Section):
    """Thresholds of the monitoring DAG: crossing any one triggers retraining."""

    window_days: int = Field(ge=1)
    min_rows: int = Field(ge=1)
    reference_rows: int = Field(ge=100)
    psi_bins: int = Field(ge=2, le=100)
    max_psi: float = Field(gt=0)
    max_unseen_category_share: float = Field(ge=0, le=1)
    max_unseen_brand_share: float = Field(ge=0, le=1)
    max_vocabulary_shift: float = Field(gt=0, le=1)
    max_rmsle_ratio: float = Field(gt=1)


class Params(_Section):
    extract: ExtractParams
    validation: ValidationParams
    split: SplitParams
    features: FeatureParams
    model: ModelParams
    linear: LinearParams
    blend: BlendParams
    search: SearchParams
    price_range: PriceRangeParams
    promotion: PromotionParams
    baseline: BaselineParams
    monitoring: MonitoringParams
    online: OnlineParams = OnlineParams()


def apply_overrides(params: Params, overrides: dict[str, object]) -> Params:
    """`params` with `section.field` values replaced, validated like the params file."""
    merged = params.model_dump()
    for key, value in overrides.items():
        section, name = key.split(".", 1)
        if section not in merged or name not in merged[section]:
            raise ValueError(f"unknown parameter {key!r}")
        merged[section][name] = value
    return Params.model_validate(merged)


def load_params(override_file: Path | None = None) -> Params:
    """The packaged defaults, with `override_file` (if any) merged over them per section."""
    merged = yaml.safe_load(DEFAULTS_FILE.read_text())
    if override_file is not None:
        for section, values in (yaml.safe_load(Path(override_file).read_text()) or {}).items():
            merged.setdefault(section, {}).update(values or {})
    return Params.model_validate(merged)
