"""Request context as plain ASGI middleware: each request gets an id (its valid `X-Request-ID`,
or a new one) that the response echoes, and is counted with its latency by route template and
status. Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which runs every request
through an extra task group and streams: a third of the server's time under load."""

import random
import re
import time
import uuid
from collections.abc import Callable

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
HEADER = b"x-request-id"
TRAFFIC_HEADER = "x-traffic"
# what a client may say its requests are: live sellers' (the default), or synthetic traffic
# (tests, load tests, smoke checks) that monitoring and the online report leave out
TRAFFIC_KINDS = ("live", "test", "load", "smoke")


def traffic_kind(headers) -> str:
    """The request's `X-Traffic` (one of TRAFFIC_KINDS, case-insensitive), else "live"."""
    kind = (headers.get(TRAFFIC_HEADER) or "live").strip().lower()
    return kind if kind in TRAFFIC_KINDS else "live"


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == HEADER:
            given = value.decode("latin-1")
            if REQUEST_ID.match(given):
                return given
    # a random version-4 UUID from Python's generator: uuid4() reads the OS's random source,
    # a system call per request, and request ids need to be unique, not unguessable
    return uuid.UUID(int=random.getrandbits(128), version=4).hex


class RequestContext:
    """Sets `request.state.request_id`, echoes it as `X-Request-ID` and calls
    `observe(route, method, status, seconds)` when the response is sent (status 500 when the
    app raised before answering)."""

    def __init__(self, app, observe: Callable[[str, str, int, float], None]) -> None:
        self.app, self.observe = app, observe

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        started, status = time.perf_counter(), 500

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                message = message | {"headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = route.path if route is not None else "unmatched"
            self.observe(path, scope["method"], status, time.perf_counter() - started)
