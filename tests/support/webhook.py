"""A real webhook receiver on loopback for the alert tests: an HTTP server in a thread that keeps
every JSON body posted to it (Apprise's `json://` URLs post one per alert), and can be told to
answer 500 to see a failed delivery. It binds port 0, so no port can be taken before it."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.failing = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not receiver.failing:
                    receiver.bodies.append(body)
                self.send_response(500 if receiver.failing else 200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        """The Apprise URL that posts alerts here as JSON."""
        return f"json://127.0.0.1:{self.server.server_port}/alerts"

    def messages(self) -> list[str]:
        return [f"{body.get('title')}\n{body.get('message')}" for body in self.bodies]


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A running receiver, shut down afterwards."""
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
