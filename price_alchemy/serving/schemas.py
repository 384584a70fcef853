"""Request and response bodies of the price-suggestion API, with their field constraints."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

Title = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]


class Listing(BaseModel):
    """One listing draft as a seller typed it."""

    name: Title = Field(description="The listing title.", examples=["Nike Air Max 90 size 10"])
    item_condition_id: int = Field(ge=1, le=5, description="1 = new ... 5 = poor.")
    category_name: str | None = Field(
        None, max_length=300, description="Category path, e.g. 'Men/Shoes/Athletic'."
    )
    brand_name: str | None = Field(None, max_length=200)
    shipping: int = Field(ge=0, le=1, description="1 when the seller pays shipping.")
    item_description: str | None = Field(None, max_length=20_000)


class SuggestionRequest(BaseModel):
    listings: list[Listing] = Field(min_length=1, max_length=1000)


class Suggestion(BaseModel):
    price: float = Field(gt=0, description="Suggested price in dollars.")
    low: float = Field(gt=0, description="Low end of the range that holds the nominal coverage.")
    high: float = Field(gt=0, description="High end of the range.")


class SuggestionResponse(BaseModel):
    model_name: str
    model_version: str
    suggestions: list[Suggestion]


class Health(BaseModel):
    status: str
    model_version: str | None
