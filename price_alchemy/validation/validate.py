"""Validate: judge every row of a snapshot, clean its free text, keep the good rows, quarantine the
bad with reasons, and judge the batch as a whole. Row level: each column is first converted to its
type; a value that cannot be (a price of "abc") becomes null with a reason. Titles and descriptions
are then cleaned, not judged (`clean_text`: HTML, URLs, control characters, overlong descriptions).
One pandera schema applies the row rules to every row (condition 1..5, shipping 0/1, price in (0,
cap), a title of sane length, an `A/B/C` category without a foreign separator, unique ids). Every
failing row goes to a quarantine Parquet, its original values as text, with all its failed checks
in `reasons`; nothing is dropped silently, and rows in = rows passed + rows quarantined.

Batch level: the snapshot fails with `ValidationFailed` when a column is missing, it has no rows,
too many rows are bad, or a drift check against the previous snapshot's `profile.json` fails (the
profile and the drift checks are `price_alchemy.validation.profile`'s).
`validate_snapshot` writes `clean.parquet`, `quarantine.parquet`, `profile.json` and the report
(`report.json`, `report.html`, see `price_alchemy.validation.report`) beside the snapshot and
returns a `ValidationResult`; the report is written before a batch failure is raised.
"""

import difflib
import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.pandas import Check, Column

from price_alchemy.data.load import normalize_file
from price_alchemy.errors import ActionRequired
from price_alchemy.params import ValidationParams
from price_alchemy.records import Record
from price_alchemy.schema import INTEGER_COLUMNS, LISTING_FIELDS, LISTING_SCHEMA, TEXT_COLUMNS
from price_alchemy.validation.clean_text import CLEANING_KINDS, clean_text
from price_alchemy.validation.profile import (
    DRIFT_CHECKS,
    PROFILE_NAME,
    CheckResult,
    build_profile,
    check_failed,
    check_passed,
    checks_skipped,
    drift_checks,
    read_profile,
)
from price_alchemy.validation.report import quarantine_sample, write_report

REQUIRED_COLUMNS = tuple(LISTING_SCHEMA.names)
CATEGORY_PATTERN = r"^\s*[^/\s][^/]*(/\s*[^/\s][^/]*){2,}$"
ROW_CHECKS = ("bad_share",)


class ValidationFailed(ActionRequired):
    """The snapshot as a whole is unusable; the message names the check and the numbers."""


@dataclass(frozen=True)
class ValidationResult(Record):
    """What validating a snapshot wrote and found (counts are None where rows were not judged)."""

    clean_uri: str
    quarantine_uri: str
    rows_in: int
    rows_passed: int
    rows_quarantined: int
    reason_counts: dict[str, int]
    report_json_uri: str = ""
    report_html_uri: str = ""
    profile_uri: str | None = None  # None when no profile was written (no row passed)
    rows_cleaned: int = 0
    cleaning_counts: dict[str, int] = field(default_factory=dict)
    checks: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Assessment:
    """What judging one snapshot found; the frames are None when a gate check failed first.
    `cleaned` flags, per valid row, each kind of text cleaning done to it."""

    rows_in: int
    checks: list[CheckResult]
    valid: pd.DataFrame | None = None
    quarantined: pd.DataFrame | None = None
    cleaned: pd.DataFrame | None = None
    reason_counts: dict[str, int] = field(default_factory=dict)
    profile: dict | None = None

    @property
    def failed(self) -> bool:
        return any(check.status == "failed" for check in self.checks)


# --- row level -----------------------------------------------------------------------------------
NUMERIC_COLUMNS = (*INTEGER_COLUMNS, "price")
_INTEGRAL = Check(lambda s: s == s.round(), element_wise=False, name="whole_number")


def _no_bad_separator(category: pd.Series) -> pd.Series:
    """False where a level separator other than "/" was used: any of > | \\ ; or a "-" in a
    category that has no "/" at all (a "-" inside a level, as in "T-Shirts", is fine)."""
    foreign = category.str.contains(r"[>|\\;]", regex=True)
    dashed = category.str.contains("-", regex=False) & ~category.str.contains("/", regex=False)
    return ~(foreign | dashed)


def _rules_schema(params: ValidationParams) -> pa.DataFrameSchema:
    """The row rules, over a frame whose numbers are floats and whose texts are strings."""
    name_cap = params.name_max_chars
    return pa.DataFrameSchema(
        {
            "train_id": Column(float, _INTEGRAL, unique=True),
            "name": Column(
                str,
                [
                    Check.str_contains(r"\S"),
                    Check.str_length(max_value=name_cap, error=f"max_length({name_cap})"),
                ],
            ),
            "item_condition_id": Column(float, Check.isin([1, 2, 3, 4, 5])),
            "category_name": Column(
                str,
                [
                    Check.str_matches(CATEGORY_PATTERN, error="str_matches(A/B/C)"),
                    Check(_no_bad_separator, error="bad_separator"),
                ],
                nullable=True,
            ),
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
        if column in frame:
            typed[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
            bad[f"{column}: not a number"] = typed[column].isna() & frame[column].notna()
    for column in TEXT_COLUMNS:
        if column in frame:
            typed[column] = frame[column].astype("str").where(frame[column].notna(), None)
    if "created_at" in frame:
        created = pd.to_datetime(frame["created_at"], errors="coerce").astype("datetime64[us]")
        bad["created_at: not a timestamp"] = created.isna() & frame["created_at"].notna()
        typed["created_at"] = created
    flags = pd.DataFrame(bad).stack()
    hits = flags[flags].index
    return typed, pd.Series(hits.get_level_values(1), index=hits.get_level_values(0), dtype=str)


def _clean_free_text(
    typed: pd.DataFrame, params: ValidationParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`typed` with its title and description cleaned, per-row flags of each kind of cleaning)."""
    name, name_flags = clean_text(typed["name"])
    description, description_flags = clean_text(
        typed["item_description"], params.description_max_chars
    )
    return typed.assign(name=name, item_description=description), name_flags | description_flags


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


def _split_rows(
    frame: pd.DataFrame, params: ValidationParams
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(typed valid rows with cleaned text, quarantined rows as text with `reasons`, cleaning
    flags of the valid rows)."""
    frame = frame[list(REQUIRED_COLUMNS)].reset_index(drop=True)
    typed, cleaned, reasons = _judged_rows(frame, _rules_schema(params), params)
    quarantined = frame.loc[reasons.index].astype("string").assign(reasons=reasons.to_numpy())
    valid = typed.drop(index=reasons.index).astype({c: "int64" for c in INTEGER_COLUMNS})
    cleaned = cleaned.drop(index=reasons.index).reset_index(drop=True)
    return valid.reset_index(drop=True), quarantined, cleaned


def _judged_rows(frame: pd.DataFrame, rules: pa.DataFrameSchema, params: ValidationParams):
    """(the rows typed with cleaned text, their cleaning flags, reasons per failing row)."""
    typed, type_reasons = _coerce(frame)
    typed, cleaned = _clean_free_text(typed, params)
    rule_reasons = _rule_failures(rules, typed)
    reasons = pd.concat([type_reasons, rule_reasons]).groupby(level=0).agg("; ".join)
    return typed, cleaned, reasons


def split_priceable_rows(
    frame: pd.DataFrame, params: ValidationParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Live listings judged by the row rules of the fields a seller types (LISTING_FIELDS), as
    the model reads them: (rows to price, typed with cleaned text, with the frame's other
    columns; the rest as text with `reasons`). Every row is in one or the other."""
    frame = frame.reset_index(drop=True)
    rules = _rules_schema(params).select_columns(list(LISTING_FIELDS))
    typed, _, reasons = _judged_rows(frame[list(LISTING_FIELDS)], rules, params)
    others = frame.drop(columns=list(LISTING_FIELDS))
    valid = pd.concat([others, typed], axis=1).drop(index=reasons.index)
    valid = valid.astype({c: "int64" for c in INTEGER_COLUMNS if c in valid})
    quarantined = frame.loc[reasons.index].astype("string").assign(reasons=reasons.to_numpy())
    return valid.reset_index(drop=True), quarantined.reset_index(drop=True)


def split_valid_rows(
    frame: pd.DataFrame, params: ValidationParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(typed valid rows with cleaned text, quarantined rows as text with a `reasons` column);
    raises `ValidationFailed` when a column is missing or the frame is empty."""
    _raise_if_failed(_gate_checks(frame))
    valid, quarantined, _ = _split_rows(frame, params)
    return valid, quarantined


def _reason_counts(quarantined: pd.DataFrame) -> dict[str, int]:
    if quarantined.empty:
        return {}
    counts = quarantined["reasons"].str.split("; ").explode().value_counts()
    return {str(reason): int(n) for reason, n in counts.items()}


def _cleaning_counts(cleaned: pd.DataFrame) -> dict[str, int]:
    return {kind: int(cleaned[kind].sum()) for kind in CLEANING_KINDS}


# --- batch level: the frame itself ---------------------------------------------------------------
def _likely_rename(column: str, candidates: list[str]) -> str | None:
    """The unexpected column most like `column` (case-insensitive), if any is close."""
    lowered = {candidate.lower(): candidate for candidate in candidates}
    match = difflib.get_close_matches(column.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _columns_check(frame: pd.DataFrame) -> CheckResult:
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    extra = sorted(str(column) for column in frame.columns if column not in REQUIRED_COLUMNS)
    if not missing:
        return check_passed("columns", f"all {len(REQUIRED_COLUMNS)} required columns present")
    named = []
    for column in missing:
        rename = _likely_rename(column, extra)
        named.append(f"{column} (renamed to {rename}?)" if rename else column)
    detail = f"missing columns: {', '.join(named)}"
    if extra:
        detail += f"; unexpected columns present: {', '.join(extra)}"
    return check_failed("columns", detail, missing=missing, unexpected=extra)


def _not_empty_check(rows: int) -> CheckResult:
    if rows == 0:
        return check_failed(
            "not_empty", "the snapshot has no rows: the data window is empty", rows=0
        )
    return check_passed("not_empty", f"{rows} rows", rows=rows)


def _gate_checks(frame: pd.DataFrame) -> list[CheckResult]:
    return [_columns_check(frame), _not_empty_check(len(frame))]


def _raise_if_failed(checks: list[CheckResult], where: str = "") -> None:
    failed = [f"{c.name} check failed: {c.detail}" for c in checks if c.status == "failed"]
    if failed:
        raise ValidationFailed("; ".join(failed) + where)


def _bad_share_check(rows_in: int, reason_counts: dict, rows_bad: int, limit: float) -> CheckResult:
    share = rows_bad / rows_in
    numbers = dict(rows_quarantined=rows_bad, rows_in=rows_in, share=share, limit=limit)
    if share <= limit:
        detail = f"{rows_bad} of {rows_in} rows ({share:.1%}) quarantined, within the"
        return check_passed("bad_share", f"{detail} {limit:.1%} limit", **numbers)
    top = ", ".join(f"{r} ({n})" for r, n in list(reason_counts.items())[:3])
    return check_failed(
        "bad_share",
        f"{rows_bad} of {rows_in} rows ({share:.1%}) failed validation, above the {limit:.1%}"
        f" limit; most common: {top}",
        **numbers,
    )


def assess_snapshot(
    frame: pd.DataFrame, params: ValidationParams, previous_profile: dict | None = None
) -> Assessment:
    """Judge a snapshot frame, row level and batch level, without raising on a failed check.
    The profile is None when no row passed: such a snapshot is no baseline for the next."""
    gate = _gate_checks(frame)
    if Assessment(len(frame), gate).failed:
        skipped = checks_skipped(ROW_CHECKS + DRIFT_CHECKS, "an earlier check failed")
        return Assessment(len(frame), gate + skipped)
    valid, quarantined, cleaned = _split_rows(frame, params)
    reasons = _reason_counts(quarantined)
    bad_share = _bad_share_check(len(frame), reasons, len(quarantined), params.max_bad_share)
    checks = [*gate, bad_share, *drift_checks(valid, previous_profile, params)]
    profile = build_profile(valid, params.profile_top_n) if len(valid) else None
    return Assessment(len(frame), checks, valid, quarantined, cleaned, reasons, profile)


# --- file I/O ------------------------------------------------------------------------------------
def _output_paths(source: Path) -> dict[str, Path]:
    names = {
        "clean": "clean.parquet",
        "quarantine": "quarantine.parquet",
        "profile": PROFILE_NAME,
        "report_json": "report.json",
        "report_html": "report.html",
    }
    return {key: source.with_name(name) for key, name in names.items()}


def _write_outputs(outcome: Assessment, paths: dict[str, Path]) -> None:
    """Write the clean and quarantine tables (when rows were judged) and the profile (when the
    batch passed); remove what an earlier run of the same window left and this one does not
    write, so the directory always matches the latest run."""
    if outcome.valid is not None and outcome.quarantined is not None:
        outcome.valid.to_parquet(paths["clean"], index=False)
        outcome.quarantined.to_parquet(paths["quarantine"], index=False)
    else:
        paths["clean"].unlink(missing_ok=True)
        paths["quarantine"].unlink(missing_ok=True)
    if outcome.failed or outcome.profile is None:
        paths["profile"].unlink(missing_ok=True)
    else:
        paths["profile"].write_text(json.dumps(outcome.profile, ensure_ascii=False))


def _summary(outcome: Assessment, paths: dict[str, Path]) -> dict:
    """The `ValidationResult` fields; counts are None where the rows were never judged."""
    return {
        "rows_in": outcome.rows_in,
        "reason_counts": outcome.reason_counts,
        "report_json_uri": str(paths["report_json"]),
        "report_html_uri": str(paths["report_html"]),
        "profile_uri": str(paths["profile"]) if paths["profile"].exists() else None,
        "checks": [asdict(check) for check in outcome.checks],
    } | _judged(outcome, paths)


def _judged(outcome: Assessment, paths: dict[str, Path]) -> dict:
    """Where the judged rows went and how many, or None for each when none were judged."""
    valid, quarantined, cleaned = outcome.valid, outcome.quarantined, outcome.cleaned
    if valid is None or quarantined is None or cleaned is None:
        names = ("clean_uri", "quarantine_uri", "rows_passed", "rows_quarantined", "rows_cleaned")
        return dict.fromkeys(names) | {"cleaning_counts": {}}
    return {
        "clean_uri": str(paths["clean"]),
        "quarantine_uri": str(paths["quarantine"]),
        "rows_passed": len(valid),
        "rows_quarantined": len(quarantined),
        "rows_cleaned": int(cleaned.any(axis=1).sum()),
        "cleaning_counts": _cleaning_counts(cleaned),
    }


def _report(
    source: Path,
    previous_profile: Path | str | None,
    outcome: Assessment,
    summary: dict,
    params: ValidationParams,
) -> dict:
    return {
        "snapshot_uri": str(source),
        "status": "failed" if outcome.failed else "passed",
        "previous_profile_uri": None if previous_profile is None else str(previous_profile),
        **summary,
        "quarantine_sample": quarantine_sample(outcome.quarantined, params.report_sample_rows),
        "params": params.model_dump(),
    }


def _where(summary: dict) -> str:
    """Where a person looks next, for the failure message."""
    places = [f"report: {summary['report_json_uri']}"]
    if summary["quarantine_uri"]:
        places.insert(0, f"quarantine: {summary['quarantine_uri']}")
    return f" ({'; '.join(places)})"


def validate_snapshot(
    snapshot_uri: str,
    params: ValidationParams,
    previous_profile: Path | str | None = None,
) -> ValidationResult:
    """Validate a snapshot file, comparing it with `previous_profile` (a `profile.json`, see
    `find_previous_profile`) when given; write the outputs and the report beside it. Raises
    `ValidationFailed` after writing the report when a batch check fails."""
    source = Path(snapshot_uri)
    paths = _output_paths(source)
    outcome = assess_snapshot(pd.read_parquet(source), params, read_profile(previous_profile))
    _write_outputs(outcome, paths)
    summary = _summary(outcome, paths)
    report = _report(source, previous_profile, outcome, summary, params)
    write_report(report, paths["report_json"], paths["report_html"])
    _raise_if_failed(outcome.checks, _where(summary))
    return ValidationResult(**summary)


def read_valid_listings(
    source: Path, params: ValidationParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A TSV/CSV/Parquet file of listings, normalised as `warehouse load` does and split by the
    row rules into (valid rows, quarantined rows), without a warehouse: for benchmarks and
    notebooks."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "listings.parquet"
        normalize_file(Path(source), target, datetime(2000, 1, 1))
        return split_valid_rows(pd.read_parquet(target), params)
