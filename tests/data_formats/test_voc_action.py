"""PASCAL VOC 2012 Action reader: '% d' lists, person objects by index, ten actions (other and
multi-action persons left out, or kept as configured), person crops with a hand-computed context
window, odd image files, and errors for broken trees."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from data_formats.configs import data_cfg
from data_formats.dataset_writers import VOC_ACTIONS, write_jpeg
from motionlab.core.errors import DataError
from motionlab.data.datasets.image_source import crop_window, load_rgb
from motionlab.data.sources import build_image_source


def voc(root: Path, split: str, cache: Path, **overrides):
    return build_image_source(data_cfg("image", "voc2012_action", root=str(root), **overrides), split, cache)


@pytest.fixture
def voc_copy(voc_tree, tmp_path) -> tuple[Path, dict]:
    root = tmp_path / "copy"
    shutil.copytree(voc_tree[0], root)
    info = dict(voc_tree[1], voc=root / "VOCdevkit" / "VOC2012")
    return root, info


def test_action_lists_use_the_devkit_format(voc_tree):
    _, info = voc_tree
    lines = (info["voc"] / "ImageSets" / "Action" / "jumping_train.txt").read_text().splitlines()
    assert lines[0] == "2010_000001 1  1" and lines[2] == "2010_000004 1 -1"  # "%s %d % d"


@pytest.mark.parametrize("split, cfg_split", [("train", "train"), ("test", "val")])
def test_people_and_labels(voc_tree, tmp_path, split, cfg_split):
    root, info = voc_tree
    source = voc(root, split, tmp_path)
    assert source.class_names == VOC_ACTIONS
    want = sorted((f"{image_id}_{obj}", VOC_ACTIONS.index(next(iter(actions))))
                  for (image_id, obj), actions in info["people"][cfg_split].items()
                  if len(actions) == 1 and "other" not in actions)
    got = sorted((e.image_id, e.label) for e in source.entries)
    assert got == want and len(got) == (22 if split == "train" else 10)
    assert np.array_equal(source.labels(), [e.label for e in source.entries])
    for i in range(len(source)):
        sample = source[i]
        assert sample.meta["xml_actions"] == [source.class_names[sample.label]]  # XML agrees with lists


def test_second_person_of_an_image_is_its_own_sample(voc_tree, tmp_path):
    root, info = voc_tree
    source = voc(root, "train", tmp_path)
    by_id = {e.image_id: i for i, e in enumerate(source.entries)}
    first, second = source[by_id[f"{info['two_person']}_1"]], source[by_id[f"{info['two_person']}_2"]]
    assert (first.label, second.label) == (VOC_ACTIONS.index("phoning"), VOC_ACTIONS.index("walking"))
    assert first.meta["box"] == (11, 6, 30, 25) and second.meta["box"] == (35, 10, 64, 48)


def test_crop_window_by_hand():
    # box x 11..30, y 6..25 (1-based, inclusive) = pixels [10, 30) x [5, 25): 20 x 20
    assert crop_window((11, 6, 30, 25), 64, 48, 0.0) == (10, 5, 30, 25)
    assert crop_window((11, 6, 30, 25), 64, 48, 0.1) == (8, 3, 32, 27)  # 2 px of context each side
    assert crop_window((35, 10, 64, 48), 64, 48, 0.1) == (31, 5, 64, 48)  # 30x39 box, clipped at the edge
    assert crop_window((11, 6, 30, 25), 64, 48, 0.15) == (7, 2, 33, 28)  # 3 px: fractions round outwards


def test_sample_is_the_crop_of_the_decoded_image(voc_tree, tmp_path):
    root, info = voc_tree
    source = voc(root, "test", tmp_path)
    sample = source[0]
    full, _ = load_rgb(sample.meta["path"])
    assert sample.meta["crop"] == (8, 3, 32, 27)
    assert sample.image.dtype == np.uint8 and sample.image.shape == (24, 24, 3)
    assert np.array_equal(sample.image, full[3:27, 8:32])


def test_other_and_multi_action_persons(voc_tree, tmp_path):
    root, info = voc_tree
    source = voc(root, "train", tmp_path)
    assert [s.path.endswith(f"{info['multi']} object 1") for s in source.skipped] == [True]
    assert "several actions ['reading', 'usingcomputer']" in source.skipped[0].reason
    assert "1 persons with none of the 10 actions (VOC 'other') left out" in source.notes[0].reason
    kept = voc(root, "train", tmp_path, include_other=True, multi_action="first")
    assert kept.class_names == VOC_ACTIONS + ["other"] and len(kept) == 24
    ids = {e.image_id: e.label for e in kept.entries}
    assert ids[f"{info['other']}_1"] == 10 and ids[f"{info['multi']}_1"] == VOC_ACTIONS.index("reading")


def test_odd_image_files_become_rgb(voc_tree, tmp_path):
    root, info = voc_tree
    notes = {}
    for split in ("train", "test"):
        source = voc(root, split, tmp_path)
        for i, entry in enumerate(source.entries):
            sample = source[i]
            assert sample.image.dtype == np.uint8 and sample.image.ndim == 3 and sample.image.shape[2] == 3
            notes[entry.image_id.rsplit("_", 1)[0]] = sample.meta["converted"]
    odd = {image_id: note for image_id, note in notes.items() if note}
    assert sorted(odd) == sorted(info["odd"])
    assert sorted(odd.values()) == ["CMYK converted to RGB", "L converted to RGB", "PNG data in a .jpg file",
                                    "PNG data in a .jpg file; RGBA converted to RGB"]


def test_image_that_fails_to_decode_is_named(voc_copy, tmp_path):
    root, info = voc_copy
    source = voc(root, "test", tmp_path)
    path = Path(source.entries[0].image_path)
    path.write_bytes(path.read_bytes()[:200])  # truncated JPEG
    with pytest.raises(DataError, match=rf"{path.name}: cannot decode image .* replace the file"):
        source[0]
    path.write_bytes(b"<html>404</html>")
    with pytest.raises(DataError, match=rf"{path.name}: cannot decode image"):
        source[0]


def test_split_file_with_image_ids_only(voc_copy, tmp_path):
    root, info = voc_copy
    sets = info["voc"] / "ImageSets" / "Action"
    ids = dict.fromkeys(line.split()[0] for line in (sets / "train.txt").read_text().splitlines())
    (sets / "train.txt").write_text("".join(f"{i}\n" for i in ids))
    assert len(voc(root, "train", tmp_path)) == 22


@pytest.mark.parametrize("where", ["", "VOCdevkit", "VOCdevkit/VOC2012"])
def test_root_may_be_any_level(voc_tree, tmp_path, where):
    assert len(voc(voc_tree[0] / where, "test", tmp_path)) == 10


def test_broken_tree_errors(voc_copy, tmp_path):
    root, info = voc_copy
    sets = info["voc"] / "ImageSets" / "Action"
    (sets / "running_val.txt").unlink()
    with pytest.raises(DataError, match=r"running_val\.txt: VOC action list not found \(extract the whole"):
        voc(root, "test", tmp_path)
    (sets / "walking_train.txt").write_text("2010_000001 1 +1\n")
    with pytest.raises(DataError, match=r"walking_train\.txt:1: expected '<id> <objidx> <1\|-1>'"):
        voc(root, "train", tmp_path)
    with pytest.raises(DataError, match=r"no ImageSets/Action found here, in VOC2012/ or VOCdevkit/VOC2012/"):
        voc(tmp_path, "train", tmp_path)


def test_missing_image_is_recorded_and_bad_object_index_named(voc_copy, tmp_path):
    root, info = voc_copy
    jpg = info["voc"] / "JPEGImages" / "2010_000003.jpg"
    jpg.unlink()
    source = voc(root, "test", tmp_path)
    assert len(source) == 9 and source.skipped[0].path == str(jpg)
    xml = info["voc"] / "Annotations" / "2010_000006.xml"
    xml.write_text(xml.read_text().split("\t<object>")[0] + "</annotation>\n")
    index = [e.image_id for e in source.entries].index("2010_000006_1")
    with pytest.raises(DataError, match=r"2010_000006\.xml: has 0 <object> elements, the split lists object"):
        source[index]


def test_protocol_defaults_in_config():
    cfg = data_cfg("image", "voc2012_action")
    protocol = (cfg.shots_per_class, cfg.test_limit, cfg.train_split, cfg.test_split)
    assert protocol == (10, 2000, "train", "val")


def test_grayscale_cmyk_alpha_loader_directly(tmp_path):
    for mode, fmt in [("L", "JPEG"), ("CMYK", "JPEG"), ("RGBA", "PNG")]:
        rgb, note = load_rgb(write_jpeg(tmp_path / f"{mode}.jpg", mode=mode, fmt=fmt))
        assert rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8 and mode in note
    reference, note = load_rgb(write_jpeg(tmp_path / "rgb.jpg"))
    assert note == ""
    gray, _ = load_rgb(tmp_path / "L.jpg")
    assert np.array_equal(gray[..., 0], gray[..., 2])  # grayscale replicated into three channels
