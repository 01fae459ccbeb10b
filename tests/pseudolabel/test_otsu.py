import numpy as np
import pytest

from motionlab.pseudolabel.otsu import MagnitudeHistogram, flow_magnitude, otsu_threshold


def between_class_variance(values: np.ndarray, threshold: float) -> float:
    low, high = values[values < threshold], values[values >= threshold]
    if len(low) == 0 or len(high) == 0:
        return 0.0
    w0, w1 = len(low) / len(values), len(high) / len(values)
    return w0 * w1 * (low.mean() - high.mean()) ** 2


def brute_force_otsu(values: np.ndarray) -> tuple[float, float]:
    """Every cut between two sorted distinct values; returns (best variance, best cut)."""
    distinct = np.unique(values)
    cuts = (distinct[:-1] + distinct[1:]) / 2
    scores = [between_class_variance(values, c) for c in cuts]
    return max(scores), cuts[int(np.argmax(scores))]


def test_known_bimodal_histogram_splits_in_the_gap():
    counts = np.array([0, 5, 10, 5, 0, 0, 0, 5, 10, 5, 0])  # modes at bins 2 and 8, gap 4..6
    # every edge in the gap (after bins 3, 4, 5, 6) separates the modes exactly: the middle is 5.5
    assert otsu_threshold(counts, bin_width=1.0) == pytest.approx(5.5)
    assert otsu_threshold(counts, bin_width=0.25) == pytest.approx(5.5 * 0.25)


def test_unequal_modes_hand_computed():
    # 3 values at 0.5, 1 at 2.5 (bin centres, width 1): the edges after bin 0 and bin 1 both give
    # between-class variance 0.75 * 0.25 * 2^2 = 0.75, so their middle (1.5) is returned
    assert otsu_threshold(np.array([3, 0, 1]), 1.0) == pytest.approx(1.5)
    # 2 at 0.5, 1 at 1.5, 1 at 3.5: cut after bin 0 -> 0.5*0.5*(0.5-2.5)^2 = 1.0;
    # after bin 1 or 2 -> 0.75*0.25*(0.833-3.5)^2 = 1.333 (best, edges 2 and 3 -> 2.5)
    assert otsu_threshold(np.array([2, 1, 0, 1]), 1.0) == pytest.approx(2.5)


def test_streamed_histogram_matches_brute_force_otsu():
    rng = np.random.default_rng(0)
    values = np.concatenate([np.abs(rng.normal(0.3, 0.2, 700)), rng.normal(3.0, 0.6, 300)])
    best, cut = brute_force_otsu(values)
    hist = MagnitudeHistogram(bin_width=0.01, max_magnitude=50.0)
    for part in np.array_split(values, 7):  # streamed in pieces, never all at once
        hist.add_magnitudes(part)
    threshold = hist.threshold()
    assert abs(threshold - cut) < 0.1
    assert between_class_variance(values, threshold) == pytest.approx(best, rel=1e-3)


def test_histograms_merge_exactly_and_clip_at_max():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 3, 100), rng.uniform(0, 9, 100)
    whole, left, right = (MagnitudeHistogram(0.5, 5.0) for _ in range(3))
    whole.add_magnitudes(np.concatenate([a, b]))
    left.add_magnitudes(a)
    right.add_magnitudes(b)
    left.add_counts(right.counts)
    np.testing.assert_array_equal(left.counts, whole.counts)
    assert len(whole.counts) == 10 and whole.counts[-1] == (np.concatenate([a, b]) >= 4.5).sum()
    assert whole.count_at_least(2.0) == (np.concatenate([a, b]) >= 2.0).sum()


def test_flow_magnitude_and_degenerate_input():
    flow = np.array([[[3.0, 0.0]], [[4.0, 0.0]]])
    np.testing.assert_allclose(flow_magnitude(flow), [[5.0, 0.0]])
    with pytest.raises(ValueError, match="at least two histogram bins"):
        otsu_threshold(np.array([0, 10, 0]))
