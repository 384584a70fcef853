"""Comparable sales: the training listings most like a new one, and the catalogue they make.

`ComparableSales` is built at training time from the training split only and travels inside the
model artifact. It keeps, per training listing, the title, brand, condition, category, price and
id, with the title's TF-IDF vector (unigrams, l2-normalised), in compact arrays sorted by
category path, so the listings of a category, or of every category under a parent, are one
contiguous run of rows. `find` looks in the listing's own category when it holds at least
`min_category_rows` listings, else in its parent's (then the top level's, then everywhere) and
ranks them by cosine similarity of titles (ties: same brand, then same condition).
`categories` and `brands` are the catalogue the seller page picks from.
"""

import bisect
from collections.abc import Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from price_alchemy.model.column_values import Columns, as_text, column_list

TITLE_WORDS = 200_000  # the title vocabulary of the similarity (words in 2+ listings)


def _joined(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """Texts as one UTF-8 blob and the offsets of each (a list of str costs ~60 bytes more a
    listing in memory and in the artifact)."""
    encoded = [text.encode() for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(text) for text in encoded], out=offsets[1:])
    return b"".join(encoded), offsets


def _codes(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique values, int32 code of each value)."""
    uniques, codes = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    return uniques, codes.astype(np.int32)


def parents(path: str) -> Iterator[str]:
    """`path`, then each shorter path above it ("a/b/c", "a/b", "a")."""
    while path:
        yield path
        path = path.rpartition("/")[0]


class ComparableSales:
    """Training listings indexed by category and title words."""

    def __init__(self, min_category_rows: int = 20, count: int = 5) -> None:
        self.min_category_rows = min_category_rows
        self.count = count

    def fit(self, listings: pd.DataFrame) -> "ComparableSales":
        """Index `listings` (LISTING_FIELDS, `train_id` and `price`)."""
        categories = as_text(column_list(listings, "category_name"))
        self.categories_, category_codes = _codes(categories)
        order = np.argsort(category_codes, kind="stable")
        category_codes = category_codes[order]
        self.category_starts_ = np.searchsorted(
            category_codes, np.arange(len(self.categories_) + 1)
        )
        self.category_codes_ = category_codes

        def column(name: str) -> list:
            values = column_list(listings, name)
            return [values[i] for i in order]

        titles = as_text(column("name"))
        self.vectorizer_ = TfidfVectorizer(
            min_df=2, max_features=TITLE_WORDS, sublinear_tf=True, dtype=np.float32
        )
        vectors = self.vectorizer_.fit_transform(titles).tocsr()
        self.vector_data_, self.vector_indices_ = vectors.data, vectors.indices.astype(np.int32)
        self.vector_indptr_ = vectors.indptr.astype(np.int64)
        self.titles_, self.title_offsets_ = _joined(titles)
        self.brands_, self.brand_codes_ = _codes(as_text(column("brand_name")))
        self.conditions_ = np.asarray(column("item_condition_id"), dtype=np.int8)
        self.prices_ = np.asarray(column("price"), dtype=np.float32)
        self.ids_ = np.asarray(column("train_id"), dtype=np.int64)
        return self

    def __len__(self) -> int:
        return len(self.prices_)

    def nbytes(self) -> int:
        """Bytes held by its arrays (the artifact's share of this index, less the vocabulary)."""
        arrays = [value for value in vars(self).values() if isinstance(value, np.ndarray)]
        names = sum(len(str(name).encode()) for name in (*self.brands_, *self.categories_))
        return len(self.titles_) + names + sum(array.nbytes for array in arrays)

    # ---- where to look -------------------------------------------------------------------

    def _rows_under(self, path: str) -> tuple[int, int, int, int]:
        """Row ranges (start, stop) of `path` itself and of every category under it."""
        paths = self.categories_
        exact = bisect.bisect_left(paths, path)
        own = (0, 0)
        if exact < len(paths) and paths[exact] == path:
            own = (self.category_starts_[exact], self.category_starts_[exact + 1])
        first = bisect.bisect_left(paths, path + "/")
        last = bisect.bisect_left(paths, path + "0")  # "0" follows "/"
        return (*own, self.category_starts_[first], self.category_starts_[last])

    def rows_for(self, category: str) -> tuple[str, np.ndarray]:
        """(the category looked in, "" for all; its rows): the listing's category, else the
        nearest parent with at least `min_category_rows` listings; without a category, the
        listings without one; else all."""
        for path in parents(category) if category else [""]:
            a, b, c, d = self._rows_under(path)
            if (b - a) + (d - c) >= self.min_category_rows:
                return path, np.r_[a:b, c:d]
        return "", np.arange(len(self))

    # ---- similar listings ----------------------------------------------------------------

    def _similarity(self, query: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        """Cosine similarity of the titles of `rows` (two contiguous runs at most) to the
        query's (one row), from the index's own arrays without copying a slice of them."""
        weights = np.zeros(query.shape[1], dtype=np.float64)
        weights[query.indices] = query.data
        indptr = self.vector_indptr_
        if len(rows) == 0:
            return np.zeros(0)
        runs = np.split(rows, np.flatnonzero(np.diff(rows) != 1) + 1)
        scores = []
        for run in runs:
            lo, hi = indptr[run[0]], indptr[run[-1] + 1]
            products = self.vector_data_[lo:hi] * weights[self.vector_indices_[lo:hi]]
            total = np.concatenate([[0.0], np.cumsum(products)])
            bounds = indptr[run[0] : run[-1] + 2] - lo
            scores.append(total[bounds[1:]] - total[bounds[:-1]])
        return np.concatenate(scores)

    def find(self, listings: Columns | pd.DataFrame) -> list[list[dict]]:
        """Up to `count` comparable sales per listing, most similar first."""
        names = as_text(column_list(listings, "name"))
        queries = self.vectorizer_.transform(names)
        found = []
        for i, (category, brand, condition) in enumerate(
            zip(
                as_text(column_list(listings, "category_name")),
                as_text(column_list(listings, "brand_name")),
                column_list(listings, "item_condition_id"),
                strict=True,
            )
        ):
            _, rows = self.rows_for(category)
            similarity = self._similarity(queries[i], rows)
            found.append(self._best(rows, similarity, brand, condition))
        return found

    def _best(self, rows: np.ndarray, similarity: np.ndarray, brand: str, condition) -> list:
        same_brand = self.brand_codes_[rows] == self._brand_code(brand) if brand else 0
        rank = similarity + 1e-6 * same_brand + 1e-7 * (self.conditions_[rows] == condition)
        top = min(self.count, len(rows))
        best = np.argpartition(-rank, top - 1)[:top] if top else np.array([], dtype=int)
        best = best[np.argsort(-rank[best], kind="stable")]
        return [self.describe(int(rows[i]), float(similarity[i])) for i in best]

    def _brand_code(self, brand: str) -> int:
        """The code of `brand` among the indexed brands (sorted), -1 when it has none."""
        code = int(np.searchsorted(self.brands_, brand))
        return code if code < len(self.brands_) and self.brands_[code] == brand else -1

    def describe(self, row: int, similarity: float) -> dict:
        """One indexed listing as a comparable sale."""
        start, stop = self.title_offsets_[row], self.title_offsets_[row + 1]
        brand = self.brands_[self.brand_codes_[row]]
        return {
            "title": self.titles_[start:stop].decode(),
            "brand": brand or None,
            "condition": int(self.conditions_[row]),
            "category": self.categories_[self.category_codes_[row]] or None,
            "price": float(self.prices_[row]),
            "similarity": round(min(max(similarity, 0.0), 1.0), 4),
        }

    # ---- the catalogue -------------------------------------------------------------------

    def categories(self) -> list[dict]:
        """The category tree (top level, then the second level, then the rest of the path),
        each node with its name, path and listing count, largest first."""
        counts = np.diff(self.category_starts_)
        root: dict = {}
        for path, count in zip(self.categories_, counts.tolist(), strict=True):
            node = root
            parts = path.split("/", 2)
            for depth in range(len(parts)):
                key = "/".join(parts[: depth + 1])
                entry = node.setdefault(key, {"name": parts[depth], "count": 0, "children": {}})
                entry["count"] += count
                node = entry["children"]
        root.pop("", None)  # listings without a category
        return _as_list(root)

    def brands(self, prefix: str = "", category: str = "", limit: int = 10) -> list[dict]:
        """The brands starting with `prefix` (any case; then those with a word starting with
        it), most listed first, among the listings of `category` and every category under it
        (all listings without one)."""
        codes = self.brand_codes_
        if category:
            a, b, c, d = self._rows_under(category)
            codes = codes[np.r_[a:b, c:d]]
        counts = np.bincount(codes, minlength=len(self.brands_))
        prefix = prefix.strip().lower()
        ranked = []
        for code in np.argsort(-counts, kind="stable"):
            name = str(self.brands_[code])
            if counts[code] == 0:
                break
            lower = name.lower()
            if name and (lower.startswith(prefix) or f" {prefix}" in f" {lower}"):
                ranked.append((not lower.startswith(prefix), -int(counts[code]), name))
        return [{"name": n, "count": -c} for _, c, n in sorted(ranked)[:limit]]


def _as_list(nodes: dict) -> list[dict]:
    ordered = sorted(nodes.items(), key=lambda item: (-item[1]["count"], item[0]))
    return [
        {"name": e["name"], "path": path, "count": e["count"], "children": _as_list(e["children"])}
        for path, e in ordered
    ]
