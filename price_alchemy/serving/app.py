"""The FastAPI app: price suggestions from the served model, with its description, health,
readiness, Prometheus metrics and the seller page.

`create_app()` builds the app; its lifespan starts a `Service` (model, batcher, prediction log,
registry poller) and stops it, writing the queued prediction records, on shutdown. Without a
model the app still starts: `/healthz` answers, `/readyz` says why it is not ready, and
suggestions get 503 until a model is loaded.
"""

import hmac
import math
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from price_alchemy.data.prediction_records import PredictionStoreError
from price_alchemy.model.features import listing_columns
from price_alchemy.schema import in_cents
from price_alchemy.serving.batcher import BatcherClosed, NoModelLoaded, Priced
from price_alchemy.serving.experiment import CHALLENGER, CHAMPION
from price_alchemy.serving.explanations import NO_INDEX, Explanations
from price_alchemy.serving.metrics import ServiceMetrics
from price_alchemy.serving.outcomes import outcome_rows
from price_alchemy.serving.request_context import RequestContext, traffic_kind
from price_alchemy.serving.schemas import (
    Brands,
    Categories,
    ExperimentDescription,
    Health,
    ModelDescription,
    OutcomesAccepted,
    OutcomesRequest,
    Readiness,
    ServedModels,
    Suggestion,
    SuggestionRequest,
    SuggestionResponse,
)
from price_alchemy.serving.service import Service
from price_alchemy.settings import Settings, get_settings

router = APIRouter()
SELLER_PAGE = Path(__file__).with_name("seller_page.html")


async def _service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(_service)]


@router.post(
    "/v1/price-suggestions",
    response_model=SuggestionResponse,
    response_model_exclude_unset=True,  # the explanation's fields only when asked for
    tags=["suggestions"],
)
async def suggest_prices(
    body: SuggestionRequest, request: Request, service: ServiceDep
) -> SuggestionResponse:
    """Suggested prices, each with a low-high range, for 1 to 1,000 listing drafts; with
    `"explain": true`, also why (factors adding up to each price) and comparable sales."""
    listings = [listing.model_dump() for listing in body.listings]
    request_id = request.state.request_id
    arms = service.experiment.arms(listings, request_id)
    try:
        priced = await service.batcher.price(listings, arms)
    except (NoModelLoaded, BatcherClosed) as error:
        raise HTTPException(503, str(error)) from error
    service.record(request_id, listings, priced, traffic_kind(request.headers))
    currency = service.settings.currency
    extras: list[dict] = [{}] * len(listings)
    if body.explain:
        extras = await run_in_threadpool(_explained, priced, listings)
    suggestions = [
        Suggestion(
            listing_id=listing["listing_id"],
            model_version=version,
            price=in_cents(p),
            low=in_cents(lo),
            high=in_cents(hi),
            currency=currency,
            **extra,
        )
        for listing, version, (p, lo, hi), extra in zip(
            listings, priced.versions, priced.ranges, extras, strict=True
        )
    ]
    info = priced.model.info
    return SuggestionResponse(
        request_id=request_id,
        model_name=info.name,
        model_version=info.version,
        suggestions=suggestions,
    )


def _explained(priced: Priced, listings: list[dict]) -> list[dict]:
    """Each listing's explanation by the model version that priced it."""
    answers: list[dict] = [{} for _ in listings]
    for version, served in priced.served.items():
        rows = [i for i, priced_by in enumerate(priced.versions) if priced_by == version]
        if rows:
            part = listing_columns([listings[i] for i in rows])
            for i, answer in zip(rows, served.explanations.explain(part), strict=True):
                answers[i] = answer
    return answers


def _catalogue(request: Request, service: Service) -> tuple[str, Explanations]:
    """(the champion's version, its explanations); 503 without a champion, 409 when it has
    no catalogue, 304 when the client's copy (If-None-Match) is of this version."""
    current = service.holder.current
    if current is None:
        raise HTTPException(503, f"no model is loaded: {service.holder.last_error}")
    if current.explanations.index is None:
        raise HTTPException(409, f"no catalogue: {NO_INDEX}")
    if request.headers.get("if-none-match") == _etag(current.info.version):
        raise HTTPException(304)
    return current.info.version, current.explanations


def _etag(version: str) -> str:
    return f'"model-{version}"'


def _cached(body: BaseModel, version: str) -> JSONResponse:
    """`body` with the headers that let a client keep it while the model version serves."""
    headers = {"ETag": _etag(version), "Cache-Control": "public, max-age=300"}
    return JSONResponse(body.model_dump(), headers=headers)


@router.get("/v1/categories", response_model=Categories, tags=["catalogue"])
def categories(request: Request, service: ServiceDep) -> JSONResponse:
    """The category tree the served model knows (from its training data), with listing counts;
    cached per model version (ETag)."""
    version, explanations = _catalogue(request, service)
    return _cached(Categories(model_version=version, categories=explanations.categories()), version)


@router.get("/v1/brands", response_model=Brands, tags=["catalogue"])
def brands(
    request: Request,
    service: ServiceDep,
    prefix: Annotated[str, Query(max_length=200, description="Start of the name (any case).")] = "",
    category: Annotated[
        str, Query(max_length=300, description="A category path: brands listed in it or under it.")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> JSONResponse:
    """The brands the served model knows that match a prefix, most listed first; cached per
    model version."""
    version, explanations = _catalogue(request, service)
    found = explanations.brands(prefix, category.strip("/"), limit)
    return _cached(Brands(model_version=version, brands=found), version)


async def _outcome_poster(request: Request, service: ServiceDep) -> None:
    """Lets a request post outcomes only within its client's rate and with the bearer token."""
    wait = service.outcome_limits.allow(request.client.host if request.client else "unknown")
    if wait:
        retry = {"Retry-After": str(math.ceil(wait))}
        raise HTTPException(429, "too many outcome requests: slow down", headers=retry)
    token = service.settings.outcomes_token
    if token is None:
        raise HTTPException(403, "outcomes are off: set PRICE_ALCHEMY_OUTCOMES_TOKEN to take them")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
        challenge = {"WWW-Authenticate": "Bearer"}
        raise HTTPException(401, "a valid bearer token is required", headers=challenge)


@router.post(
    "/v1/outcomes",
    response_model=OutcomesAccepted,
    tags=["outcomes"],
    dependencies=[Depends(_outcome_poster)],
)
async def post_outcomes(body: OutcomesRequest, service: ServiceDep) -> OutcomesAccepted:
    """What became of listings (listed or sold at a price, or withdrawn), up to 1,000 events,
    stored beside the prediction log all together or not at all; a repeat of a listing and
    event replaces it. Requires `Authorization: Bearer <PRICE_ALCHEMY_OUTCOMES_TOKEN>`."""
    rows = outcome_rows(body.outcomes, datetime.now(UTC).replace(tzinfo=None))
    try:
        await run_in_threadpool(service.store_outcomes, rows)
    except PredictionStoreError as error:
        raise HTTPException(503, f"outcomes not stored, send them again: {error}") from error
    return OutcomesAccepted(stored=len(rows))


@router.get("/v1/model", response_model=ServedModels, tags=["model"])
def model_description(service: ServiceDep) -> ServedModels:
    """The model being served (name, version, alias, when it was trained, its metrics) and,
    when an experiment is on, its share, mode and challenger."""
    current = service.holder.current
    if current is None:
        raise HTTPException(503, f"no model is loaded: {service.holder.last_error}")
    experiment = None
    if service.experiment.on:
        challenger = service.challenger.current
        experiment = ExperimentDescription(
            share=service.experiment.share,
            mode=service.experiment.mode,
            challenger=ModelDescription(**challenger.info.to_dict()) if challenger else None,
            challenger_status=service.challenger.last_error,
        )
    return ServedModels(**current.info.to_dict(), experiment=experiment)


@router.get("/healthz", response_model=Health, tags=["health"])
def healthz(service: ServiceDep) -> Health:
    """The process is alive; says which model version it serves, if any."""
    current = service.holder.current
    return Health(status="ok", model_version=current.info.version if current else None)


@router.get("/readyz", response_model=Readiness, tags=["health"])
def readyz(service: ServiceDep) -> JSONResponse:
    """200 when a model is loaded and the prediction log is writable, else 503; the details
    say what serves and why the last model swap or log write failed, if one did."""
    holder, log = service.holder, service.log
    writable = log.writable()
    readiness = Readiness(
        ready=holder.current is not None and writable,
        model=holder.describe(),
        model_error=holder.last_error,
        prediction_log_writable=writable,
        prediction_log_error=log.last_error,
    )
    return JSONResponse(readiness.model_dump(), status_code=200 if readiness.ready else 503)


@router.get("/metrics", tags=["health"], response_class=Response)
def metrics(service: ServiceDep) -> Response:
    """Prometheus metrics in the text exposition format."""
    service.metrics.show_models(
        {CHAMPION: service.holder.current, CHALLENGER: service.challenger.current}
    )
    return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def seller_page() -> HTMLResponse:
    """The seller page: a listing form that shows the suggested price and range."""
    return HTMLResponse(SELLER_PAGE.read_text(encoding="utf-8"))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The price-suggestion app for `settings` (default: from the environment)."""
    settings = settings or get_settings()
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = Service(settings, metrics)
        app.state.service = service
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(title="Price Alchemy", version="1", lifespan=lifespan)
    app.add_middleware(RequestContext, observe=metrics.observe)
    app.include_router(router)
    return app
