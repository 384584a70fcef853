"""Request and response bodies of the price-suggestion API, with their field constraints."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from price_alchemy.schema import CONDITIONS, SHIPPING_VALUES, listing_field

Title = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
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


class SuggestionRequest(BaseModel):
    listings: list[Listing] = Field(min_length=1, max_length=MAX_LISTINGS)


class Suggestion(BaseModel):
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


class Health(BaseModel):
    status: str
    model_version: str | None


class Readiness(BaseModel):
    ready: bool
    model: str = Field(description="The model being served, or 'no model'.")
    model_error: str | None = Field(description="Why the last model load or swap failed.")
    prediction_log_writable: bool
    prediction_log_error: str | None
