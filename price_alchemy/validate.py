"""Validate: judge every row of a snapshot, keep the good ones, quarantine the bad with reasons.

Each column is first converted to its type; a value that cannot be (a price of "abc") becomes
null with a reason. One pandera schema then applies the row rules to every row
(condition 1..5, shipping 0/1, price in (0, cap), a title, a three-level category, unique ids).
Every failing row goes to a quarantine Parquet with all its failed checks in `reasons`; nothing is
dropped silently, and rows in = rows passed + rows quarantined. The batch fails with
`ValidationFailed` when a column is missing, the snapshot is empty or too many rows are bad.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.pandas import Check, Column

from price_alchemy.params import ValidationParams
from price_alchemy.warehouse import LISTING_SCHEMA

REQUIRED_COLUMNS = tuple(LISTING_SCHEMA.names)
CATEGORY_PATTERN = r"^[^/]+(/[^/]+){2,}$"


class ValidationFailed(Exception):
    """The snapshot as a whole is unusable; the message names the check and the numbers."""


@dataclass(frozen=True)
class ValidationResult:
    clean_uri: str
    quarantine_uri: str
    rows_in: int
    rows_passed: int
    rows_quarantined: int
    reason_counts: dict[str, int]

    def to_dict(self) -> dict:
        return asdict(self)


INTEGER_COLUMNS = ("train_id", "item_condition_id", "shipping")
NUMERIC_COLUMNS = (*INTEGER_COLUMNS, "price")
TEXT_COLUMNS = ("name", "category_name", "brand_name", "item_description")
_INTEGRAL = Check(lambda s: s == s.round(), element_wise=False, name="whole_number")


def _rules_schema(params: ValidationParams) -> pa.DataFrameSchema:
    """The row rules, over a frame whose numbers are floats and whose texts are strings."""
    return pa.DataFrameSchema(
        {
            "train_id": Column(float, _INTEGRAL, unique=True),
            "name": Column(str, Check.str_contains(r"\S")),
            "item_condition_id": Column(float, Check.isin([1, 2, 3, 4, 5])),
            "category_name": Column(str, Check.str_matches(CATEGORY_PATTERN), nullable=True),
            "brand_name": Column(str, nullable=True),
            "price": Column(float, [Check.gt(0), Check.lt(params.price_cap)]),
            "shipping": Column(float, Check.isin([0, 1])),
            "item_description": Column(str, nullable=True),
            "created_at": Column("datetime64[us]"),
        },
        strict=False,
    )


def _coerce(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The frame with each column converted to its type (bad cells become null), and the
    per-row reasons for the cells that could not be converted."""
    typed, bad = frame.copy(), {}
    for column in NUMERIC_COLUMNS:
        typed[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        bad[f"{column}: not a number"] = typed[column].isna() & frame[column].notna()
    for column in TEXT_COLUMNS:
        typed[column] = frame[column].astype("str").where(frame[column].notna(), None)
    typed["created_at"] = pd.to_datetime(frame["created_at"], errors="coerce").astype(
        "datetime64[us]"
    )
    bad["created_at: not a timestamp"] = typed["created_at"].isna() & frame["created_at"].notna()
    flags = pd.DataFrame(bad).stack()
    hits = flags[flags].index
    return typed, pd.Series(hits.get_level_values(1), index=hits.get_level_values(0), dtype=str)


def _rule_failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.Series:
    """Reasons per failing row label ("column: check"), joined by "; "."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        reasons = cases["column"].astype(str) + ": " + cases["check"].astype(str)
        found = pd.DataFrame({"row": cases["index"].astype("int64"), "reason": reasons})
        return found.drop_duplicates().set_index("row")["reason"]
    return pd.Series(dtype=str)


def _check_columns(frame: pd.DataFrame) -> None:
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        extra = sorted(set(frame.columns) - set(REQUIRED_COLUMNS))
        raise ValidationFailed(
            f"missing columns: {', '.join(missing)}"
            + (f" (unexpected columns present: {', '.join(extra)})" if extra else "")
        )
    if frame.empty:
        raise ValidationFailed("the snapshot has no rows: the data window is empty")


def split_valid_rows(
    frame: pd.DataFrame, params: ValidationParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(typed valid rows, quarantined rows as text with a `reasons` column)."""
    _check_columns(frame)
    frame = frame[list(REQUIRED_COLUMNS)].reset_index(drop=True)
    typed, type_reasons = _coerce(frame)
    rule_reasons = _rule_failures(_rules_schema(params), typed)
    reasons = pd.concat([type_reasons, rule_reasons]).groupby(level=0).agg("; ".join)
    quarantined = frame.loc[reasons.index].astype("string").assign(reasons=reasons.to_numpy())
    valid = typed.drop(index=reasons.index).astype({c: "int64" for c in INTEGER_COLUMNS})
    return valid.reset_index(drop=True), quarantined


def _reason_counts(quarantined: pd.DataFrame) -> dict[str, int]:
    if quarantined.empty:
        return {}
    return quarantined["reasons"].str.split("; ").explode().value_counts().to_dict()


def _check_bad_share(result: ValidationResult, params: ValidationParams) -> None:
    share = result.rows_quarantined / result.rows_in
    if share > params.max_bad_share:
        top = ", ".join(f"{r} ({n})" for r, n in list(result.reason_counts.items())[:3])
        raise ValidationFailed(
            f"{result.rows_quarantined} of {result.rows_in} rows ({share:.1%}) failed validation,"
            f" above the {params.max_bad_share:.1%} limit; most common: {top}; quarantine:"
            f" {result.quarantine_uri}"
        )


def validate_snapshot(snapshot_uri: str, params: ValidationParams) -> ValidationResult:
    """Validate a snapshot file; write `clean.parquet` and `quarantine.parquet` beside it."""
    source = Path(snapshot_uri)
    valid, quarantined = split_valid_rows(pd.read_parquet(source), params)
    clean_path = source.with_name("clean.parquet")
    quarantine_path = source.with_name("quarantine.parquet")
    valid.to_parquet(clean_path, index=False)
    quarantined.to_parquet(quarantine_path, index=False)
    result = ValidationResult(
        str(clean_path),
        str(quarantine_path),
        len(valid) + len(quarantined),
        len(valid),
        len(quarantined),
        _reason_counts(quarantined),
    )
    _check_bad_share(result, params)
    return result
