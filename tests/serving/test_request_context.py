"""The request-context middleware on a bare Starlette app: ids are echoed or made, and every
request is counted with its route template and status, including a route that raises."""

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from price_alchemy.serving.request_context import RequestContext


def _echo(request):
    return PlainTextResponse(request.state.request_id)


def _boom(request):
    raise RuntimeError("boom")


def _client(observed: list) -> TestClient:
    app = Starlette(routes=[Route("/items/{item}", _echo), Route("/boom", _boom)])
    app.add_middleware(RequestContext, observe=lambda *args: observed.append(args))
    return TestClient(app, raise_server_exceptions=False)


def test_a_valid_id_is_echoed_and_an_invalid_one_replaced():
    observed: list = []
    client = _client(observed)
    given = client.get("/items/1", headers={"X-Request-ID": "order-7:a.b"})
    assert given.headers["x-request-id"] == given.text == "order-7:a.b"
    replaced = client.get("/items/2", headers={"X-Request-ID": "no spaces allowed"})
    assert replaced.headers["x-request-id"] == replaced.text
    assert len(replaced.text) == 32 and replaced.text != "no spaces allowed"


def test_requests_are_observed_by_route_template_and_status():
    observed: list = []
    client = _client(observed)
    client.get("/items/1")
    client.get("/missing")
    assert client.get("/boom").status_code == 500
    routes = [(route, method, status) for route, method, status, _ in observed]
    assert routes == [
        ("/items/{item}", "GET", 200),
        ("unmatched", "GET", 404),
        ("/boom", "GET", 500),
    ]
    assert all(seconds > 0 for *_, seconds in observed)
