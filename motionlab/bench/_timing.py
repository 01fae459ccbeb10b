"""Timing shared by the benchmarks (the leading underscore keeps it out of ``make bench``'s list)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleaved_seconds(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each function, timed in turns (a, b, c, a, b, c, ...) after one untimed
    round: on a shared machine a burst of load then hits every method alike, which is what makes
    the ratios comparable."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}
