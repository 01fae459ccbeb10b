"""The base layer: atomic writes leave either the old file or the whole new one, never a temp file."""

from __future__ import annotations

import numpy as np
import pytest

from motionlab.core.hashing import config_hash
from motionlab.core.io import atomic_path, atomic_save_npy, atomic_write_text


def test_atomic_write_replaces_whole_files_and_leaves_no_temp(tmp_path):
    path = tmp_path / "done.json"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    atomic_save_npy(tmp_path / "a.npy", np.arange(3))
    assert path.read_text() == "new"
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.arange(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "done.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path):
    path = tmp_path / "model.pt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_config_hash_ignores_dict_order_only():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1, "b": [1, 2]}) != config_hash({"a": 1, "b": [2, 1]})
    assert len(config_hash({})) == 16
