"""Stanford40 reader: class order from actions.txt (header line, tab rows, CRLF), labels from the
per-action split files, person crops from XMLAnnotations, cross-check against train/test.txt."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from data_formats.configs import data_cfg
from data_formats.dataset_writers import S40_ACTIONS
from motionlab.core.errors import DataError
from motionlab.data.datasets.stanford40 import read_actions
from motionlab.data.sources import build_image_source


def s40(root: Path, split: str, cache: Path, **overrides):
    return build_image_source(data_cfg("image", "stanford40", root=str(root), **overrides), split, cache)


@pytest.mark.parametrize("split", ["train", "test"])
def test_counts_labels_and_class_order(s40_tree, tmp_path, split):
    root, expected = s40_tree
    source = s40(root, split, tmp_path)
    assert source.class_names == S40_ACTIONS  # actions.txt order (reading before phoning), not sorted
    got = sorted((e.image_id, e.label) for e in source.entries)
    assert got == sorted((Path(name).stem, label) for name, label in expected[split])
    assert source.labels().tolist() == [e.label for e in source.entries]
    assert source.notes == [] and source.skipped == []


def test_actions_txt_header_and_tabs(s40_tree):
    path = s40_tree[0] / "ImageSplits" / "actions.txt"
    assert path.read_bytes().startswith(b"action_name\tnumber_of_images\r\napplauding\t5\r\n")
    assert read_actions(path) == [(a, 5) for a in S40_ACTIONS]


def test_person_crop_from_the_xml_box(s40_tree, tmp_path):
    root, _ = s40_tree
    sample = s40(root, "train", tmp_path, context_margin=0.0)[0]
    assert sample.meta["box"] == (5, 3, 50, 40) and sample.meta["crop"] == (4, 2, 50, 40)
    assert sample.image.shape == (38, 46, 3) and sample.image.dtype == np.uint8
    assert sample.meta["xml_actions"] == [S40_ACTIONS[sample.label]]


def test_protocol_defaults_and_caps(s40_tree, tmp_path):
    cfg = data_cfg("image", "stanford40")
    assert (cfg.shots_per_class, cfg.test_limit) == (30, None)
    assert len(s40(s40_tree[0], "train", tmp_path, train_per_class=1)) == len(S40_ACTIONS)


def test_inconsistent_and_missing_files(s40_tree, tmp_path):
    root = tmp_path / "Stanford40"
    shutil.copytree(s40_tree[0], root)
    (root / "JPEGImages" / "reading_002.jpg").unlink()
    combined = root / "ImageSplits" / "train.txt"
    combined.write_text(combined.read_text().replace("phoning_001.jpg\n", ""))
    source = s40(tmp_path, "train", tmp_path)  # the parent of Stanford40/ works too
    assert [(Path(s.path).name, s.reason) for s in source.skipped] == [
        ("reading_002.jpg", "listed in reading_train.txt but not found")]
    assert source.notes[0].reason == "0 images only here, 1 only in the per-action files"
    (root / "ImageSplits" / "phoning_test.txt").unlink()
    with pytest.raises(DataError, match=r"phoning_test\.txt: Stanford40 split file not found \(extract"):
        s40(root, "test", tmp_path)
    with pytest.raises(DataError, match=r"no ImageSplits/ here or in Stanford40/; data\.image\.root must be"):
        s40(root / "JPEGImages", "test", tmp_path)
