"""Zhang et al. sec. 3.1: the S1 / S2 / Ŝ2 samplers (property tests) and the contrastive losses
against brute-force loops over the batch."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from motionlab.data.clips import other_video_rows, smoothness_starts
from motionlab.losses.smoothness import first_order_smoothness, second_order_smoothness


@st.composite
def clip_and_window(draw) -> tuple[int, int]:
    k = draw(st.integers(2, 24))
    return k, draw(st.integers(1, k))


@settings(max_examples=200, deadline=None)
@given(clip_and_window(), st.integers(1, 64), st.integers(0, 2**31 - 1))
def test_starts_fit_the_clip_and_consecutive_windows_overlap_by_half(kd, batch, seed):
    k, dt = kd
    t1, t2, t3 = smoothness_starts(k, dt, batch, torch.Generator().manual_seed(seed))
    reach = math.ceil(dt / 2)
    for t in (t1, t2, t3):
        assert t.shape == (batch,) and int(t.min()) >= 0 and int(t.max()) + dt <= k
    # |t2 - t1| <= ⌈Δt/2⌉: two Δt-frame windows share at least ⌊Δt/2⌋ frames
    for a, b in ((t1, t2), (t2, t3)):
        assert int((b - a).abs().max()) <= reach
        assert int((dt - (b - a).abs()).min()) >= dt - reach


def test_starts_are_random_not_a_fixed_offset():
    t1, t2, _ = smoothness_starts(12, 10, 500, torch.Generator().manual_seed(0))
    assert len({int(x) for x in t2 - t1}) > 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=2, max_size=16).filter(lambda ids: len(set(ids)) > 1))
def test_the_other_clip_always_comes_from_another_video(ids):
    video = torch.tensor(ids)
    rows = other_video_rows(video)
    assert rows.shape == video.shape
    assert bool((video[rows] != video).all())


@given(st.integers(2, 16))
def test_distinct_videos_pair_with_the_previous_row(batch):
    assert other_video_rows(torch.arange(batch) * 7).tolist() == [(i - 1) % batch for i in range(batch)]


@given(st.lists(st.integers(0, 3), min_size=0, max_size=8).filter(lambda ids: len(set(ids)) < 2))
def test_a_batch_of_one_video_is_a_clear_error(ids):
    try:
        other_video_rows(torch.tensor(ids, dtype=torch.long))
    except ValueError as err:
        assert "two different videos" in str(err)
    else:
        raise AssertionError("one video cannot give a negative pair")


def _euclid(a: list[float], b: list[float]) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def _minus(a: list[float], b: list[float]) -> list[float]:
    return [x - y for x, y in zip(a, b, strict=True)]


def test_first_order_matches_a_loop_over_pairs():
    g = torch.Generator().manual_seed(0)
    f1, f2, fo = (torch.randn(5, 3, generator=g) for _ in range(3))
    margin = 1.3
    terms = [_euclid(a, p) + max(margin - _euclid(a, n), 0.0)
             for a, p, n in zip(f1.tolist(), f2.tolist(), fo.tolist(), strict=True)]
    assert math.isclose(first_order_smoothness(f1, f2, fo, margin).item(), sum(terms) / len(terms), rel_tol=1e-5)


def test_second_order_matches_a_loop_over_triples():
    g = torch.Generator().manual_seed(1)
    f1, f2, f3, fo = (torch.randn(4, 3, generator=g) for _ in range(4))
    margin = 0.7
    terms = []
    for a, b, c, o in zip(f1.tolist(), f2.tolist(), f3.tolist(), fo.tolist(), strict=True):
        d12, d23, d2o = _minus(a, b), _minus(b, c), _minus(b, o)
        terms.append(_euclid(d12, d23) + max(margin - _euclid(d12, d2o), 0.0))
    assert math.isclose(second_order_smoothness(f1, f2, f3, fo, margin).item(), sum(terms) / len(terms),
                        rel_tol=1e-5)
