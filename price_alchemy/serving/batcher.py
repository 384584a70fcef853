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
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from price_alchemy.model.column_values import Columns
from price_alchemy.model.features import listing_columns
from price_alchemy.model.served_predict import checks_off
from price_alchemy.serving.experiment import CHALLENGER, CHAMPION
from price_alchemy.serving.models import ModelHolder, ServedModel


class NoModelLoaded(RuntimeError):
    """No model is being served yet."""


class BatcherClosed(RuntimeError):
    """The service is shutting down: no new listings are priced."""


@dataclass(frozen=True)
class Priced:
    """One request's answers: the champion that was serving, each listing's price and range,
    which arm and version priced it, and in shadow mode the challenger's own prices."""

    model: ServedModel
    price: np.ndarray
    low: np.ndarray
    high: np.ndarray
    arms: list[str]
    versions: list[str]
    shadow: "Priced | None" = None
    served: dict[str, ServedModel] = field(default_factory=dict)  # by version: who priced it

    @cached_property
    def ranges(self) -> list[tuple[float, float, float]]:
        """(price, low, high) per listing, as Python floats."""
        return list(zip(self.price.tolist(), self.low.tolist(), self.high.tolist(), strict=True))


@dataclass
class _Job:
    listings: list[dict]
    arms: list[str] | None  # None: every listing meets the champion
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


@dataclass(frozen=True)
class _Models:
    """The models one batch is priced with, taken once so a swap mid-batch changes nothing."""

    champion: ServedModel
    challenger: ServedModel | None
    shadow: bool

    def of(self, arm: str) -> ServedModel:
        return self.challenger if arm == CHALLENGER and self.challenger else self.champion


class PredictionBatcher:
    def __init__(
        self,
        holder: ModelHolder,
        max_rows: int = 2048,
        max_wait: float = 0.002,
        on_batch: Callable[[int], None] = lambda requests: None,
        challenger: ModelHolder | None = None,
        shadow: bool = False,
    ):
        self.holder, self.max_rows, self.max_wait = holder, max_rows, max_wait
        self.challenger, self.shadow = challenger, shadow
        self.on_batch = on_batch
        self._jobs: queue.Queue = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)
        self._thread.start()

    async def price(self, listings: list[dict], arms: list[str] | None = None) -> Priced:
        """Price one request's listings (dicts of LISTING_FIELDS), batched with others, each
        with the model of its arm (`arms`; None: the champion); BatcherClosed once `close`
        was called."""
        if self._closed:
            raise BatcherClosed("the service is shutting down")
        loop = asyncio.get_running_loop()
        job = _Job(listings, arms, loop.create_future(), loop)
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

    def _models(self) -> _Models:
        champion = self.holder.current
        if champion is None:
            raise NoModelLoaded("no model is loaded: train and register a champion first")
        challenger = self.challenger.current if self.challenger is not None else None
        return _Models(champion, challenger, self.shadow and challenger is not None)

    def _predict(self, jobs: list[_Job]) -> list[Priced]:
        models = self._models()
        columns = listing_columns([listing for job in jobs for listing in job.listings])
        arms = _batch_arms(jobs, models)
        with checks_off():
            answered = _price_arms(columns, arms, models)
            shadow = None
            if models.shadow and models.challenger is not None:
                shadow = models.challenger.predict_range(columns)
        return _slices(jobs, models, answered, arms, shadow)


def _batch_arms(jobs: list[_Job], models: _Models) -> list[str]:
    """Each listing's arm; the champion's where there is no challenger to meet."""
    if models.challenger is None or models.shadow:
        return [CHAMPION] * sum(len(job.listings) for job in jobs)
    return [arm for job in jobs for arm in (job.arms or [CHAMPION] * len(job.listings))]


def _price_arms(columns: Columns, arms: list[str], models: _Models) -> tuple:
    """(price, low, high) of every listing, each priced by its arm's model."""
    if CHALLENGER not in arms:
        return models.champion.predict_range(columns)
    price, low, high = (np.empty(len(arms)) for _ in range(3))
    for arm in (CHAMPION, CHALLENGER):
        rows = [i for i, a in enumerate(arms) if a == arm]
        if rows:
            part = {name: [values[i] for i in rows] for name, values in columns.items()}
            price[rows], low[rows], high[rows] = models.of(arm).predict_range(part)
    return price, low, high


def _slices(jobs: list[_Job], models: _Models, answered, arms: list[str], shadow) -> list[Priced]:
    """Each job's own slice of the batch's answers (and of the challenger's shadow prices)."""
    version = {CHAMPION: models.champion.info.version}
    served = {models.champion.info.version: models.champion}
    if models.challenger is not None:
        version[CHALLENGER] = models.challenger.info.version
        served[models.challenger.info.version] = models.challenger
    results, start = [], 0
    for job in jobs:
        part = slice(start, start + len(job.listings))
        seen = None
        if shadow is not None and models.challenger is not None:
            both = [CHALLENGER] * len(job.listings)
            seen = _slice(models.challenger, shadow, both, part, version, served)
        results.append(_slice(models.champion, answered, arms[part], part, version, served, seen))
        start = part.stop
    return results


def _slice(
    model, prices, arms: list[str], part: slice, version: dict, served: dict, shadow=None
) -> Priced:
    price, low, high = (values[part] for values in prices)
    versions = [version[arm] for arm in arms]
    return Priced(model, price, low, high, arms, versions, shadow, served)


def _settle(future: asyncio.Future, result, error) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
