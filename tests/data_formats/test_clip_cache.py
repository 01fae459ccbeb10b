"""ClipCache: exact uint8 round trip, keys that change with everything that changes the pixels,
atomic writes under concurrency, damaged entries recomputed."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from motionlab.data.clip_cache import ClipCache


def test_round_trip_is_exact(tmp_path):
    cache = ClipCache(tmp_path)
    frames = np.random.default_rng(0).integers(0, 256, (12, 8, 10, 3), dtype=np.uint8)
    key = ClipCache.key([tmp_path], [0, 3], 8)
    assert cache.load(key) is None and not cache.contains(key)
    cache.save(key, frames, {"fps": 25.0, "backend": "pyav"})
    loaded, meta = cache.load(key)
    assert loaded.dtype == np.uint8 and np.array_equal(loaded, frames)
    assert meta == {"fps": 25.0, "backend": "pyav"}
    with pytest.raises(TypeError):
        cache.save(key, frames.astype(np.float32), {})


def test_key_changes_with_file_indices_size_and_tag(tmp_path):
    video = tmp_path / "v.avi"
    video.write_bytes(b"x" * 10)
    base = ClipCache.key([video], [0, 3, 6], [112, 112], "video:auto")
    assert base == ClipCache.key([str(video)], (0, 3, 6), (112, 112), "video:auto")
    assert base != ClipCache.key([video], [0, 3], [112, 112], "video:auto")
    assert base != ClipCache.key([video], [0, 3, 6], 112, "video:auto")
    assert base != ClipCache.key([video], [0, 3, 6], [112, 112], "video:opencv")
    stat = video.stat()
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert base != ClipCache.key([video], [0, 3, 6], [112, 112], "video:auto")  # touched: re-decode


def test_concurrent_writers_leave_one_whole_entry(tmp_path):
    cache = ClipCache(tmp_path)
    key = ClipCache.key([tmp_path], [0], None)
    arrays = [np.full((4, 16, 16, 3), i, np.uint8) for i in range(8)]
    threads = [threading.Thread(target=cache.save, args=(key, a, {"i": i})) for i, a in enumerate(arrays)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    frames, meta = cache.load(key)
    assert np.array_equal(frames, arrays[meta["i"]])  # one writer's whole entry, never a mix
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{key}.npy"]  # no temp files left


def test_damaged_entry_is_dropped_and_recomputed(tmp_path):
    cache = ClipCache(tmp_path)
    key = ClipCache.key([tmp_path], [0], None)
    cache.save(key, np.zeros((1, 2, 2, 3), np.uint8), {})
    path = next(tmp_path.rglob("*.npy"))
    path.write_bytes(path.read_bytes()[:20])
    assert cache.load(key) is None and not path.exists()
