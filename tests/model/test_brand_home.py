"""Brand homes: a brand listed outside the top-level categories it usually sells in is marked."""

import pandas as pd

from price_alchemy.model.brand_home import BrandHomes


def _prepared(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["brand", "category_top"], dtype=object)


TRAINING = _prepared(
    [("Nike", "Men")] * 40
    + [("Nike", "Women")] * 18
    + [("Nike", "Home")] * 2  # 2 of 60: under 5%, away
    + [("Rare", "Home")] * 2  # a brand seen twice: too rare to have a home
    + [("", "Home")] * 5
)


def test_a_brand_away_from_its_home_categories_is_marked_with_its_name() -> None:
    homes = BrandHomes(min_share=0.05, min_count=3).fit(TRAINING)
    listings = _prepared(
        [("Nike", "Men"), ("Nike", "Women"), ("Nike", "Home"), ("Nike", "Beauty"), ("Rare", "Men")]
        + [("", "Men"), ("Unseen", "Men")]
    )
    marked = homes.transform(listings)
    assert marked["brand_away"].tolist() == ["", "", "Nike", "Nike", "", "", ""]
    assert marked["brand_outside_home"].tolist() == ["", "", "1", "1", "", "", ""]
    assert list(marked[["brand", "category_top"]].itertuples(index=False)) == list(
        listings.itertuples(index=False)
    )


def test_a_dict_of_column_lists_gives_what_the_dataframe_gives() -> None:
    homes = BrandHomes().fit(TRAINING)
    listings = _prepared([("Nike", "Home"), ("Nike", "Men")])
    as_lists = homes.transform({column: listings[column].tolist() for column in listings})
    assert as_lists["brand_away"] == homes.transform(listings)["brand_away"].tolist()
