"""A global OTSU threshold over the flow magnitudes of every entry of every flow map, computed from
a histogram that grows as maps stream past, so no map is ever held beyond its own turn.

Bins have a fixed width in pixels (not a fixed count over an unknown range), so histograms built
in different processes or shards add up exactly, in any order, without a first pass for the range.
"""

from __future__ import annotations

import numpy as np


def flow_magnitude(flow: np.ndarray) -> np.ndarray:
    """sqrt(dx^2 + dy^2) of flow [..., 2, H, W] -> [..., H, W] (float32)."""
    flow = np.asarray(flow, dtype=np.float32)
    return np.sqrt(flow[..., 0, :, :] ** 2 + flow[..., 1, :, :] ** 2)


class MagnitudeHistogram:
    """Counts of magnitudes in bins ``[i*w, (i+1)*w)``; magnitudes past ``max_magnitude`` land in
    the last bin (a few wild vectors must not allocate millions of bins)."""

    def __init__(self, bin_width: float, max_magnitude: float) -> None:
        if bin_width <= 0 or max_magnitude <= bin_width:
            raise ValueError(f"need 0 < bin_width < max_magnitude, got {bin_width}, {max_magnitude}")
        self.bin_width = float(bin_width)
        self.max_bins = int(np.ceil(max_magnitude / bin_width))
        self.counts = np.zeros(0, np.int64)

    def add_magnitudes(self, magnitudes: np.ndarray) -> None:
        bins = np.minimum(np.asarray(magnitudes, np.float64).ravel() / self.bin_width, self.max_bins - 1)
        self.add_counts(np.bincount(bins.astype(np.int64)))

    def add_flow(self, flow: np.ndarray) -> None:
        self.add_magnitudes(flow_magnitude(flow))

    def add_counts(self, counts: np.ndarray) -> None:
        """Add another histogram of the same bin width (from a worker or a shard)."""
        counts = np.asarray(counts, np.int64)
        if len(counts) > len(self.counts):
            self.counts = np.pad(self.counts, (0, len(counts) - len(self.counts)))
        self.counts[: len(counts)] += counts

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def count_at_least(self, threshold: float) -> int:
        """Entries with magnitude >= ``threshold``, exact when the threshold is a bin edge."""
        return int(self.counts[int(round(threshold / self.bin_width)):].sum())

    def threshold(self) -> float:
        return otsu_threshold(self.counts, self.bin_width)


def otsu_threshold(counts: np.ndarray, bin_width: float = 1.0) -> float:
    """OTSU (1979) on a histogram with bins ``[i*w, (i+1)*w)``: the bin edge that maximises the
    between-class variance w0*w1*(mu0 - mu1)^2, so that values below it form one class.

    Across empty bins that variance is flat; the middle of the first best run of edges is returned
    (for two modes with a gap between them, the gap's middle rather than its left end)."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    if total <= 0 or np.count_nonzero(counts) < 2:
        raise ValueError("OTSU needs magnitudes in at least two histogram bins; is all flow zero/constant?")
    centers = (np.arange(len(counts)) + 0.5) * bin_width
    w0 = np.cumsum(counts)[:-1] / total  # class 0 = bins 0..i, for the edge after bin i
    m0 = np.cumsum(counts * centers)[:-1] / total
    mean = m0[-1] + counts[-1] * centers[-1] / total
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean * w0 - m0) ** 2 / (w0 * w1)
    between = np.nan_to_num(between, nan=-1.0)
    best = between.max()
    first = int(np.argmax(between >= best * (1 - 1e-12)))
    last = first
    while last + 1 < len(between) and between[last + 1] >= best * (1 - 1e-12):
        last += 1
    return (first + last) / 2 * bin_width + bin_width
