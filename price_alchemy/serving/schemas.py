"""Request and response bodies of the price-suggestion API, with their field constraints."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from price_alchemy.data.prediction_records import PRICED_EVENTS
from price_alchemy.schema import CONDITIONS, SHIPPING_VALUES, listing_field

Title = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
# a listing's or a seller's id in the marketplace: what joins a suggestion to its sale
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
MAX_LISTINGS = 1000


def _about(name: str) -> str:
    return listing_field(name).description


class Listing(BaseModel):
    """One listing draft as a seller typed it: the fields of `schema.LISTING_FIELDS`, with the
    API's limits."""

    name: Title = Field(description=_about("name"), examples=["Nike Air Max 90 size 10"])
    item_condition_id: int = Field(
        ge=min(CONDITIONS), le=max(CONDITIONS), description=_about("item_condition_id")
    )
    category_name: str | None = Field(None, max_length=300, description=_about("category_name"))
    brand_name: str | None = Field(None, max_length=200, description=_about("brand_name"))
    shipping: int = Field(
        ge=min(SHIPPING_VALUES), le=max(SHIPPING_VALUES), description=_about("shipping")
    )
    item_description: str | None = Field(
        None, max_length=20_000, description=_about("item_description")
    )
    listing_id: Identifier | None = Field(
        None,
        description="The listing's id in the marketplace (1-128 of A-Z a-z 0-9 _ . : -): the"
        " suggestion is logged under it, its outcomes are posted under it, and it always meets"
        " the same model of an experiment.",
        examples=["m-1234567"],
    )
    seller_id: Identifier | None = Field(
        None,
        description="The seller's id (same characters): the experiment's unit without a"
        " listing id.",
    )


class SuggestionRequest(BaseModel):
    listings: list[Listing] = Field(min_length=1, max_length=MAX_LISTINGS)
    explain: bool = Field(
        False,
        description="Also answer why (the factors of each price) and comparable sales;"
        " without it nothing of these is computed.",
    )


class Factor(BaseModel):
    """One step of the waterfall from the base price to the suggestion."""

    kind: Literal[
        "category",
        "brand",
        "condition",
        "shipping",
        "title",
        "description",
        "crossed",
        "other",
        "floor",
    ] = Field(description="What it is about (crossed: brand in category, title word in category).")
    label: str = Field(examples=['Title: "nwt"'])
    log_effect: float = Field(
        description="Its effect on log(1 + price): log(1 + base_price) plus every factor's"
        " log_effect is log_price, exactly."
    )
    percent: float = Field(description="Its effect on 1 + price, in percent (12.5: +12.5%).")
    dollars: float = Field(description="The change of the running price it makes, in dollars.")
    price_after: float = Field(description="The running price after it (the last: the price).")


class Comparable(BaseModel):
    """A listing of the model's training data like the one priced, and what it sold for."""

    title: str
    brand: str | None
    condition: int = Field(description=_about("item_condition_id"))
    category: str | None
    price: float = Field(description="Its realized price.")
    similarity: float = Field(ge=0, le=1, description="Cosine similarity of the titles.")


class Suggestion(BaseModel):
    listing_id: str | None = Field(description="The listing's id, as sent (null without one).")
    model_version: str = Field(description="The version of the model that priced it.")
    price: float = Field(gt=0, description="Suggested price.")
    low: float = Field(gt=0, description="Low end of the range that holds the nominal coverage.")
    high: float = Field(gt=0, description="High end of the range.")
    currency: str = Field(description="ISO 4217 code of the prices.", examples=["USD"])
    # with "explain": true only
    base_price: float | None = Field(
        None, description="Where the waterfall starts: the mean training listing's price."
    )
    log_price: float | None = Field(
        None, description="log(1 + price) unrounded: where the factors' log effects add up to."
    )
    factors: list[Factor] | None = Field(
        None, description="Why this price: the largest factors first, the rest in 'other'."
    )
    comparables: list[Comparable] | None = Field(
        None, description="Up to 5 similar listings from the training data, most similar first."
    )
    explain_note: str | None = Field(None, description="What of the explanation is missing, why.")


class SuggestionResponse(BaseModel):
    request_id: str = Field(description="The X-Request-ID of the request, or a generated one.")
    model_name: str
    model_version: str
    suggestions: list[Suggestion]


class ModelDescription(BaseModel):
    name: str
    version: str
    alias: str
    run_id: str | None = Field(description="The training run, when the version has one.")
    trained_at: str | None = Field(description="When its training run ended (UTC, ISO 8601).")
    metrics: dict[str, float] = Field(description="Its training run's metrics.")


class ExperimentDescription(BaseModel):
    share: float = Field(description="Share of listings the challenger answers (split mode).")
    mode: str = Field(description="split, or shadow: the challenger prices beside the champion.")
    challenger: ModelDescription | None = Field(description="The challenger being served.")
    challenger_status: str | None = Field(
        description="Why no challenger is served (no version holds the alias, or it failed)."
    )


class ServedModels(ModelDescription):
    """The champion (its fields, as before experiments) and the live experiment, if on."""

    experiment: ExperimentDescription | None = None


class Health(BaseModel):
    status: str
    model_version: str | None


class Readiness(BaseModel):
    ready: bool
    model: str = Field(description="The model being served, or 'no model'.")
    model_error: str | None = Field(description="Why the last model load or swap failed.")
    prediction_log_writable: bool
    prediction_log_error: str | None


class Outcome(BaseModel):
    """What became of a listing: listed (at a price), sold (at a price) or withdrawn."""

    listing_id: Identifier = Field(description="The listing's id, as sent with its suggestion.")
    event: Literal["listed", "sold", "withdrawn"]
    price: float | None = Field(
        None, gt=0, description="The listed or sold price (required for listed and sold)."
    )
    at: datetime | None = Field(
        None, description="When it happened (ISO 8601; naive is UTC); default: when posted."
    )

    @model_validator(mode="after")
    def _priced_when_listed_or_sold(self) -> "Outcome":
        if self.event in PRICED_EVENTS and self.price is None:
            raise ValueError(f"price is required for a {self.event} event")
        return self


class OutcomesRequest(BaseModel):
    outcomes: list[Outcome] = Field(min_length=1, max_length=MAX_LISTINGS)


class OutcomesAccepted(BaseModel):
    stored: int = Field(description="Outcomes stored (a repeat of a listing and event replaces).")


class CategoryNode(BaseModel):
    name: str = Field(description="This level's name.", examples=["Shoes"])
    path: str = Field(description="The category path to send as category_name.")
    count: int = Field(description="Training listings in it and under it.")
    children: list["CategoryNode"]


class Categories(BaseModel):
    model_version: str
    categories: list[CategoryNode] = Field(description="The category tree, largest first.")


class Brand(BaseModel):
    name: str
    count: int = Field(description="Training listings of the brand (in the category, if given).")


class Brands(BaseModel):
    model_version: str
    brands: list[Brand] = Field(description="Names starting with the prefix first, most listed.")
