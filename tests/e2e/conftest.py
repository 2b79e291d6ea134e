"""Debian's headless Chromium, driven by Playwright, against the real `kiosk run` processes of tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.support.screens import CHROMIUM, CHROMIUM_ARGS
from tests.support.tools import require_tool


@pytest.fixture(scope='module')
def browser():
    """Per module: sync Playwright keeps an event loop running while it is open, which async tests cannot share."""
    require_tool(str(CHROMIUM), 'chromium chromium-driver', 'KIOSK_REQUIRE_BROWSER')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A kiosk-sized page in a fresh context (no cookies, storage or history from other tests)."""
    context = browser.new_context(viewport={'width': 1280, 'height': 800})
    page = context.new_page()
    yield page
    context.close()
