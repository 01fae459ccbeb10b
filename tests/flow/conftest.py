"""Fixtures of the flow tests."""

from __future__ import annotations

from pathlib import Path

import pytest

OPENCV_DATA = Path("/tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data")


@pytest.fixture
def opencv_data() -> Path:
    if not (OPENCV_DATA / "rubberwhale1.png").exists():
        pytest.skip("OpenCV sample data not present (apt-get download opencv-doc)")
    return OPENCV_DATA
