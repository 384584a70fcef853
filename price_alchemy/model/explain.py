"""Why this price: a listing's log-price prediction split into factors that add up to it exactly.

The blend predicts log1p(price) as the weighted sum of its members' predictions, so its
prediction is the weighted sum of their attributions, each split the same way:
- a **linear member** (Ridge: coefficient x value): each column's coefficient times its value,
  less the same for the mean training row, so the base is the mean training prediction;
- the **tree member** on the linear prediction (`TreesOnLinear`): LightGBM's own `pred_contrib`
  (TreeSHAP) of each column it reads; the share it gives to the linear prediction is passed on
  to the columns in proportion to their part of that prediction's distance from its value at
  the mean row (the fold models' mean coefficient x (value - mean));
- LightGBM on raw columns (`TopColumnsLGBM`, older models): its `pred_contrib`;
- **any other member** (an MLP): Shapley values of the listing's factors, sampled over
  `PERMUTATIONS` orders (each factor's mean marginal effect as the factors are added, in turn,
  to an empty listing); every order's effects add up to the prediction less the empty
  listing's, so their mean does exactly.

Columns are grouped into factors a seller understands: the category (all three levels), the
brand (with the brand's own words and the away-from-home columns), the condition, shipping, each
word or phrase of the title, each of the description, and crossed terms (brand in category, a
title word in category). A categorical factor is named by the listing's value and holds the
whole group's deviation from the mean row; words the listing lacks, and the mean row's words,
go to "other". Factors are ordered by size, the first `top` kept and the rest summed into
"other"; on the waterfall each moves the running price from the base price to the suggestion.
When the price floor lifts a prediction, a last "floor" factor says by how much.
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from price_alchemy.model.column_values import Columns, text_column
from price_alchemy.model.features import WORD, ColumnUnion
from price_alchemy.model.members import TopColumnsLGBM
from price_alchemy.model.served_predict import direct_predict
from price_alchemy.model.trees_on_linear import TreesOnLinear, with_prediction
from price_alchemy.schema import CONDITION_LABELS, SHIPPING_LABELS

PERMUTATIONS = 8  # orders sampled for a member without exact attributions
TOP_FACTORS = 8  # factors named; the rest are summed into "other"
OTHER = ("other", "Everything else")
# the one-hot's columns and the factor each belongs to
CATEGORICAL_GROUPS = {
    "brand": "brand",
    "brand_away": "brand",
    "brand_outside_home": "brand",
    "category_top": "category",
    "category_mid": "category",
    "category_leaf": "category",
    "condition": "condition",
    "shipping_paid": "shipping",
    "brand_category": "crossed",
}
# the prepared columns a listing's factors are named by
LISTING_TEXTS = ("brand", "category_leaf", "condition", "shipping_paid", "title_text")
GROUPS = ("brand", "category", "condition", "shipping", "crossed")  # categorical groups
TEXT_BLOCKS = ("title", "description", "description_words", "category_title", "title_chars")


class NoExplanations(ValueError):
    """The model cannot be explained (built before explanations, or of another shape)."""


@dataclass(frozen=True)
class Factor:
    """One step of the waterfall: its effect on log1p(price), as a percentage of 1 + price,
    and in dollars from the running price before it to `price_after`."""

    kind: str
    label: str
    log_effect: float
    percent: float
    dollars: float
    price_after: float


@dataclass(frozen=True)
class Explanation:
    """One listing's base price, its factors in waterfall order, and log1p of its price:
    log1p(base_price) + the factors' log effects == log_price."""

    base_price: float
    factors: list[Factor]
    log_price: float


class Layout:
    """What each column of the feature matrix stands for: its group (a categorical group, or
    a text block after them) and its term (a word, a phrase, or a category word cross)."""

    def __init__(self, union: ColumnUnion) -> None:
        groups, terms = [], []
        for name, step, _ in union.transformers_:
            names = [str(n) for n in step.get_feature_names_out()]
            if name == "categorical":
                groups += [GROUPS.index(CATEGORICAL_GROUPS[n.partition("=")[0]]) for n in names]
            elif name in TEXT_BLOCKS:
                groups += [len(GROUPS) + TEXT_BLOCKS.index(name)] * len(names)
            else:
                raise NoExplanations(f"no factor for the feature block {name!r}")
            terms += names
        self.group = np.asarray(groups, dtype=np.int8)
        self.term = np.asarray(terms, dtype=object)
        self.groups = len(GROUPS) + len(TEXT_BLOCKS)

    def group_sums(self, values: np.ndarray) -> np.ndarray:
        """`values` (one per column) summed per group."""
        return np.bincount(self.group, weights=values, minlength=self.groups)


class _Listing:
    """One listing's factor keys: of its categorical groups, and of each column it holds."""

    def __init__(self, texts: dict[str, list[str]], row: int, layout: Layout) -> None:
        def value(column: str) -> str:
            return texts[column][row]

        self.layout, self.category = layout, value("category_leaf")
        brand, condition, shipping = value("brand"), value("condition"), value("shipping_paid")
        self.words = {
            "brand": set(WORD.findall(brand.lower())),
            "title": set(WORD.findall(value("title_text").lower())),
            "category": set(WORD.findall(self.category.lower())),
        }
        self.group_keys = [
            ("brand", f"Brand: {brand or 'none given'}"),
            ("category", f"Category: {self.category or 'none given'}"),
            ("condition", f"Condition: {CONDITION_LABELS.get(int(condition), condition)}"),
            ("shipping", f"Shipping: {SHIPPING_LABELS.get(int(shipping), shipping)}"),
            ("crossed", f"{brand} in {self.category}" if brand else "Brand in category: none"),
        ] + [OTHER] * len(TEXT_BLOCKS)

    def key(self, column: int) -> tuple[str, str]:
        group = int(self.layout.group[column])
        if group < len(GROUPS):
            return self.group_keys[group]
        block, term = TEXT_BLOCKS[group - len(GROUPS)], str(self.layout.term[column])
        if block == "category_title":
            return "crossed", f'"{term.rpartition("|")[2]}" in {self.category}'
        if block == "title_chars":
            return "title", "Title: its spelling"
        words = set(term.split())
        if words <= self.words["brand"]:
            return self.group_keys[0]
        if words <= self.words["title"]:
            return "title", f'Title: "{term}"'
        if words <= self.words["category"]:
            return self.group_keys[1]
        return "description", f'Description: "{term}"'


def _add(target: dict, keys: list, values) -> None:
    for key, value in zip(keys, np.asarray(values, dtype=float).tolist(), strict=True):
        target[key] += value


class _Linear:
    """Exact attributions of a linear model: coefficient x (value - mean value)."""

    def __init__(self, coef: np.ndarray, intercept: float, means: np.ndarray, layout: Layout):
        self.coef = np.asarray(coef, dtype=float)
        self.at_mean = layout.group_sums(self.coef * means)  # the mean row's part, per group
        self.base = float(intercept) + float(self.at_mean.sum())

    def row(self, X: sp.csr_matrix, i: int, listing: _Listing) -> dict:
        """Row `i`'s effect per factor key (adding up to its prediction less `base`)."""
        effects: dict = defaultdict(float)
        start, stop = X.indptr[i], X.indptr[i + 1]
        columns = X.indices[start:stop]
        _add(effects, [listing.key(c) for c in columns], self.coef[columns] * X.data[start:stop])
        _add(effects, listing.group_keys, -self.at_mean)
        return effects


def _booster_contributions(booster, X) -> np.ndarray:
    """LightGBM's pred_contrib of dense rows: one column per feature, the last its base."""
    return np.asarray(booster.booster_.predict(X, pred_contrib=True, num_threads=1))


class _Trees:
    """TreeSHAP of a LightGBM member on chosen columns, plus (for `TreesOnLinear`) its first
    column, the linear prediction, passed on through the linear model's own attributions."""

    def __init__(self, member, means: np.ndarray, layout: Layout) -> None:
        self.member = member
        if isinstance(member, TreesOnLinear):
            linears = member.linears_
            coef = np.mean([linear.coef_ for linear in linears], axis=0)
            intercept = float(np.mean([linear.intercept_ for linear in linears]))
            self.linear: _Linear | None = _Linear(coef, intercept, means, layout)
            self.booster, self.columns = member.trees_.booster_, member.columns_
        else:
            self.linear, self.booster, self.columns = None, member.booster_, member.columns_

    def contributions(self, X: sp.csr_matrix) -> np.ndarray:
        if self.linear is None:
            return _booster_contributions(self.booster, X[:, self.columns].toarray())
        prediction = self.member.linear_prediction(X)
        stacked = with_prediction(X, self.member.positions_, prediction, dense=True)
        return _booster_contributions(self.booster, stacked)

    def row(self, X: sp.csr_matrix, i: int, listing: _Listing, shap: np.ndarray) -> dict:
        effects: dict = defaultdict(float)
        on_columns = shap[1:-1] if self.linear is not None else shap[:-1]
        holds = set(X.indices[X.indptr[i] : X.indptr[i + 1]].tolist())
        keys = [listing.key(c) if c in holds else _absent_key(c, listing) for c in self.columns]
        _add(effects, keys, on_columns)
        if self.linear is not None:
            self._pass_on(effects, self.linear.row(X, i, listing), float(shap[0]))
        return effects

    @staticmethod
    def _pass_on(effects: dict, linear: dict, share: float) -> None:
        """The trees' share of the linear prediction, split like that prediction's distance
        from its value at the mean row (to "other" when the two are all but equal)."""
        distance = sum(linear.values())
        if abs(distance) < 1e-3:
            effects[OTHER] += share
            return
        for key, value in linear.items():
            effects[key] += share * value / distance


def _absent_key(column: int, listing: _Listing) -> tuple[str, str]:
    """A column the listing does not hold: its categorical group's factor, else "other"."""
    group = int(listing.layout.group[column])
    return listing.group_keys[group] if group < len(GROUPS) else OTHER


class _Sampled:
    """Sampled Shapley values of the listing's factors for a member of any kind."""

    def __init__(self, member) -> None:
        self.predict = direct_predict(member)

    def base_and_row(self, X: sp.csr_matrix, i: int, listing: _Listing) -> tuple[float, dict]:
        """(the empty listing's prediction, row `i`'s effect per factor key)."""
        start, stop = X.indptr[i], X.indptr[i + 1]
        columns, values = X.indices[start:stop], X.data[start:stop]
        keys = [listing.key(c) for c in columns]
        players = list(dict.fromkeys(keys))
        player_of = np.asarray([players.index(k) for k in keys], dtype=int)
        orders = _orders(len(players), i)
        predicted = self.predict(_prefix_rows(orders, player_of, columns, values, X.shape[1]))
        effects: dict = defaultdict(float)
        width = len(players)
        for n, order in enumerate(orders):
            path = np.r_[predicted[0], predicted[1 + n * width : 1 + (n + 1) * width]]
            for player, step in zip(order.tolist(), np.diff(path).tolist(), strict=True):
                effects[players[player]] += step / len(orders)
        return float(predicted[0]), effects


def _prefix_rows(orders, player_of: np.ndarray, columns, values, width: int) -> sp.csr_matrix:
    """The empty row, then for each order the row holding its first 1, 2, ... players."""
    indices, data, indptr = [], [], [0]
    for order in orders:
        held = np.zeros(len(columns), dtype=bool)
        for player in order:
            held |= player_of == player
            indices.append(columns[held])
            data.append(values[held])
            indptr.append(indptr[-1] + int(held.sum()))
    indptr = [0] + indptr  # the empty row first
    if not indices:
        return sp.csr_matrix((1, width), dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.asarray(indptr)),
        shape=(len(indptr) - 1, width),
    )


def _orders(players: int, seed: int) -> list[np.ndarray]:
    """PERMUTATIONS orders of the players, in antithetic pairs (an order and its reverse)."""
    rng = np.random.default_rng(seed)
    orders = []
    for _ in range(PERMUTATIONS // 2):
        order = rng.permutation(players)
        orders += [order, order[::-1]]
    return orders


def _is_linear(member) -> bool:
    coef = getattr(member, "coef_", None)
    return coef is not None and np.ndim(coef) == 1 and hasattr(member, "intercept_")


def _part(member, means: np.ndarray, layout: Layout):
    if _is_linear(member):
        return _Linear(member.coef_, member.intercept_, means, layout)
    if isinstance(member, TreesOnLinear | TopColumnsLGBM):
        return _Trees(member, means, layout)
    return _Sampled(member)


def _parts_of(model):
    """(transforms before the column union, the union, the blend, its estimator) of a model
    that `train.fit_model` built; NoExplanations for any other."""
    try:
        pipeline = model.estimator.regressor_
        features, blend = pipeline.named_steps["features"], pipeline.named_steps["blend"]
        *before, (_, union) = features.steps
    except (AttributeError, KeyError, ValueError) as error:
        raise NoExplanations(f"not a model this version can explain: {error}") from error
    if not isinstance(union, ColumnUnion) or not hasattr(blend, "column_means_"):
        raise NoExplanations("the model was trained before explanations: train it again")
    return [direct_predict(step, "transform") for _, step in before], union, blend


class Explainer:
    """Explanations of a fitted model's prices (see the module's docstring)."""

    def __init__(self, model, top: int = TOP_FACTORS) -> None:
        self.before, union, blend = _parts_of(model)
        self.union = direct_predict(union, "transform")
        self.layout, self.top = Layout(union), top
        self.to_price = model.estimator.inverse_func or (lambda y: y)
        means = np.asarray(blend.column_means_, dtype=float)
        self.parts = [
            (weight, _part(blend.members_[name], means, self.layout))
            for name, weight in blend.weights().items()
            if weight != 0
        ]

    def explain(self, columns: Columns) -> list[Explanation]:
        """The explanation of each listing (a dict of column lists of LISTING_FIELDS)."""
        prepared = columns
        for transform in self.before:
            prepared = transform(prepared)
        X = self.union(prepared)
        texts = {column: text_column(prepared, column) for column in LISTING_TEXTS}  # once
        shap = {
            id(part): part.contributions(X) for _, part in self.parts if isinstance(part, _Trees)
        }
        explained = []
        for i in range(X.shape[0]):
            listing = _Listing(texts, i, self.layout)
            base, effects = 0.0, defaultdict[tuple[str, str], float](float)
            for weight, part in self.parts:
                if isinstance(part, _Linear):
                    member_base, member_effects = part.base, part.row(X, i, listing)
                elif isinstance(part, _Trees):
                    row_shap = shap[id(part)][i]
                    member_base = float(row_shap[-1])
                    member_effects = part.row(X, i, listing, row_shap)
                else:
                    member_base, member_effects = part.base_and_row(X, i, listing)
                base += weight * member_base
                for key, value in member_effects.items():
                    effects[key] += weight * value
            explained.append(self._waterfall(base, effects))
        return explained

    def _waterfall(self, base: float, effects: dict) -> Explanation:
        """The factors, largest first, the rest in "other", then the price floor's lift."""
        log_price = base + sum(effects.values())
        price = float(np.asarray(self.to_price(np.array([log_price])))[0])
        ranked = sorted(
            (item for item in effects.items() if item[0] != OTHER), key=lambda kv: -abs(kv[1])
        )
        steps = ranked[: self.top]
        rest = sum(value for _, value in ranked[self.top :]) + effects.get(OTHER, 0.0)
        if rest != 0:
            steps.append((OTHER, rest))
        floor = float(np.log1p(price)) - log_price
        if abs(floor) > 1e-12:
            steps.append((("floor", "Minimum price"), floor))
        factors, running = [], base
        for (kind, label), value in steps:
            before, running = running, running + value
            factors.append(
                Factor(
                    kind,
                    label,
                    value,
                    float(np.expm1(value) * 100),
                    float(np.expm1(running) - np.expm1(before)),
                    float(np.expm1(running)),
                )
            )
        return Explanation(float(np.expm1(base)), factors, running)
