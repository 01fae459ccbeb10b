import numpy as np
import pytest

from motionlab.core.errors import DataError
from motionlab.flow.cache import FlowCache, cache_key, size_ratio


def test_round_trip_in_float16_with_pair_access(tmp_path):
    flow = np.random.default_rng(0).normal(scale=8, size=(3, 2, 6, 7)).astype(np.float32)
    cache = FlowCache(tmp_path, "k")
    assert not cache.has("v1")
    cache.save("v1", flow)
    assert cache.has("v1")
    back = cache.load("v1")
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, flow, rtol=2**-11, atol=1e-7)  # float16: 11-bit mantissa
    np.testing.assert_array_equal(cache.load_pair("v1", 2), back[2])
    assert np.load(cache.path("v1")).dtype == np.float16
    assert not list(tmp_path.rglob(".*tmp*"))


def test_size_ratio_matches_the_files(tmp_path):
    flow = np.zeros((5, 2, 64, 80), np.float32)
    cache = FlowCache(tmp_path, "k")
    cache.save("v", flow)
    np.save(tmp_path / "f32.npy", flow)
    measured = cache.path("v").stat().st_size / (tmp_path / "f32.npy").stat().st_size
    assert measured == pytest.approx(size_ratio(flow.shape))
    assert 0.5 < size_ratio(flow.shape) < 0.501


def test_ids_map_to_distinct_safe_files(tmp_path):
    cache = FlowCache(tmp_path, "k")
    names = {cache.path(v).name for v in ["a/b", "a_b", "a:b", "../x", "ok-1.2"]}
    assert len(names) == 5
    assert cache.path("ok-1.2").name == "ok-1.2.npy"
    assert all(cache.path(v).parent == tmp_path / "k" for v in ["a/b", "../x"])


def test_refuses_bad_flow_and_names_unreadable_files(tmp_path):
    cache = FlowCache(tmp_path, "k")
    with pytest.raises(ValueError, match="NaN"):
        cache.save("v", np.full((1, 2, 2, 2), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"\[P, 2, H, W\]"):
        cache.save("v", np.zeros((2, 2, 2), np.float32))
    cache.dir.mkdir(parents=True, exist_ok=True)
    cache.path("broken").write_bytes(b"not npy")
    with pytest.raises(DataError, match=r"broken\.npy.*delete the file"):
        cache.load("broken")


def test_key_follows_estimator_and_frames():
    assert cache_key("a", {"size": 64}) == cache_key("a", {"size": 64})
    assert cache_key("a", {"size": 64}) != cache_key("b", {"size": 64})
    assert cache_key("a", {"size": 64}) != cache_key("a", {"size": 32})
