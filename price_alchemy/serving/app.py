"""The FastAPI app: loads the champion model once at start-up and answers price suggestions.

`create_app()` builds the app; its lifespan loads `models:/<name>@champion` into `app.state`.
When no champion can be loaded the app still starts, reports it on `/healthz`, and answers
suggestions with 503 until a model exists.
"""

import logging
from contextlib import asynccontextmanager
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request

from price_alchemy.features import LISTING_FIELDS
from price_alchemy.registry import ChampionModel, load_champion
from price_alchemy.serving.schemas import (
    Health,
    Suggestion,
    SuggestionRequest,
    SuggestionResponse,
)
from price_alchemy.settings import Settings, get_settings
from price_alchemy.tracking import use_tracking

log = logging.getLogger(__name__)
router = APIRouter()


def _load(settings: Settings) -> ChampionModel | None:
    try:
        return load_champion(use_tracking(settings), settings.model_name)
    except Exception as error:  # serve 503s rather than fail to start
        log.error("no model loaded: %s", error)
        return None


def _champion(request: Request) -> ChampionModel:
    champion = request.app.state.champion
    if champion is None:
        raise HTTPException(503, "no champion model is loaded: train and register one first")
    return champion


Champion = Annotated[ChampionModel, Depends(_champion)]


@router.post("/v1/price-suggestions", response_model=SuggestionResponse, tags=["suggestions"])
def suggest_prices(body: SuggestionRequest, champion: Champion) -> SuggestionResponse:
    """Suggested prices, each with a low-high range, for up to 1,000 listing drafts."""
    frame = pd.DataFrame([listing.model_dump() for listing in body.listings])
    prices, lows, highs = champion.model.predict_range(frame[list(LISTING_FIELDS)])
    suggestions = [
        Suggestion(price=round(float(p), 2), low=round(float(lo), 2), high=round(float(hi), 2))
        for p, lo, hi in zip(prices, lows, highs, strict=True)
    ]
    return SuggestionResponse(
        model_name=champion.name, model_version=champion.version, suggestions=suggestions
    )


@router.get("/healthz", response_model=Health, tags=["health"])
def healthz(request: Request) -> Health:
    """The process is alive; says which model version it serves, if any."""
    champion = request.app.state.champion
    return Health(status="ok", model_version=champion.version if champion else None)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The price-suggestion app for `settings` (default: from the environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.champion = _load(settings)
        yield

    app = FastAPI(title="Price Alchemy", version="1", lifespan=lifespan)
    app.include_router(router)
    return app
