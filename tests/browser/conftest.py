"""A real browser for the dashboard tests: Debian's chromium driven by
Playwright (its own browser download cannot work here). Never skipped: CI
installs chromium (`make browser`); a missing one fails loudly."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

CHROMIUM = os.environ.get("NEWSMON_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS_DIR = os.environ.get("NEWSMON_SCREENSHOTS_DIR")  # read now: some tests clear NEWSMON_* later


@pytest_asyncio.fixture
async def browser() -> AsyncIterator:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def screenshot(tmp_path):
    """`await screenshot(page, "alerts")`: a PNG under the test's tmp dir, and
    under $NEWSMON_SCREENSHOTS_DIR too when set (docs/screenshots for README)."""
    extra = SCREENSHOTS_DIR

    async def take(page, name: str) -> Path:
        path = tmp_path / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(path), full_page=True)
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return path

    return take
