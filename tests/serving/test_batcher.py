"""The request batcher on its own: concurrent requests of different listings each get their
own prices back, slice by slice; a failed model call fails every request of its batch and no
other; batches hold at most `max_rows` listings; closing prices what is queued and refuses what
comes after. The model is a stand-in whose price is written in each listing's title, so a
slice handed to the wrong request shows."""

import asyncio
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from price_alchemy.serving.batcher import BatcherClosed, NoModelLoaded, PredictionBatcher
from price_alchemy.serving.models import ModelHolder


class TitlePriced:
    """Prices each listing at the number its title ends with; records each call's rows."""

    info = SimpleNamespace(name="title-priced", version="7")

    def __init__(self, fail_when=lambda titles: False, delay: float = 0.0) -> None:
        self.calls: list[int] = []
        self.fail_when, self.delay = fail_when, delay

    def predict_range(self, columns: dict) -> tuple:
        titles = columns["name"]
        self.calls.append(len(titles))
        if self.delay:
            threading.Event().wait(self.delay)
        if self.fail_when(titles):
            raise RuntimeError(f"model failed on {len(titles)} listings")
        price = np.array([float(title.rsplit(" ", 1)[1]) for title in titles])
        return price, price - 0.5, price + 0.5


def _listing(number: int) -> dict:
    return {
        "name": f"item {number}",
        "item_condition_id": 1,
        "category_name": None,
        "brand_name": None,
        "shipping": 0,
        "item_description": None,
    }


def _batcher(model, **options) -> PredictionBatcher:
    holder = ModelHolder()
    holder.current = model
    return PredictionBatcher(holder, **options)


async def _price_all(batcher: PredictionBatcher, requests: list[list[int]]) -> list:
    return await asyncio.gather(
        *(batcher.price([_listing(n) for n in numbers]) for numbers in requests),
        return_exceptions=True,
    )


def test_concurrent_requests_of_different_listings_each_get_their_own_prices():
    model = TitlePriced(delay=0.01)  # slow enough that requests queue up behind a batch
    batcher = _batcher(model, max_wait=0.005)
    requests = [[100 * r + j for j in range(1 + r % 4)] for r in range(60)]
    try:
        results = asyncio.run(_price_all(batcher, requests))
    finally:
        batcher.close()
    for numbers, priced in zip(requests, results, strict=True):
        assert priced.price.tolist() == [float(n) for n in numbers]
        assert priced.low.tolist() == [n - 0.5 for n in numbers]
        assert priced.high.tolist() == [n + 0.5 for n in numbers]
        assert priced.model is model
    assert len(model.calls) < len(requests)  # they were batched
    assert sum(model.calls) == sum(map(len, requests))


def test_a_failed_model_call_fails_its_batch_only():
    model = TitlePriced(fail_when=lambda titles: "item 13" in titles)
    batcher = _batcher(model, max_wait=0.05)
    try:
        first = asyncio.run(_price_all(batcher, [[1], [13], [2]]))
        after = asyncio.run(_price_all(batcher, [[3]]))
    finally:
        batcher.close()
    assert [type(r) for r in first] == [RuntimeError] * 3  # one batch, one error for all
    assert "model failed on 3 listings" in str(first[0])
    assert after[0].price.tolist() == [3.0]  # the worker lives on


def test_a_batch_holds_at_most_max_rows_listings():
    model = TitlePriced(delay=0.01)
    batcher = _batcher(model, max_rows=4, max_wait=0.05)
    try:
        results = asyncio.run(_price_all(batcher, [[n] for n in range(23)]))
    finally:
        batcher.close()
    assert [r.price.tolist() for r in results] == [[float(n)] for n in range(23)]
    assert max(model.calls) <= 4 and sum(model.calls) == 23


def test_without_a_model_every_request_is_told_so():
    batcher = PredictionBatcher(ModelHolder())
    try:
        results = asyncio.run(_price_all(batcher, [[1], [2]]))
    finally:
        batcher.close()
    assert all(isinstance(r, NoModelLoaded) for r in results)


def test_close_prices_what_is_queued_and_refuses_what_comes_after():
    model = TitlePriced(delay=0.02)
    batcher = _batcher(model, max_rows=2, max_wait=0.001)

    async def scenario():
        pending = [asyncio.ensure_future(batcher.price([_listing(n)])) for n in range(10)]
        await asyncio.sleep(0)  # every request is queued
        closing = asyncio.get_running_loop().run_in_executor(None, batcher.close)
        done = await asyncio.gather(*pending)
        await closing
        with pytest.raises(BatcherClosed):
            await batcher.price([_listing(99)])
        return done

    done = asyncio.run(scenario())
    assert [d.price.tolist() for d in done] == [[float(n)] for n in range(10)]
    assert not batcher._thread.is_alive()
