"""A bounded HTTP load generator, run as its own process next to the server under test.

    python benchmarks/load_generator.py --url URL --body FILE --concurrency 32 \
        --requests 2000 --seconds 30

POSTs the JSON in FILE with `concurrency` requests in flight until `requests` were sent or
`seconds` passed, whichever comes first, over keep-alive connections. Prints one JSON object:
{"requests", "errors", "seconds", "rps", "p50_ms", "p99_ms", "max_ms"} (latencies of the
successful requests; rps counts them).
"""

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx
import numpy as np


async def _worker(client, url, body, deadline, budget, latencies, errors) -> None:
    while budget["left"] > 0 and time.monotonic() < deadline:
        budget["left"] -= 1
        started = time.perf_counter()
        try:
            response = await client.post(url, content=body)
            ok = response.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append(time.perf_counter() - started)
        else:
            errors.append(1)


async def run(url: str, body: bytes, concurrency: int, requests: int, seconds: float) -> dict:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json"}
    latencies: list[float] = []
    errors: list[int] = []
    budget = {"left": requests}
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=60) as client:
        started = time.monotonic()
        deadline = started + seconds
        workers = [
            _worker(client, url, body, deadline, budget, latencies, errors)
            for _ in range(concurrency)
        ]
        await asyncio.gather(*workers)
        elapsed = time.monotonic() - started
    ms = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", type=Path, required=True, help="a file with the JSON body")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    body = args.body.read_bytes()
    result = asyncio.run(run(args.url, body, args.concurrency, args.requests, args.seconds))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
