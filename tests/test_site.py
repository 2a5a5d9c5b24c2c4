"""The static course site (`make site`) in a real browser: no kernel, no server-side code.

By default the site of a small fixture notebook (tests/fixtures/site/) is built with
docs/site/build.py, exactly as `make site` builds the course; with SITE_DIR=build/site the test
takes a site already built (the whole course, after `make site`). The site is served by Python's
plain static file server on 127.0.0.1 and opened in headless Debian chromium, where every
request that would leave 127.0.0.1 is blocked and reported. On every page: the explorers mount
from the saved widget state, each holds a picture for every setting, and every slider (keys and
a mouse drag), checkbox, dropdown and toggle button changes the picture. The site also works when
opened from a plain folder (file://). A planted page proves the request guard is not vacuous.
"""

from __future__ import annotations

import functools
import html.parser
import importlib.util
import io
import math
import os
import re
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser.lab import Chromium, skip_reason

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("site")]

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "site" / "fixture_site.ipynb"
STEP_MS = 10_000  # one control change to a new picture painted (no kernel: milliseconds)


def _load_builder():
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "docs" / "site" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("SITE_DIR")
    if given:
        path = Path(given).resolve()
        assert (path / "index.html").is_file(), f"SITE_DIR={given} holds no built site"
        return path
    out = tmp_path_factory.mktemp("site") / "site"
    _load_builder().build([FIXTURE], out)
    return out


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def chromium():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with Chromium() as browser:
        yield browser


class Guard:
    """A page whose requests may reach 127.0.0.1 (and data:, blob:, file:) only: any other
    request is aborted and recorded, as are page errors and console errors."""

    LOCAL = {"data", "blob", "file", "about"}

    def __init__(self, chromium: Chromium):
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page = chromium.new_page()
        self.page.set_default_timeout(30_000)
        self.page.context.route("**/*", self._route)
        self.page.on("request", self._seen)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console error: {m.text}"))

    def _local(self, url: str) -> bool:
        parts = urlparse(url)
        return parts.scheme in self.LOCAL or parts.hostname == "127.0.0.1"

    def _route(self, route) -> None:
        if self._local(route.request.url):
            route.continue_()
        else:
            route.abort()

    def _seen(self, request) -> None:
        if not self._local(request.url) and request.url not in self.outside:
            self.outside.append(request.url)

    def open(self, url: str, widgets: bool = True) -> None:
        """Load ``url``; with ``widgets``, wait until the page's widgets are mounted."""
        self.page.goto(url)
        if widgets:
            self.page.wait_for_function(
                "() => window.__siteWidgets && window.__siteWidgets.ready")

    def close(self) -> None:
        self.page.context.close()


@pytest.fixture
def guard(chromium):
    g = Guard(chromium)
    yield g
    g.close()


# ------------------------------------------------------------------------- the built files
class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.refs.append((tag, value))


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.glob("*.html") if p.name != "index.html")


def _explorers_listed(site: Path) -> dict[str, int]:
    """{page: explorer count} as the index lists them."""
    index = (site / "index.html").read_text(encoding="utf-8")
    return {m[0]: int(m[1]) for m in
            re.findall(r'<li><a href="([^"]+)">[^<]*</a><span class="meta">(\d+) slider explorer', index)}


def test_site_files(site):
    """The index links every page; no page refers to another host or shows hidden tests; a
    reader without JavaScript still sees each explorer's picture."""
    pages = _pages(site)
    assert pages, f"no page was built in {site}"
    listed = _explorers_listed(site)
    assert sorted(listed) == [p.name for p in pages]
    assert all("<math" in p.read_text(encoding="utf-8") for p in pages), "no formula as MathML"
    for page in [site / "index.html", *pages]:
        text = page.read_text(encoding="utf-8")
        links = _Links()
        links.feed(text)
        for tag, ref in links.refs:
            scheme = urlparse(ref).scheme
            if tag == "a" and scheme in ("http", "https", "mailto"):
                continue  # a link the reader may follow, not something the page loads
            assert scheme in ("", "data"), f"{page.name}: <{tag}> loads {ref[:80]!r}"
            if scheme == "" and not ref.startswith("#"):
                assert (page.parent / ref.split("#")[0]).exists(), f"{page.name}: {ref} missing"
        unread = re.findall(r'<(?:code|pre) class="tex">(.*?)</', text, re.S)
        assert not unread, f"{page.name}: formulas left as TeX (not MathML): {unread[:3]}"
        for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION"):
            assert marker not in text, f"{page.name} shows nbgrader's {marker!r}"
        if page.name in listed:
            pictures = len(re.findall(r'class="idnn-explorer-fallback"><img [^>]*src="data:image/',
                                      text))
            assert pictures == listed[page.name], (
                f"{page.name}: {pictures} still picture(s) for {listed[page.name]} explorer(s)")


# ------------------------------------------------------------------------- in the browser
JS_EXPLORERS = """() => Array.from(document.querySelectorAll('.idnn-explorer')).map(e => {
  const id = e.closest('.site-widget').dataset.modelId;
  const m = window.__siteWidgets.models[id];
  return {id, frames: Object.keys(m.get('frames') || {}).length,
          options: (m.get('controls') || []).map(c => c.options.length),
          labels: (m.get('controls') || []).map(c => c.label)};
})"""


def _is_blank(png: bytes) -> bool:
    from PIL import Image

    lo, hi = Image.open(io.BytesIO(png)).convert("L").getextrema()
    return hi - lo < 8


class ExplorerDriver:
    """Drives the k-th explorer of a page and checks that each change paints a new picture."""

    def __init__(self, page, k: int):
        self.page, self.k = page, k
        self.root = page.locator(".idnn-explorer").nth(k)
        self.img = self.root.locator("img.idnn-frame")
        self.failures: list[str] = []

    def step(self, what: str, act) -> None:
        before_src = self.img.get_attribute("src") or ""
        before_png = self.img.screenshot()
        act()
        try:
            self.page.wait_for_function(
                """([k, old]) => {
                     const root = document.querySelectorAll('.idnn-explorer')[k];
                     const img = root.querySelector('img.idnn-frame');
                     return root.dataset.state !== undefined && (root.dataset.state !== 'shown'
                       || (img.src !== old && img.complete && img.naturalWidth > 0));
                   }""", arg=[self.k, before_src], timeout=STEP_MS, polling="raf")
        except Exception:  # noqa: BLE001 (playwright's timeout): reported as a failure
            self.failures.append(f"{what}: no new picture within {STEP_MS / 1000:.0f} s")
            return
        state = self.root.get_attribute("data-state")
        if state != "shown":
            status = self.root.locator(".idnn-status").inner_text()
            self.failures.append(f"{what}: the explorer is {state!r} ({status!r})")
            return
        after = self.img.screenshot()
        if after == before_png:
            self.failures.append(f"{what}: a new picture came but it looks the same")
        elif _is_blank(after):
            self.failures.append(f"{what}: the new picture is blank")

    def sliders(self) -> None:
        ranges = self.root.locator("input[type=range]")
        for j in range(ranges.count()):
            r = ranges.nth(j)
            label = r.get_attribute("aria-label") or f"slider {j + 1}"
            value, top = int(r.input_value()), int(r.get_attribute("max"))
            key, back = ("ArrowRight", "ArrowLeft") if value < top else ("ArrowLeft", "ArrowRight")
            self.step(f"{label!r} {key}", lambda r=r, key=key: r.press(key))
            if int(r.input_value()) == value:
                self.failures.append(f"{label!r}: {key} did not move it")
            self.step(f"{label!r} {back}", lambda r=r, key=back: r.press(key))
            target = 0.9 if value < top / 2 else 0.1
            self.step(f"{label!r} dragged to {target:.0%}", lambda r=r, t=target: self._drag(r, t))

    def _drag(self, r, fraction: float) -> None:
        box = r.bounding_box()
        value, top = int(r.input_value()), max(int(r.get_attribute("max")), 1)
        y = box["y"] + box["height"] / 2
        x0 = box["x"] + 8 + (box["width"] - 16) * value / top  # the thumb's centre
        mouse = self.page.mouse
        mouse.move(x0, y)
        mouse.down()
        mouse.move(box["x"] + 8 + (box["width"] - 16) * fraction, y, steps=8)
        mouse.up()

    def other_controls(self) -> None:
        for j in range(self.root.locator("input[type=checkbox]").count()):
            cb = self.root.locator("input[type=checkbox]").nth(j)
            self.step(f"checkbox {j + 1}", cb.click)
            self.step(f"checkbox {j + 1} back", cb.click)
        for j in range(self.root.locator("select").count()):
            sel = self.root.locator("select").nth(j)
            now = sel.input_value()
            other = next(v for v in sel.locator("option").evaluate_all(
                "os => os.map(o => o.value)") if v != now)
            self.step(f"dropdown {j + 1} -> {other}", lambda s=sel, v=other: s.select_option(v))
            self.step(f"dropdown {j + 1} back", lambda s=sel, v=now: s.select_option(v))
        groups = self.root.locator(".idnn-buttons")
        for j in range(groups.count()):
            buttons = groups.nth(j).locator("button")
            on = next(i for i in range(buttons.count())
                      if "idnn-on" in (buttons.nth(i).get_attribute("class") or ""))
            off = (on + 1) % buttons.count()
            self.step(f"toggle {buttons.nth(off).inner_text()!r}", buttons.nth(off).click)
            self.step(f"toggle {buttons.nth(on).inner_text()!r}", buttons.nth(on).click)


def check_page(guard: Guard, url: str, expected: int) -> list[str]:
    """Every explorer of the page mounted, complete and answering every control."""
    guard.open(url)
    problems = [f"widget error: {e}" for e in guard.page.evaluate("window.__siteWidgets.errors")]
    found = guard.page.evaluate(JS_EXPLORERS)
    if len(found) != expected:
        problems.append(f"{len(found)} explorer(s) running in the page, {expected} listed")
    shown_twice = guard.page.locator(".idnn-explorer-fallback img:visible").count()
    if shown_twice:
        problems.append(f"{shown_twice} explorer picture(s) for readers without JavaScript "
                        "still visible beside the live explorers")
    for k, ex in enumerate(found):
        settings = math.prod(ex["options"])
        if ex["frames"] != settings:
            problems.append(f"explorer {k + 1} ({', '.join(ex['labels'])}): {ex['frames']} "
                            f"pictures for {settings} settings")
        driver = ExplorerDriver(guard.page, k)
        driver.sliders()
        driver.other_controls()
        problems += [f"explorer {k + 1}: {f}" for f in driver.failures]
    return problems + guard.errors + [f"request left 127.0.0.1: {u}" for u in guard.outside]


def test_every_explorer_works_on_the_served_site(site, server, chromium, subtests):
    listed = _explorers_listed(site)
    assert sum(listed.values()), "the site shows no explorer: nothing to test"
    for name, expected in listed.items():
        with subtests.test(msg=name):
            g = Guard(chromium)
            try:
                problems = check_page(g, f"{server}/{name}", expected)
            finally:
                g.close()
            assert not problems, f"{name}:\n" + "\n".join(problems)


def test_the_site_opens_from_a_folder(site, guard):
    """file://: the index links the pages and an explorer's slider still switches pictures."""
    name, expected = next((n, c) for n, c in _explorers_listed(site).items() if c)
    guard.open((site / "index.html").as_uri(), widgets=False)
    guard.page.locator(f'a[href="{name}"]').click()
    guard.page.wait_for_function("() => window.__siteWidgets && window.__siteWidgets.ready")
    assert len(guard.page.evaluate(JS_EXPLORERS)) == expected
    driver = ExplorerDriver(guard.page, 0)
    r = driver.root.locator("input[type=range]").first
    driver.step("first slider, key", lambda: r.press(
        "ArrowLeft" if r.input_value() == r.get_attribute("max") else "ArrowRight"))
    assert not driver.failures and not guard.errors and not guard.outside, (
        driver.failures, guard.errors, guard.outside)


def test_requests_to_other_hosts_are_caught(tmp_path, chromium):
    """The guard is not vacuous: a page that loads a script and a picture from elsewhere (as a
    widget embedder from a CDN would) is reported."""
    (tmp_path / "planted.html").write_text(
        "<html><body><img src='http://203.0.113.9/x.png'>"
        "<script src='https://cdn.example.invalid/embed.js'></script></body></html>")
    g = Guard(chromium)
    try:
        g.open((tmp_path / "planted.html").as_uri(), widgets=False)
        assert {urlparse(u).hostname for u in g.outside} == {"203.0.113.9",
                                                             "cdn.example.invalid"}, g.outside
    finally:
        g.close()
