"""Clean free text: strip HTML, URLs and control characters, collapse spaces, cut overlong text.

Free text (titles, descriptions) is cleaned rather than judged: a listing whose description holds
markup, a link or stray newlines is still a listing. `clean_text` returns the cleaned Series and
one boolean column per kind of cleaning done to each row (`CLEANING_KINDS`), so the caller can
count them. Only rows that need it are touched: a cheap vectorised scan finds them, and every
other row comes out byte for byte as it went in ("[rm]", "No description yet", emoji and all).
The work is pandas `.str` regex calls, which run in pyarrow's RE2 on pyarrow-backed strings; the
one exception is decoding HTML entities (`&amp;`, `&#39;`), done in Python on the few rows that
hold one.
"""

import html
import re

import pandas as pd

CLEANING_KINDS = ("html", "url", "control_chars", "truncated")

# Patterns use only syntax that RE2 (pyarrow) and Python's re read alike.
_TAG = r"<(?:/?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?|!--[^>]*--)>"
_ENTITY = r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
_URL = r"\b(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)[^\s<>\"']+"
_BREAK = "[\\t\\n\\r\\x0b\\x0c\\x85\u2028\u2029]"  # become a space
_CONTROL = r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"  # removed
_SPACES = r"[ \xa0]+"
_PATTERNS = {
    "html": f"{_TAG}|{_ENTITY}",
    "url": _URL,
    "control_chars": f"{_BREAK}|{_CONTROL}",
}
# A cheap superset of all the patterns above: the precise ones run only on rows it finds.
_CANDIDATE = "[<&\\x00-\\x1f\\x7f-\\x9f\u2028\u2029]|://|www\\."
_ENTITY_RE = re.compile(_ENTITY)


def clean_text(text: pd.Series, max_chars: int | None = None) -> tuple[pd.Series, pd.DataFrame]:
    """(`text` cleaned, one bool column per `CLEANING_KINDS` saying what was done to each row).

    HTML tags are replaced by a space and entities decoded, URLs removed, line breaks and tabs
    turned into spaces and other control characters removed; then runs of spaces are collapsed
    and the ends stripped. Text longer than `max_chars` (None: no limit) is cut to it. Nulls stay
    null; rows needing none of this are returned unchanged.
    """
    flags = pd.DataFrame(False, index=text.index, columns=list(CLEANING_KINDS))
    cleaned = text
    candidates = text.str.contains(_CANDIDATE, regex=True, na=False)
    if candidates.any():
        found = _found(text[candidates])
        touched = found.index[found.any(axis=1)]
        flags.loc[found.index, list(found.columns)] = found
        cleaned = text.copy()
        cleaned.loc[touched] = _scrub(text.loc[touched])
    if max_chars is not None:
        cleaned, flags["truncated"] = _truncate(cleaned, max_chars)
    return cleaned, flags


def _found(text: pd.Series) -> pd.DataFrame:
    """Which kinds of dirt each row of `text` holds."""
    found = {kind: text.str.contains(p, regex=True, na=False) for kind, p in _PATTERNS.items()}
    return pd.DataFrame(found)


def _scrub(text: pd.Series) -> pd.Series:
    """`text` with tags, entities, URLs and control characters dealt with, spaces collapsed."""
    text = text.str.replace(_TAG, " ", regex=True)
    has_entity = text.str.contains(_ENTITY, regex=True, na=False)
    if has_entity.any():
        text = text.copy()
        text.loc[has_entity] = text.loc[has_entity].map(_unescape_entities)
    text = text.str.replace(_URL, " ", regex=True)
    text = text.str.replace(_BREAK, " ", regex=True).str.replace(_CONTROL, "", regex=True)
    return text.str.replace(_SPACES, " ", regex=True).str.strip()


def _unescape_entities(text: str) -> str:
    """`text` with its well-formed entities decoded (html.unescape alone would also decode
    semicolon-less look-alikes such as the "&not" in "&notice")."""
    return _ENTITY_RE.sub(lambda match: html.unescape(match.group()), text)


def _truncate(text: pd.Series, max_chars: int) -> tuple[pd.Series, pd.Series]:
    """(`text` cut to `max_chars` characters, which rows were cut)."""
    too_long = text.str.len().gt(max_chars).fillna(False).astype(bool)
    if too_long.any():
        text = text.copy()
        text.loc[too_long] = text.loc[too_long].str.slice(0, max_chars).str.rstrip()
    return text, too_long
