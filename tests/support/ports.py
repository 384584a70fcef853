"""Loopback ports for the servers the tests start. A port the OS calls free can be taken by
another process before our server binds it (an outgoing connection's ephemeral port, another
test worker's server): `on_free_port` starts again on a new port when that happens."""

import socket
from collections.abc import Callable
from typing import TypeVar

HOST = "127.0.0.1"
T = TypeVar("T")


class PortTaken(RuntimeError):
    """The server could not bind its port: another process took it first."""


def free_port() -> int:
    """A TCP port free on loopback right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def on_free_port(start: Callable[[int], T], attempts: int = 3) -> T:
    """`start(port)` on a free port; again on a new one while it raises PortTaken."""
    for attempt in range(1, attempts + 1):
        try:
            return start(free_port())
        except PortTaken:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def says_port_taken(text: str) -> bool:
    """Whether a server's output says its address was in use."""
    return "address already in use" in text.lower()
