"""Browser fixtures: the real stack (Rasa, action server, hub) and Debian's Chromium driven by
Playwright. ``playwright install`` cannot download browsers here, so we launch /usr/bin/chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from tests.conftest import run_full_stack

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AGENT_PASSWORD = "browser-secret-pass"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@pytest.fixture(scope="package")
def chromium():
    """Package-scoped: Playwright's sync API keeps an event loop marked as running in this thread
    while it lives, which would break ``asyncio.run`` in the tests that follow (tests/hub)."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def web_stack(settings, tmp_path_factory):
    yield from run_full_stack(settings, tmp_path_factory, AGENT_PASSWORD)


@pytest.fixture
def context(chromium, request):
    """A fresh browser profile (own localStorage) per test; console errors fail the test."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    yield ctx
    ctx.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class AgentApi:
    """The demo agent through the hub's API, to set up a scene (presence) before the browser acts."""

    def __init__(self, hub_url: str, user: str) -> None:
        self.hub_url = hub_url
        token = requests.post(
            f"{hub_url}/api/agent/login", json={"username": user, "password": AGENT_PASSWORD}, timeout=10
        ).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def presence(self, value: str) -> None:
        response = requests.post(
            f"{self.hub_url}/api/agent/presence", json={"presence": value}, headers=self.headers, timeout=10
        )
        response.raise_for_status()


@pytest.fixture
def agent_api(web_stack) -> AgentApi:
    return AgentApi(web_stack.hub_url, web_stack.demo_agent_user)
