"""Micro-batching: price the listings of concurrent requests in one model call.

A model call on 32 listings costs little more than on one (the text features and both models are
vectorised), so under load one worker thread takes every request that arrived within
`max_wait` seconds of the first (up to `max_rows` listings), prices them together with the model
being served at that moment, and hands each request its own slice. An idle service answers a
lone request after at most `max_wait`. The event loop never runs the model.
"""

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sklearn

from price_alchemy.model.features import listing_columns
from price_alchemy.serving.models import ModelHolder, ServedModel


class NoModelLoaded(RuntimeError):
    """No model is being served yet."""


class BatcherClosed(RuntimeError):
    """The service is shutting down: no new listings are priced."""


@dataclass(frozen=True)
class Priced:
    model: ServedModel
    price: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @cached_property
    def ranges(self) -> list[tuple[float, float, float]]:
        """(price, low, high) per listing, as Python floats."""
        return list(zip(self.price.tolist(), self.low.tolist(), self.high.tolist(), strict=True))


@dataclass
class _Job:
    listings: list[dict]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


class PredictionBatcher:
    def __init__(
        self,
        holder: ModelHolder,
        max_rows: int = 2048,
        max_wait: float = 0.002,
        on_batch: Callable[[int], None] = lambda requests: None,
    ):
        self.holder, self.max_rows, self.max_wait = holder, max_rows, max_wait
        self.on_batch = on_batch
        self._jobs: queue.Queue = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)
        self._thread.start()

    async def price(self, listings: list[dict]) -> Priced:
        """Price one request's listings (dicts of LISTING_FIELDS), batched with others;
        BatcherClosed once `close` was called."""
        if self._closed:
            raise BatcherClosed("the service is shutting down")
        loop = asyncio.get_running_loop()
        job = _Job(listings, loop.create_future(), loop)
        self._jobs.put(job)
        return await job.future

    def close(self) -> None:
        """Price what is queued, then stop the worker; later requests get BatcherClosed."""
        self._closed = True
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _collect(self, first: _Job) -> list[_Job]:
        jobs, rows = [first], len(first.listings)
        deadline = time.monotonic() + self.max_wait
        while rows < self.max_rows:
            try:
                job = self._jobs.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if job is None:
                self._jobs.put(None)  # stop after this batch
                break
            jobs.append(job)
            rows += len(job.listings)
        return jobs

    def _run(self) -> None:
        while (first := self._jobs.get()) is not None:
            jobs = self._collect(first)
            self.on_batch(len(jobs))
            try:
                results = self._predict(jobs)
            except Exception as error:  # every waiting request gets the error
                for job in jobs:
                    job.loop.call_soon_threadsafe(_settle, job.future, None, error)
                continue
            for job, result in zip(jobs, results, strict=True):
                job.loop.call_soon_threadsafe(_settle, job.future, result, None)

    def _predict(self, jobs: list[_Job]) -> list[Priced]:
        model = self.holder.current
        if model is None:
            raise NoModelLoaded("no model is loaded: train and register a champion first")
        columns = listing_columns([listing for job in jobs for listing in job.listings])
        # the features are built by our own steps, so scikit-learn's per-call checks of its
        # inputs and arguments (a few milliseconds a call) only repeat what is known
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            price, low, high = model.predict_range(columns)
        results, start = [], 0
        for job in jobs:
            end = start + len(job.listings)
            results.append(Priced(model, price[start:end], low[start:end], high[start:end]))
            start = end
        return results


def _settle(future: asyncio.Future, result, error) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
