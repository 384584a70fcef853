"""Brand inference: a missing brand is read from the title, the longest known brand wins."""

import pandas as pd

from price_alchemy.model.brand_inference import BrandFromTitle


def _listings(names, brands) -> pd.DataFrame:
    return pd.DataFrame({"name": names, "brand_name": brands})


TRAIN = _listings(
    ["a"] * 9,
    [
        "Nike",
        "Nike",
        "Nike",
        "Victoria's Secret",
        "Victoria's Secret",
        "Victoria's Secret",
        "Rare",
        "Secret",
        "Secret",
    ],
)  # "Rare" is seen once; "Secret" only twice


def test_fills_missing_brands_from_titles_case_insensitively() -> None:
    inferred = (
        BrandFromTitle(min_count=3)
        .fit(TRAIN)
        .transform(
            _listings(
                ["NIKE air max 90", "victoria's secret bra", "pink top", "Adidas samba"],
                [None, "", None, "Adidas"],
            )
        )
    )
    assert inferred["brand_name"].tolist() == ["Nike", "Victoria's Secret", None, "Adidas"]


def test_longest_brand_wins_and_rare_brands_are_not_guessed() -> None:
    model = BrandFromTitle(min_count=2).fit(TRAIN)
    titles = pd.Series(["victoria's secret perfume", "secret deodorant", "rare find"])
    assert model.infer(titles).tolist() == ["Victoria's Secret", "Secret", None]


def test_words_must_match_whole() -> None:
    model = BrandFromTitle(min_count=3).fit(TRAIN)
    assert model.infer(pd.Series(["nikeair shoes", "snike"])).tolist() == [None, None]


def test_without_known_brands_nothing_changes() -> None:
    model = BrandFromTitle().fit(_listings(["x", "y"], [None, None]))
    listings = _listings(["nike shoes"], [None])
    assert model.transform(listings)["brand_name"].tolist() == [None]


def test_a_dict_of_column_lists_is_filled_as_a_dataframe_is() -> None:
    model = BrandFromTitle(min_count=3).fit(TRAIN)
    columns = {"name": ["NIKE air max 90", "pink top", "x"], "brand_name": [None, "", "Adidas"]}
    filled = model.transform(columns)
    assert filled == {"name": columns["name"], "brand_name": ["Nike", None, "Adidas"]}
    assert columns["brand_name"] == [None, "", "Adidas"]  # the caller's columns are left as given
