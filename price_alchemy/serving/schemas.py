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


class Suggestion(BaseModel):
    listing_id: str | None = Field(description="The listing's id, as sent (null without one).")
    model_version: str = Field(description="The version of the model that priced it.")
    price: float = Field(gt=0, description="Suggested price.")
    low: float = Field(gt=0, description="Low end of the range that holds the nominal coverage.")
    high: float = Field(gt=0, description="High end of the range.")
    currency: str = Field(description="ISO 4217 code of the prices.", examples=["USD"])


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
