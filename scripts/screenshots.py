"""The README's screenshots of the seller page, taken from a real served page.

Starts `price-alchemy serve` on a free loopback port against the state directory of the
environment (`PRICE_ALCHEMY_HOME`: it needs a champion, from `make demo` or `make train`), or
uses `--url` of a server already running; types a listing into the page in headless Chromium
(`make chromium`) the way a seller would, and writes `seller-page-desktop.png` (1280 wide, the
whole page) and `seller-page-phone.png` (375 wide, the answer) into `--out` (default docs/).

    make screenshots
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000 --out docs
"""

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
PHONE_HEIGHT = 1150  # CSS pixels of the answer shown in the phone's picture
MAX_BYTES = 300_000


@contextmanager
def _served(url: str | None) -> Iterator[str]:
    """`url`, or the base URL of `price-alchemy serve` started here until the block ends."""
    if url:
        yield url.rstrip("/")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli = str(Path(sys.executable).with_name("price-alchemy"))
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([cli, "serve", "--port", str(port)], stdout=log, stderr=log)
        try:
            yield _wait_ready(f"http://127.0.0.1:{port}", server, log)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_ready(base_url: str, server: subprocess.Popen, log) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return base_url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    log.seek(0)
    raise SystemExit(f"the API did not become ready:\n{log.read().decode()[-3000:]}")


def _fill(page, touch: bool) -> None:
    """The listing of the README's example, typed and picked as a seller would."""
    page.locator("body[data-categories]").wait_for()
    page.get_by_label("Title").fill("Nike Air Max 90 running shoes size 10")
    page.get_by_label("Description").fill("Worn twice, like new, original box.")
    category = page.get_by_role("combobox", name="Category")
    category.click()
    category.press_sequentially("shoes athletic")
    for _ in range(20):
        category.press("ArrowDown")
        active = page.locator(f"#{category.get_attribute('aria-activedescendant')}")
        if active.get_attribute("data-path") == "Men/Shoes/Athletic":
            break
    category.press("Enter")
    brand = page.get_by_role("combobox", name="Brand")
    brand.click()
    brand.press_sequentially("ni")
    nike = page.get_by_role("option", name=re.compile(r"^Nike \d"))
    if touch:
        nike.tap()
    else:
        nike.click()
    page.get_by_label("Condition").select_option(label="Like new")
    page.get_by_label("Shipping").select_option(label="I pay")
    page.get_by_role("button", name="Suggest a price").click()
    page.locator("#result").wait_for(state="visible", timeout=15_000)


def _shrink(path: Path) -> None:
    """A palette PNG when the full-colour one is over MAX_BYTES."""
    if path.stat().st_size <= MAX_BYTES:
        return
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def take(base_url: str, out: Path) -> list[Path]:
    """Both screenshots of the page at `base_url`, written into `out`."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("chromium is not installed: make chromium")
    out.mkdir(parents=True, exist_ok=True)
    desktop, phone = out / "seller-page-desktop.png", out / "seller-page-phone.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_context(**DESKTOP).new_page()
        page.goto(base_url)
        _fill(page, touch=False)
        page.screenshot(path=desktop, full_page=True, animations="disabled")
        page = browser.new_context(**PHONE).new_page()
        page.goto(base_url)
        _fill(page, touch=True)
        top = page.evaluate("document.getElementById('result').getBoundingClientRect().top")
        top += page.evaluate("window.scrollY") - 12
        clip = {"x": 0, "y": top, "width": 375, "height": PHONE_HEIGHT}
        page.screenshot(path=phone, full_page=True, clip=clip, animations="disabled")
        browser.close()
    for path in (desktop, phone):
        _shrink(path)
    return [desktop, phone]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server's base URL (default: start one here)")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder of the PNGs")
    args = parser.parse_args()
    with _served(args.url) as base_url:
        for path in take(base_url, args.out):
            print(f"{path} ({path.stat().st_size // 1000} KB)")


if __name__ == "__main__":
    main()
