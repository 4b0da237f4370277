"""Access to the shared seed articles (real scraped news, kept outside the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def seed_path(prefix: str) -> Path:
    """The seed file whose name starts with `prefix` (e.g. "000")."""
    matches = sorted(SEEDS_DIR.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"seed {prefix} not found in {SEEDS_DIR}")
    return matches[0]


def seed_text(prefix: str) -> str:
    return seed_path(prefix).read_text(encoding="utf-8")
