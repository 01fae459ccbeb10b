"""Compose-based fixtures: every test builds its config from the real tree (conf/) with the
`debug=fast` overrides, CPU, and its own output root under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import make_cfg


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``gpu`` skip, saying why, where no CUDA GPU is visible."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.is_available() is False on this machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def cfg_factory(tmp_path: Path):
    """``cfg_factory(*overrides)`` -> a composed tiny config writing under tmp_path/out."""
    return lambda *overrides: make_cfg(tmp_path / "out", *overrides)
