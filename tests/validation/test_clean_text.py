"""Tests for validation.clean_text: what is cleaned, what is left alone, and the counts."""

import pandas as pd
import pytest

from price_alchemy.validation.clean_text import CLEANING_KINDS, clean_text

ORDINARY = [
    "No description yet",
    "Brand new. Originally [rm]. Ships same or next day.",
    "Selling my Wilmilo & Co. joggers. Tops & Blouses, AT&T phone",
    "I <3 this! size < 5 and > 2, 5'4\" model",
    "awww.. so cute 😍🔥 ❤️ 👩‍👩‍👧 100% authentic",
    "Résumé-style café dress, naïve print,\xa0non-breaking space",
    "Two  spaces   stay when nothing else is wrong",
    " leading and trailing spaces stay too ",
    "Tom &amp Jerry without the semicolon &notice",
    "e-mail me: seller@example.org; price is firm",
]


def cleaned(values: list, max_chars: int | None = None) -> tuple[list, pd.DataFrame]:
    text, flags = clean_text(pd.Series(values, dtype="str"), max_chars)
    return [None if pd.isna(v) else v for v in text], flags


def kinds(flags: pd.DataFrame, row: int = 0) -> set[str]:
    return {kind for kind in CLEANING_KINDS if flags.loc[row, kind]}


def test_ordinary_text_comes_out_unchanged_and_uncounted() -> None:
    text, flags = cleaned(ORDINARY, max_chars=5000)
    assert text == ORDINARY
    assert not flags.to_numpy().any()
    assert list(flags.columns) == list(CLEANING_KINDS)


def test_nulls_stay_null_and_the_index_is_kept() -> None:
    series = pd.Series([None, "<b>x</b>", None], index=[7, 3, 11], dtype="str")
    text, flags = clean_text(series, 10)
    assert list(text.index) == [7, 3, 11] and list(flags.index) == [7, 3, 11]
    assert text.isna().tolist() == [True, False, True]
    assert text[3] == "x"
    assert flags.loc[[7, 11]].to_numpy().sum() == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>Great <b>bag</b></p>", "Great bag"),
        ('<a href="x.html" class="big">Link text</a> here', "Link text here"),
        ("line<br/>break<br>again", "line break again"),
        ("<!-- hidden -->shown", "shown"),
        ("Fish &amp; Chips &#39;fresh&#39; &#x27;hot&#x27;", "Fish & Chips 'fresh' 'hot'"),
        ("&lt;b&gt;not a tag&lt;/b&gt;", "<b>not a tag</b>"),
        ("Caf&eacute;&nbsp;&nbsp;latte", "Café latte"),
    ],
)
def test_html_tags_are_stripped_and_entities_decoded(raw: str, expected: str) -> None:
    text, flags = cleaned([raw])
    assert text == [expected]
    assert kinds(flags) == {"html"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("See https://www.bob-shop.com/item/123456 for more", "See for more"),
        ("http://example.com/a?b=c&d=e", ""),
        ("visit www.myshop.net/sale today", "visit today"),
        ("ftp://files.example.org/x.zip is old", "is old"),
    ],
)
def test_urls_are_removed(raw: str, expected: str) -> None:
    text, flags = cleaned([raw])
    assert text == [expected]
    assert "url" in kinds(flags)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("first line\nsecond line", "first line second line"),
        ("tab\tseparated\r\nwindows", "tab separated windows"),
        ("nul\x00byte and bell\x07", "nulbyte and bell"),
        ("unicode\u2028line\u2029separators\x85too", "unicode line separators too"),
        ("escape\x1b[31m code", "escape[31m code"),
        ("\n\n  padded  \n", "padded"),
    ],
)
def test_control_characters_are_removed_and_breaks_become_spaces(raw, expected) -> None:
    text, flags = cleaned([raw])
    assert text == [expected]
    assert kinds(flags) == {"control_chars"}


def test_emoji_are_kept() -> None:
    emoji = "😍🔥✨💕👀🙌💯🛍️❤️😊 👩‍👩‍👧"
    text, flags = cleaned([f"<i>{emoji}</i>\n{emoji}"])
    assert text == [f"{emoji} {emoji}"]
    assert kinds(flags) == {"html", "control_chars"}


def test_generated_html_url_emoji_description_is_cleaned() -> None:
    """The `description_html_url_emoji` corruption: tags, an entity, a URL, emoji, newlines."""
    plain, emoji = "Brand new. Originally [rm].", "😍🔥"
    url = "https://www.jane-shop.com/item/482913"
    raw = (
        f'<p>{plain} {emoji}</p>\n<br/><b>More at</b> <a href="{url}">{url}</a>'
        f" &amp; follow me! {emoji}"
    )
    text, flags = cleaned([raw], max_chars=5000)
    assert text == [f"{plain} {emoji} More at & follow me! {emoji}"]
    assert kinds(flags) == {"html", "url", "control_chars"}


def test_long_text_is_cut_to_the_cap_and_counted() -> None:
    base = "Great condition, smoke free home. "
    long = (base * (20000 // len(base) + 1))[:20000]
    text, flags = cleaned([long, "x" * 5000, "short"], max_chars=5000)
    assert len(text[0]) <= 5000 and long.startswith(text[0])
    assert text[0] == long[:5000].rstrip()
    assert text[1:] == ["x" * 5000, "short"]
    assert flags["truncated"].tolist() == [True, False, False]
    assert kinds(flags) == {"truncated"}


def test_no_cap_means_no_truncation() -> None:
    text, flags = cleaned(["y" * 20000])
    assert text == ["y" * 20000] and not flags["truncated"].any()


def test_cap_applies_after_cleaning() -> None:
    text, flags = cleaned(["<b>" + "z" * 10 + "</b>"], max_chars=10)
    assert text == ["z" * 10]
    assert kinds(flags) == {"html"}


def test_cleaning_that_leaves_nothing_gives_an_empty_string() -> None:
    text, _ = cleaned(["<br/>\n<p></p>", "https://spam.example.com"])
    assert text == ["", ""]


def test_each_row_counts_each_kind_once() -> None:
    values = ["<b>a</b> <i>b</i>", "x\ny\nz", "ok", "<p>http://a.io\n</p>"]
    _, flags = cleaned(values)
    assert flags.sum().to_dict() == {"html": 2, "url": 1, "control_chars": 2, "truncated": 0}


def test_object_dtype_input_is_cleaned_the_same() -> None:
    values = ["<p>a &amp; b</p>\nwww.x.com/y", "No description yet", None]
    arrow, arrow_flags = clean_text(pd.Series(values, dtype="str"), 100)
    python, python_flags = clean_text(pd.Series(values, dtype=object), 100)
    assert arrow.tolist()[:2] == python.tolist()[:2] == ["a & b", "No description yet"]
    pd.testing.assert_frame_equal(arrow_flags, python_flags)
