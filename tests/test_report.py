"""motionlab-report: mean ± std over seeds, one row per method, one column per setting."""

from __future__ import annotations

import json

from motionlab.eval.report import main


def _job(root, method, setting, seed, value):
    d = root / method / setting / f"seed{seed}"
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({"method": method, "setting": setting, "seed": seed, "value": value,
                                                "report_metric": "classifier/test_acc"}))


def test_table_from_a_multirun_dir(tmp_path, capsys):
    for seed, v in enumerate([10.0, 20.0, 30.0]):
        _job(tmp_path / "mr", "unreg", "s1", seed, v)
    _job(tmp_path / "mr", "ours", "s1", 0, 40.0)
    _job(tmp_path / "mr", "ours", "s2", 0, 50.0)
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--methods", "unreg,ours", "--wall-time", "12"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "| unreg | 20.00 ± 10.00 (n=3) | – |" in md
    assert "| ours | 40.00 (n=1) | 50.00 (n=1) |" in md
    assert "- command:" in md and "- machine:" in md and "- wall time: 12 s" in md
    csv = (tmp_path / "exp" / "results.csv").read_text().splitlines()
    assert csv[0] == "method,setting,mean,std,n,values"
    assert csv[1].startswith("unreg,s1,20.0,10.0,3,")
    assert "unreg" in capsys.readouterr().out


def test_columns_from_a_config_key_and_a_plot(tmp_path):
    for shots in (5, 10):
        for seed in (0, 1):
            _job(tmp_path / "mr", "ours", "s1", seed, 10.0 * shots + seed)
            d = tmp_path / "mr" / "ours" / "s1" / f"seed{seed}"
            (d / ".hydra").mkdir()
            (d / ".hydra" / "config.yaml").write_text(f"data:\n  image:\n    shots_per_class: {shots}\n")
            d.rename(d.with_name(f"seed{seed}_data.image.shots_per_class={shots}"))  # as sweep_tag names it
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--column", "data.image.shots_per_class", "--plot"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "| method | shots_per_class=5 | shots_per_class=10 |" in md
    assert "| ours | 50.50 ± 0.71 (n=2) | 100.50 ± 0.71 (n=2) |" in md
    assert (tmp_path / "exp" / "results.png").stat().st_size > 0


def test_paired_differences_use_matching_seeds_only(tmp_path):
    for seed, (base, ours) in enumerate([(10.0, 14.0), (30.0, 32.0), (20.0, 21.0)]):
        _job(tmp_path / "mr", "unreg", "s1", seed, base)
        _job(tmp_path / "mr", "ours", "s1", seed, ours)
    _job(tmp_path / "mr", "ours", "s1", 7, 99.0)  # no baseline run for seed 7: left out of the pairs
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--paired", "unreg"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "## Paired differences to unreg" in md
    assert "| ours - unreg | +2.33 ± 1.53 (n=3) |" in md


def test_several_paired_baselines_give_one_table_each(tmp_path):
    for seed, (base, matched, ours) in enumerate([(10.0, 12.0, 14.0), (30.0, 31.0, 32.0)]):
        for method, value in (("unreg", base), ("matched", matched), ("ours", ours)):
            _job(tmp_path / "mr", method, "s1", seed, value)
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--paired", "unreg,matched"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "| ours - unreg | +3.00 ± 1.41 (n=2) |" in md and "| matched - unreg | +1.50 ± 0.71 (n=2) |" in md
    assert "| ours - matched | +1.50 ± 0.71 (n=2) |" in md
    assert "unreg - matched" not in md
