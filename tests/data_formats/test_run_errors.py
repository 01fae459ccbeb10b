"""A data error found at run time, as a new user meets it: too few UCF101 training videos for
K = 16 pseudo-label clusters ends in one line naming the files and the fix, with the counts of the log."""

from __future__ import annotations

import re

from helpers import run_cli

from data_formats.dataset_writers import UCF_CLASSES, corrupt_file, write_ucf101, write_voc2012


def test_too_few_videos_for_k_is_one_line_with_the_logged_counts(tmp_path):
    write_ucf101(tmp_path / "ucf", classes=[*UCF_CLASSES, "Archery", "Basketball"])  # 15 training videos
    bad = tmp_path / "ucf" / "UCF-101" / "Archery" / "v_Archery_g08_c01.avi"
    corrupt_file(bad)
    write_voc2012(tmp_path / "voc")
    result = run_cli(["pipeline=pseudolabels", "setting=ucf101_to_voc", f"data.video.root={tmp_path / 'ucf'}",
                      f"data.image.root={tmp_path / 'voc'}", "data.video.size=32", "trainer.progress_bar=false",
                      f"paths.output_root={tmp_path / 'out'}"], timeout=600)
    assert result.returncode == 2
    logged = re.search(r"ucf101 train: (\d+) videos selected of 15 listed, (\d+) skipped", result.stdout)
    assert logged and logged.groups() == ("14", "1"), result.stdout[-2000:]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"motionlab: data error: {tmp_path / 'ucf'}: only 14 usable clips for K=16 clusters "
                           "(skipped: 1 by the reader, 0 without usable flow; first: ")
    assert str(bad) in line and "params.clusters to at most 14" in line
    assert "Traceback" not in result.stderr + result.stdout
