"""Compose-based fixtures: every test builds its config from the real tree (conf/) with the
`debug=fast` overrides, CPU, and its own output root under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import make_cfg


@pytest.fixture
def cfg_factory(tmp_path: Path):
    """``cfg_factory(*overrides)`` -> a composed tiny config writing under tmp_path/out."""
    return lambda *overrides: make_cfg(tmp_path / "out", *overrides)
