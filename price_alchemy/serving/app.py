"""The FastAPI app: price suggestions from the served model, with its description, health,
readiness, Prometheus metrics and the seller page.

`create_app()` builds the app; its lifespan starts a `Service` (model, batcher, prediction log,
registry poller) and stops it, writing the queued prediction records, on shutdown. Without a
model the app still starts: `/healthz` answers, `/readyz` says why it is not ready, and
suggestions get 503 until a model is loaded.
"""

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from price_alchemy.serving.batcher import BatcherClosed, NoModelLoaded
from price_alchemy.serving.metrics import ServiceMetrics
from price_alchemy.serving.request_context import RequestContext
from price_alchemy.serving.schemas import (
    Health,
    ModelDescription,
    Readiness,
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


@router.post("/v1/price-suggestions", response_model=SuggestionResponse, tags=["suggestions"])
async def suggest_prices(
    body: SuggestionRequest, request: Request, service: ServiceDep
) -> SuggestionResponse:
    """Suggested prices, each with a low-high range, for 1 to 1,000 listing drafts."""
    listings = [listing.model_dump() for listing in body.listings]
    try:
        priced = await service.batcher.price(listings)
    except (NoModelLoaded, BatcherClosed) as error:
        raise HTTPException(503, str(error)) from error
    request_id = request.state.request_id
    service.record(request_id, listings, priced)
    currency = service.settings.currency
    suggestions = [
        Suggestion(price=round(p, 2), low=round(lo, 2), high=round(hi, 2), currency=currency)
        for p, lo, hi in priced.ranges
    ]
    info = priced.model.info
    return SuggestionResponse(
        request_id=request_id,
        model_name=info.name,
        model_version=info.version,
        suggestions=suggestions,
    )


@router.get("/v1/model", response_model=ModelDescription, tags=["model"])
def model_description(service: ServiceDep) -> ModelDescription:
    """The model being served: name, version, alias, when it was trained, its metrics."""
    current = service.holder.current
    if current is None:
        raise HTTPException(503, f"no model is loaded: {service.holder.last_error}")
    return ModelDescription(**current.info.to_dict())


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
    current = service.holder.current
    if current is not None:
        info = current.info
        service.metrics.model.info(
            {"name": info.name, "version": info.version, "alias": info.alias}
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
