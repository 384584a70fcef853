"""The API as a real HTTP server on loopback (`price-alchemy serve`, uvicorn) with the champion
of a real registry: concurrent requests all recorded in the prediction log, and our own OpenAPI
spec fuzzed by schemathesis without a single 5xx (the seller page in a browser:
test_seller_page.py)."""

import asyncio
import os

import httpx
import pandas as pd
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from price_alchemy.demo.generator import generate_listings
from price_alchemy.schema import LISTING_FIELDS
from tests.support.project import serve

pytestmark = pytest.mark.slow

ACCESS_LINE = '"POST /v1/price-suggestions HTTP/1.1" 200'


def _env_logging_to(champion_settings, log_url: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PRICE_ALCHEMY")} | {
        "PRICE_ALCHEMY_HOME": str(champion_settings.home),
        "PRICE_ALCHEMY_PREDICTION_LOG_URL": log_url,
        "PRICE_ALCHEMY_MODEL_POLL_SECONDS": "0",
    }


@pytest.fixture(scope="module")
def server(champion_settings, tmp_path_factory):
    """(base URL, server output file) of a server of the shared champion, access log on."""
    folder = tmp_path_factory.mktemp("serving")
    env = _env_logging_to(champion_settings, f"sqlite:///{folder / 'predictions.db'}") | {
        "PRICE_ALCHEMY_PARAMS_FILE": str(champion_settings.params_file),
        "PRICE_ALCHEMY_ACCESS_LOG": "true",
    }
    with serve(env, output=folder / "server.log") as base_url:
        yield base_url, folder / "server.log"


def _listings(count: int = 24) -> list[dict]:
    """Distinct listings, so an answer handed to the wrong request would show."""
    frame = generate_listings(count, seed=5).to_pandas()[list(LISTING_FIELDS)]
    return [{k: v for k, v in row.items() if pd.notna(v)} for row in frame.to_dict("records")]


async def _fire(base_url: str, requests: int, concurrency: int) -> list[httpx.Response]:
    """`requests` concurrent requests, request i pricing `_listings()[i % 24]`."""
    limit, listings = asyncio.Semaphore(concurrency), _listings()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(i: int) -> httpx.Response:
            async with limit:
                return await client.post(
                    "/v1/price-suggestions",
                    json={"listings": [listings[i % len(listings)]]},
                    headers={"X-Request-ID": f"load-{i}"},
                )

        return await asyncio.gather(*(one(i) for i in range(requests)))


def _alone(base_url: str) -> list[float]:
    """Each of `_listings()` priced in a request of its own, one after another."""
    return [
        httpx.post(f"{base_url}/v1/price-suggestions", json={"listings": [listing]}).json()[
            "suggestions"
        ][0]["price"]
        for listing in _listings()
    ]


def _logged_ids(log_url: str) -> list[str]:
    with sa.create_engine(log_url).connect() as connection:
        return connection.execute(sa.text("SELECT request_id FROM predictions")).scalars().all()


def test_concurrent_requests_are_each_recorded_exactly_once(champion_settings, tmp_path):
    log_url = f"sqlite:///{tmp_path / 'predictions.db'}"
    env = _env_logging_to(champion_settings, log_url)
    with serve(env, output=tmp_path / "server.log") as base_url:
        alone = _alone(base_url)
        responses = asyncio.run(_fire(base_url, requests=500, concurrency=32))
        metrics = httpx.get(f"{base_url}/metrics").text
    assert [r.status_code for r in responses] == [200] * 500
    assert len(set(alone)) > len(alone) // 2  # distinct enough that a mix-up would show
    got = [r.json()["suggestions"][0]["price"] for r in responses]
    assert got == [alone[i % len(alone)] for i in range(500)]  # each its own, batched or not
    assert ACCESS_LINE not in (tmp_path / "server.log").read_text()  # off by default
    assert "prediction_log_dropped_total 0.0" in metrics
    logged = _logged_ids(log_url)
    assert len(logged) == 500 + len(alone)
    assert sorted(i for i in logged if i.startswith("load-")) == sorted(
        f"load-{i}" for i in range(500)
    )


def test_ctrl_c_writes_every_answer_before_exit(champion_settings, tmp_path):
    """Ctrl-C reaches the whole process group, the prediction store's process too: it must
    stay up until the API has written the queued records through it."""
    log_url = f"sqlite:///{tmp_path / 'predictions.db'}"
    env = _env_logging_to(champion_settings, log_url)
    output = tmp_path / "server.log"
    with serve(env, output=output, ctrl_c=True) as base_url:
        responses = asyncio.run(_fire(base_url, requests=300, concurrency=32))
    assert [r.status_code for r in responses] == [200] * 300
    assert sorted(_logged_ids(log_url)) == sorted(f"load-{i}" for i in range(300))
    assert "Traceback" not in output.read_text()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_the_server_fail(server, mode):
    """Valid and invalid bodies generated from our OpenAPI spec: never a 5xx."""
    base_url, _ = server
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operation = schema["/v1/price-suggestions"]["POST"]

    @settings(
        max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        case.call_and_validate(checks=[not_a_server_error])

    check()
