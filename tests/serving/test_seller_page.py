"""The seller page in headless Chromium against a real `price-alchemy serve` of the shared
champion, at a desktop's and a phone's width, driven like a person: the category chosen by
searching its tree and picking a leaf with the keyboard, a brand suggestion picked, the answer
read off the page and checked against the API's own answer for the same listing, the page
checked by axe-core for accessibility, and its errors.

One server and one browser serve the whole module; a result page is made once per width. The
two failures a server with a champion cannot give (no model, no network) are stood in for at
the browser's network edge (`page.route`); every other answer comes from the real server."""

import json
import math
import os
import re
import shutil
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from tests.support.project import serve
from tests.support.scripts import load_script

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ACCESS_LINE = '"POST /v1/price-suggestions HTTP/1.1" 200'


SCREENSHOTS = load_script("screenshots")  # the README's pictures: the same browser sizes
DESKTOP, PHONE = SCREENSHOTS.DESKTOP, SCREENSHOTS.PHONE
CATEGORY, PARENT, BRAND = "Men/Shoes/Athletic", "Men/Shoes", "Nike"
LISTING = {
    "name": "Nike Air Max 90 running shoes size 10",
    "item_description": "Worn twice, like new, original box.",
    "item_condition_id": 2,
    "shipping": 1,
}
# the rounding the page documents: (below this exact price, to the nearest), at least $0.50
ROUNDING = ((20, Decimal("0.5")), (100, Decimal(1)), (500, Decimal(5)), (math.inf, Decimal(10)))


def seller_price(exact: float) -> float:
    """`exact` rounded the way the page says it rounds (halves up)."""
    step = next(step for below, step in ROUNDING if exact < below)
    steps = (Decimal(str(exact)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return float(max(steps * step, ROUNDING[0][1]))


def dollars(text: str) -> float:
    return float(text.strip().lstrip("$").replace(",", ""))


@pytest.fixture(scope="module")
def server(champion_settings, tmp_path_factory):
    """(base URL, server output file) of `price-alchemy serve` of the champion, access log on."""
    folder = tmp_path_factory.mktemp("seller_page")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICE_ALCHEMY")}
    env |= {
        "PRICE_ALCHEMY_HOME": str(champion_settings.home),
        "PRICE_ALCHEMY_PARAMS_FILE": str(champion_settings.params_file),
        "PRICE_ALCHEMY_PREDICTION_LOG_URL": f"sqlite:///{folder / 'predictions.db'}",
        "PRICE_ALCHEMY_MODEL_POLL_SECONDS": "0",
        "PRICE_ALCHEMY_ACCESS_LOG": "true",
    }
    with serve(env, output=folder / "server.log") as base_url:
        yield base_url, folder / "server.log"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "chromium is not installed (make chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def blank_page(browser, server):
    """A fresh seller page at desktop width, its categories loaded."""
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(server[0])
    page.locator("body[data-categories]").wait_for()
    yield page
    context.close()


def _choose_category(page, query: str, path: str) -> None:
    """Search the tree for `query`, walk down it with the arrow keys to `path`, press Enter."""
    box = page.get_by_role("combobox", name="Category")
    box.click()
    box.press_sequentially(query)
    for _ in range(20):
        box.press("ArrowDown")
        active = page.locator(f"#{box.get_attribute('aria-activedescendant')}")
        if active.get_attribute("data-path") == path:
            break
    assert active.get_attribute("role") == "treeitem"
    assert active.get_attribute("aria-expanded") is None  # a leaf
    box.press("Enter")


def _choose_brand(page, prefix: str, name: str, touch: bool) -> None:
    """Type `prefix`, then pick `name` among the suggestions: by touch, or by the keyboard."""
    box = page.get_by_role("combobox", name="Brand")
    box.click()
    box.press_sequentially(prefix)
    option = page.get_by_role("option", name=re.compile(f"^{name}\\b"))
    option.wait_for()
    if touch:
        option.tap()
        return
    for _ in range(10):
        box.press("ArrowDown")
        if option.get_attribute("aria-selected") == "true":
            break
    box.press("Enter")


def _fill_listing(page, touch: bool) -> None:
    page.get_by_label("Title").fill(LISTING["name"])
    page.get_by_label("Description").fill(LISTING["item_description"])
    _choose_category(page, "shoes athletic", CATEGORY)
    _choose_brand(page, BRAND[:2].lower(), BRAND, touch)
    page.get_by_label("Condition").select_option(label="Like new")
    page.get_by_label("Shipping").select_option(label="I pay")


@pytest.fixture(scope="module", params=["desktop", "phone"])
def priced(request, browser, server):
    """(page, the request body it sent, the API's answer to that body) after a seller filled
    the form at this width and pressed the button."""
    phone = request.param == "phone"
    context = browser.new_context(**(PHONE if phone else DESKTOP))
    page = context.new_page()
    page.goto(server[0])
    page.locator("body[data-categories='loaded']").wait_for()
    _fill_listing(page, touch=phone)
    with page.expect_request("**/v1/price-suggestions") as sent:
        page.get_by_role("button", name="Suggest a price").click()
    page.locator("#result").wait_for(state="visible", timeout=10_000)
    body = json.loads(sent.value.post_data)
    answer = httpx.post(f"{server[0]}/v1/price-suggestions", json=body, timeout=30).json()
    yield page, body, answer
    context.close()


def test_the_page_sends_the_listing_as_typed_and_asks_why(priced, server):
    _, body, _ = priced
    assert body == {
        "listings": [LISTING | {"category_name": CATEGORY, "brand_name": BRAND}],
        "explain": True,
    }
    assert ACCESS_LINE in server[1].read_text()  # PRICE_ALCHEMY_ACCESS_LOG=true


def test_the_price_is_rounded_as_documented_beside_the_exact_one(priced):
    page, _, answer = priced
    suggestion = answer["suggestions"][0]
    assert dollars(page.locator("#price").inner_text()) == seller_price(suggestion["price"])
    assert page.locator("#exact").inner_text() == f"${suggestion['price']:,.2f}"
    assert "nearest 50¢ under $20" in page.locator("#rule").inner_text()
    assert page.locator("#model").inner_text() == (
        f"{answer['model_name']} v{suggestion['model_version']}"
    )


def test_the_range_bar_marks_the_suggestion_between_its_ends(priced):
    page, _, answer = priced
    s = answer["suggestions"][0]
    low, high = (dollars(page.locator(f"#{end}").inner_text()) for end in ("low", "high"))
    assert (low, high) == (seller_price(s["low"]), seller_price(s["high"]))
    bar = page.locator("#range").bounding_box()
    marker = page.locator("#range-marker").bounding_box()
    along = (marker["x"] + marker["width"] / 2 - bar["x"]) / bar["width"]
    assert 0 < along < 1
    assert along == pytest.approx((s["price"] - s["low"]) / (s["high"] - s["low"]), abs=0.02)
    ends = (page.locator(f"#{end}").inner_text() for end in ("low", "high"))
    assert "from {} to {}".format(*ends) in page.locator("#range").get_attribute("aria-label")


def test_the_waterfall_has_a_bar_per_factor_from_base_to_price(priced):
    page, _, answer = priced
    factors = answer["suggestions"][0]["factors"]
    assert factors, "the API explained nothing"
    rows = page.locator("#waterfall li.factor")
    assert rows.count() == len(factors)
    for i, factor in enumerate(factors):
        row = rows.nth(i)
        assert row.locator(".wf-label").inner_text() == factor["label"]
        assert f"{abs(factor['percent']):.1f}%" in row.locator(".wf-change").inner_text()
        direction = "up" if factor["dollars"] >= 0 else "down"
        assert direction in row.get_attribute("class").split()
        box = row.locator(".wf-fill").bounding_box()
        assert box["width"] >= 2
    total = page.locator("#waterfall li.total .wf-run").inner_text()
    assert dollars(total) == pytest.approx(answer["suggestions"][0]["price"], abs=0.01)


def test_comparables_are_cards_from_the_chosen_category_or_its_parent(priced):
    page, _, answer = priced
    comparables = answer["suggestions"][0]["comparables"]
    cards = page.locator("#comparables li.card")
    assert cards.count() == len(comparables) >= 1
    for i, item in enumerate(comparables):
        card = cards.nth(i)
        assert card.locator("h4").inner_text() == item["title"]
        category = card.get_attribute("data-category")
        assert category == PARENT or category.startswith(PARENT + "/"), category
        assert f"{round(item['similarity'] * 100)}% similar" in card.inner_text()


def test_nothing_scrolls_sideways(priced):
    page, _, _ = priced
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner


def _serious(page) -> tuple[list[str], str]:
    """axe-core's serious and critical violations on `page`, and a report of every one."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    report = "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}): {[n['target'] for n in v['nodes']]}"
        for v in violations
    )
    return [v["id"] for v in violations if v["impact"] in ("serious", "critical")], report


def test_the_result_has_no_serious_accessibility_violations(priced):
    serious, report = _serious(priced[0])
    assert not serious, report


def test_the_empty_form_has_no_serious_accessibility_violations(blank_page):
    serious, report = _serious(blank_page)
    assert not serious, report


def test_the_rounding_rule_in_the_page(blank_page):
    values = [0.01, 0.2, 3.24, 3.25, 12.74, 19.74, 19.76, 23.47, 23.5, 99.49, 99.5, 100.1]
    values += [102.49, 102.5, 347.4, 499.99, 512, 1234.56]
    rounded = blank_page.evaluate("(values) => values.map(roundPrice)", values)
    assert rounded == [seller_price(v) for v in values]
    assert rounded[:8] == [0.5, 0.5, 3.0, 3.5, 12.5, 19.5, 20.0, 23.0]
    assert rounded[-6:] == [100.0, 105.0, 345.0, 500.0, 510.0, 1230.0]


def test_a_blank_title_is_refused_next_to_the_field(blank_page):
    page = blank_page
    page.get_by_label("Title").fill("   ")
    page.get_by_role("button", name="Suggest a price").click()
    message = page.locator("#name-error")
    message.wait_for()
    assert "Enter a title" in message.inner_text()
    assert page.get_by_label("Title").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "name"
    assert "Title: Enter a title" in page.get_by_role("alert").inner_text()
    assert page.locator("#result").is_hidden()


def test_the_servers_422_shows_next_to_its_field(blank_page):
    page = blank_page
    page.get_by_label("Title").fill("A jacket")
    brand = page.get_by_role("combobox", name="Brand")
    brand.evaluate("box => box.removeAttribute('maxlength')")
    brand.fill("x" * 201)
    with page.expect_response("**/v1/price-suggestions") as answered:
        page.get_by_role("button", name="Suggest a price").click()
    assert answered.value.status == 422
    message = page.locator("#brand_name-error")
    message.wait_for()
    assert "200" in message.inner_text()
    assert brand.get_attribute("aria-invalid") == "true"
    assert page.get_by_role("alert").inner_text().startswith("Please check the listing")


def test_no_model_and_no_network_say_so(blank_page):
    """Stood in for at the browser's edge: the server here always has its champion."""
    page = blank_page
    page.get_by_label("Title").fill("A jacket")
    no_model = {"detail": "no model is loaded: no version has the alias champion"}
    page.route("**/v1/price-suggestions", lambda route: route.fulfill(status=503, json=no_model))
    page.get_by_role("button", name="Suggest a price").click()
    alert = page.get_by_role("alert")
    alert.filter(has_text="No model is being served").wait_for()
    assert "no version has the alias champion" in alert.inner_text()
    page.unroute("**/v1/price-suggestions")
    page.route("**/v1/price-suggestions", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("button", name="Suggest a price").click()
    alert.filter(has_text="Could not reach Price Alchemy").wait_for()


def test_no_category_is_a_choice(blank_page):
    page = blank_page
    page.get_by_label("Title").fill("A jacket")
    box = page.get_by_role("combobox", name="Category")
    box.fill("jacket")  # a search, then the choice to have none
    box.fill("")
    box.press("ArrowDown")
    active = page.locator(f"#{box.get_attribute('aria-activedescendant')}")
    assert active.inner_text() == "No category"
    box.press("Enter")
    assert box.get_attribute("aria-expanded") == "false"
    with page.expect_request("**/v1/price-suggestions") as sent:
        page.get_by_role("button", name="Suggest a price").click()
    page.locator("#result").wait_for(state="visible", timeout=10_000)
    assert json.loads(sent.value.post_data)["listings"][0]["category_name"] is None
