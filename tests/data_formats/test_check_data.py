"""motionlab-check-data: a good tree passes with per-class counts; skipped videos and odd images
are listed with their reason; a broken tree fails (exit 1) naming the file; a bad command line
exits 2."""

from __future__ import annotations

import shutil

import pytest

from motionlab.data.check import main


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_good_trees_pass_with_counts(ucf_tree, voc_tree, tmp_path, capsys):
    code, out = run(capsys, "setting=ucf101_to_voc", f"data.video.root={ucf_tree[0]}",
                    f"data.image.root={voc_tree[0]}", "--cache-dir", str(tmp_path))
    assert code == 0, out
    assert "== data.video: ucf101" in out and "train: 9 listed, 9 found, 9 selected, 0 skipped" in out
    assert "    HandstandPushups         3         3" in out
    assert "== data.image: voc2012_action" in out and "train: 22 labeled images" in out
    assert "several actions ['reading', 'usingcomputer']" in out
    assert "CMYK converted to RGB" in out and "PNG data in a .jpg file" in out
    assert "suspicious: test_limit=2000 but only 10 test images" in out
    assert out.rstrip().endswith("OK: the trees can be used")


def test_short_flags_and_skipped_videos(hmdb_tree, s40_tree, tmp_path, capsys):
    root = tmp_path / "hmdb"
    shutil.copytree(hmdb_tree[0], root)
    bad = root / "climb" / "boulder_climb_u_nm_np1_ri_bad_2.avi"  # train in split 1
    bad.write_bytes(b"\0" * 100)
    code, out = run(capsys, "--video", "hmdb51", "--video-root", str(root), "--image", "stanford40",
                    "--image-root", str(s40_tree[0]), "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, out
    assert f"{bad}: cannot open video" in out  # skipped, with the reason, and the run can go on
    assert "== data.image: stanford40" in out and "test: 8 labeled images" in out


def test_broken_trees_fail_naming_the_file(ucf_tree, voc_tree, tmp_path, capsys):
    ucf = tmp_path / "ucf"
    shutil.copytree(ucf_tree[0], ucf)
    (ucf / "ucfTrainTestlist" / "classInd.txt").unlink()
    voc = tmp_path / "voc"
    shutil.copytree(voc_tree[0], voc)
    broken = voc / "VOCdevkit" / "VOC2012" / "JPEGImages" / "2010_000001.jpg"
    broken.write_bytes(broken.read_bytes()[:100])
    code, out = run(capsys, "--video", "ucf101", "--video-root", str(ucf), "--image", "voc2012_action",
                    "--image-root", str(voc), "--cache-dir", str(tmp_path / "cache"))
    assert code == 1
    assert "ERROR: train: " in out and "classInd.txt: UCF101 class index not found" in out
    assert f"ERROR: {broken}: cannot decode image" in out
    assert out.rstrip().endswith("FAILED: fix the errors above")


def test_unset_root_and_bad_override(tmp_path, capsys):
    code, out = run(capsys, "setting=hmdb51_to_s40", "--only", "video", "--cache-dir", str(tmp_path))
    assert code == 1 and "data.video.root not set: point it at your copy" in out
    with pytest.raises(SystemExit):
        main(["--video"])
    assert main(["setting=ucf101_to_nowhere"]) == 2
    assert "config error" in capsys.readouterr().err
