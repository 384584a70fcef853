"""A bounded HTTP load generator, run as its own process next to the server under test.

    python benchmarks/load_generator.py --url URL --body FILE --concurrency 32 \
        --requests 2000 --seconds 30

POSTs the JSON in FILE with `concurrency` requests in flight until `requests` were sent or
`seconds` passed, whichever comes first, over keep-alive connections. Prints one JSON object:
{"requests", "errors", "seconds", "rps", "p50_ms", "p99_ms", "max_ms"} (latencies of the
successful requests; rps counts them), and "steal_pct": the share of the machine's CPU time the
hypervisor gave to other guests during the run (Linux's /proc/stat; null elsewhere). On a
shared VM, bursts of steal stall every request in flight and show up in p99.

The client is aiohttp: on this two-core machine the load generator shares the CPU with the
server it measures, and httpx's client spent about four times aiohttp's CPU per request (at
concurrency 32 it capped the figures at ~165 requests/s, where aiohttp measured ~700).
"""

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp
import numpy as np

HEADERS = {"content-type": "application/json"}


async def _worker(session, url, body, deadline, budget, latencies, errors) -> None:
    while budget["left"] > 0 and time.monotonic() < deadline:
        budget["left"] -= 1
        started = time.perf_counter()
        try:
            async with session.post(url, data=body, headers=HEADERS) as response:
                await response.read()
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if ok:
            latencies.append(time.perf_counter() - started)
        else:
            errors.append(1)


def _cpu_times() -> tuple[int, int] | None:
    """(stolen, total) CPU time of the machine since boot, or None without /proc/stat."""
    try:
        first_line = Path("/proc/stat").read_text().split("\n", 1)[0]
    except OSError:
        return None
    times = [int(value) for value in first_line.split()[1:9]]  # user ... steal
    return times[7], sum(times)


def _steal_pct(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None:
        return None
    return round(100 * (after[0] - before[0]) / max(after[1] - before[1], 1), 1)


async def run(url: str, body: bytes, concurrency: int, requests: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[int] = []
    budget = {"left": requests}
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        cpu_before, started = _cpu_times(), time.monotonic()
        deadline = started + seconds
        workers = [
            _worker(session, url, body, deadline, budget, latencies, errors)
            for _ in range(concurrency)
        ]
        await asyncio.gather(*workers)
        elapsed, cpu_after = time.monotonic() - started, _cpu_times()
    ms = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        "steal_pct": _steal_pct(cpu_before, cpu_after),
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
