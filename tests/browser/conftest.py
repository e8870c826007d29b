"""Browser journeys: Debian's chromium driven by playwright against a live test server.

Screenshots of key pages land in screenshots/ (git-ignored) for a reviewer to look at;
`make screenshots` runs only these tests. Skipped with a reason where /usr/bin/chromium
is not installed (CI installs it).

The demo city is seeded once per process (xdist worker) in a database the live server
thread can see, snapshotted (tests/snapshot.py), and put back before each later test: a
test sees exactly the seeded city, never another test's rows. pytest-django's live_server
needs committed rows, so these tests run as transactional tests and the tables are
emptied after each one: nothing leaks into other tests, and `-n 2` (xdist) works because
every worker has its own test database, its own snapshot and its own live server.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection

from tests.snapshot import Snapshot

# playwright's sync API runs an event loop in this thread; the Django calls the tests make
# around it (fixtures, the ORM) are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
AXE = next(iter(sorted((ROOT / "static" / "vendor").glob("axe-core-*/axe.min.js"))), None)
DEMO_PASSWORD = "unionportal-demo"
WORKER_USERNAME = "13912345678"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# Page weight budget per page load, all assets included, as a compressing server sends it.
PAGE_BUDGET = 300 * 1024
# What WhiteNoise (and nginx) compress; images and fonts (woff2) are sent as they are.
COMPRESSIBLE = re.compile(r"text/|javascript|json|xml|svg")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield browser
        browser.close()


# The seeded demo city of this process (one per xdist worker: each has its own database).
_DEMO: dict[str, Snapshot] = {}


@pytest.fixture
def demo(live_server, settings):
    """The seeded demo city (logins admin, city, pudong, huangpu, street) and a worker.

    Seeded once per process and snapshotted; each later test gets the snapshot put back
    (every table emptied and refilled, caches cleared): the same city, none of the rows
    an earlier test wrote.
    """
    # Every state and every login, a tenth of the members.
    settings.DEMO_MEMBER_FRACTION = 0.1
    for cache in caches.all():
        cache.clear()
    snapshot = _DEMO.get(connection.settings_dict["NAME"])
    if snapshot is not None:
        snapshot.restore()
        return live_server
    from organizations.models import User

    call_command("seed_demo", verbosity=0)
    worker = User(username=WORKER_USERNAME, display_name="张小明", kind=User.Kind.WORKER)
    worker.set_password(DEMO_PASSWORD)
    worker.save()
    _DEMO[connection.settings_dict["NAME"]] = Snapshot().take()
    return live_server


class Console:
    """Errors the page reported: script errors, CSP refusals, failed assets and fragments.

    A page itself may answer 400 (a form with errors) or 404 (out of reach) on purpose;
    those are checked by the tests, so only failed sub-requests count here.
    """

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("response", self._response)

    def _console(self, msg) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            self.errors.append(msg.text)

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.status} {response.url}")


def _context(browser, viewport, **extra):
    options = {"viewport": viewport, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
    if viewport == PHONE:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    options.update(extra)
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def desktop(browser):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    page.console = Console(page)
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = _context(browser, PHONE)
    page = context.new_page()
    page.console = Console(page)
    yield page
    context.close()


@pytest.fixture
def audit_desktop(browser):
    """A desktop page that may inject axe-core (the strict CSP would refuse the script)."""
    context = _context(browser, DESKTOP, bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def audit_phone(browser):
    context = _context(browser, PHONE, bypass_csp=True)
    yield context.new_page()
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page PNG under screenshots/ and return its path."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # Toasts fade out on a timer; a screenshot of the page should not depend on when it ran.
    page.screenshot(path=str(path), full_page=True, animations="disabled", scale="css")
    return path


def login(page, live_server, username: str, password: str = DEMO_PASSWORD):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


# --- page weight ------------------------------------------------------------------------


@dataclass
class PageWeight:
    url: str
    raw: int = 0
    encoded: int = 0
    files: list[tuple[str, int, int]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.url}: {self.encoded / 1024:.1f} KB compressed ({self.raw / 1024:.1f} KB raw)"]
        lines += [f"  {enc / 1024:7.1f} KB  {raw / 1024:7.1f} KB  {name}" for name, raw, enc in self.files]
        return "\n".join(lines)


def page_weight(page, url: str) -> PageWeight:
    """Load `url` in `page` (fresh cache) and total the bytes of every response it needed.

    The live server sends everything uncompressed; a deployment serves text through
    WhiteNoise's pre-compressed files or nginx's gzip, so text responses count at their
    gzip size (level 6, what both use), and images and woff2 fonts at their own size.
    """
    # Every page as a first visit would load it: no asset from an earlier page's cache.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    responses = []

    def collect(response):
        responses.append(response)

    page.on("response", collect)
    try:
        page.goto(url)
        page.wait_for_load_state("networkidle")
    finally:
        page.remove_listener("response", collect)
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        cdp.detach()
    weight = PageWeight(url=url)
    for response in responses:
        if 300 <= response.status < 400:
            continue
        sizes = response.request.sizes()
        raw = max(sizes["responseBodySize"], 0)
        if COMPRESSIBLE.search(response.headers.get("content-type", "")):
            encoded = len(gzip.compress(response.body(), 6))
        else:
            # Chromium does not hand out the bodies of fonts; they travel as they are anyway.
            encoded = raw
        encoded += sizes["responseHeadersSize"]
        weight.raw += raw
        weight.encoded += encoded
        weight.files.append(("/" + response.url.split("/", 3)[-1], raw, encoded))
    return weight


# --- accessibility ----------------------------------------------------------------------


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2 A/AA rules and best practices) on the page: all its violations."""
    if AXE is None:
        pytest.fail("axe-core is not vendored under static/vendor/axe-core-<version>/")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || ''))}));
        }"""
    )
    return result


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def format_violations(violations: list[dict]) -> str:
    return "\n".join(f"[{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations)
