"""The one results module: statistics against hand-computed values, the ``motionlab-report`` tables
(settings, paired with CIs and detectable effects, oracle-gap fractions), and the README claims."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats as scipy_stats

from motionlab.eval.claims import BEGIN, END, claims_table, replace_section
from motionlab.eval.report import main
from motionlab.eval.stats import gap_closed, min_detectable_effect, paired_differences, summarize
from motionlab.eval.tables import metric_cell


def _job(root, method, setting, seed, value):
    d = root / method / setting / f"seed{seed}"
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({"method": method, "setting": setting, "seed": seed, "value": value,
                                                "report_metric": "classifier/test_acc"}))


# ---------------------------------------------------------------------------------- statistics
def test_summary_is_the_sample_std_and_a_student_t_interval():
    s = summarize([10.0, 20.0, 30.0])
    assert (s.n, s.mean, s.std) == (3, 20.0, 10.0)  # ddof = 1: sqrt((100 + 0 + 100) / 2)
    assert s.ci95 == pytest.approx(4.302653 * 10.0 / math.sqrt(3), rel=1e-6)  # t(0.975, 2) = 4.302653
    assert s.format() == "20.00 ± 10.00 (n = 3)"
    assert s.format(1, signed=True, ci=True) == "+20.0 ± 10.0, 95 % CI [-4.8, +44.8] (n = 3)"


def test_one_value_has_no_spread_and_says_n_1():
    s = summarize([0.5])
    assert s.std is None and s.ci95 is None
    assert s.format(3) == "0.500 (n = 1)" and "±" not in s.format(3, ci=True)
    assert metric_cell([0.5], 3) == "0.500 (n = 1)"


def test_paired_differences_use_common_seeds_only():
    d = paired_differences({0: 14.0, 1: 32.0, 2: 21.0, 7: 99.0}, {0: 10.0, 1: 30.0, 2: 20.0, 5: 0.0})
    assert d.n == 3 and d.mean == pytest.approx(7 / 3)
    assert d.std == pytest.approx(math.sqrt(((4 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (1 - 7 / 3) ** 2) / 2))


def test_min_detectable_effect_is_the_paired_t_formula_and_has_its_power():
    # n = 10, sd 1: (t(0.975, 9) + t(0.8, 9)) / sqrt(10) = (2.262157 + 0.883408) / 3.162278
    assert min_detectable_effect(1.0, 10) == pytest.approx(3.145565 / math.sqrt(10), rel=1e-5)
    assert min_detectable_effect(2.0, 10) == pytest.approx(2 * min_detectable_effect(1.0, 10))
    assert min_detectable_effect(1.0, 1) == math.inf
    for n in (5, 10, 20):  # the exact power of the two-sided paired t-test at that effect (noncentral t)
        nc = min_detectable_effect(1.0, n) * math.sqrt(n)
        crit = scipy_stats.t.ppf(0.975, n - 1)
        power = 1 - scipy_stats.nct.cdf(crit, n - 1, nc) + scipy_stats.nct.cdf(-crit, n - 1, nc)
        assert abs(power - 0.8) < 0.015, (n, power)


def test_gap_closed():
    assert gap_closed(3.0, 1.0, 5.0) == 0.5
    assert gap_closed(1.0, 1.0, 5.0) == 0.0 and gap_closed(5.0, 1.0, 5.0) == 1.0
    assert math.isnan(gap_closed(3.0, 2.0, 2.0))


# ------------------------------------------------------------------------------------- tables
def test_table_from_a_multirun_dir(tmp_path, capsys):
    for seed, v in enumerate([10.0, 20.0, 30.0]):
        _job(tmp_path / "mr", "unreg", "s1", seed, v)
    _job(tmp_path / "mr", "ours", "s1", 0, 40.0)
    _job(tmp_path / "mr", "ours", "s2", 0, 50.0)
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--methods", "unreg,ours", "--wall-time", "12"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "| unreg | 20.00 ± 10.00 (n = 3) | – |" in md
    assert "| ours | 40.00 (n = 1) | 50.00 (n = 1) |" in md
    assert "- command:" in md and "- machine:" in md and "- wall time: 12 s" in md
    csv = (tmp_path / "exp" / "results.csv").read_text().splitlines()
    assert csv[0] == "method,setting,mean,std,n,values"
    assert csv[1].startswith("unreg,s1,20.0,10.0,3,")
    assert csv[2].startswith("ours,s1,40.0,,1,")  # no std for n = 1
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
    assert "| ours | 50.50 ± 0.71 (n = 2) | 100.50 ± 0.71 (n = 2) |" in md
    assert (tmp_path / "exp" / "results.png").stat().st_size > 0


def test_paired_differences_use_matching_seeds_only_and_show_ci_and_detectable_effect(tmp_path):
    for seed, (base, ours) in enumerate([(10.0, 14.0), (30.0, 32.0), (20.0, 21.0)]):
        _job(tmp_path / "mr", "unreg", "s1", seed, base)
        _job(tmp_path / "mr", "ours", "s1", seed, ours)
    _job(tmp_path / "mr", "ours", "s1", 7, 99.0)  # no baseline run for seed 7: left out of the pairs
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--paired", "unreg"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "## Paired differences to unreg" in md
    d = summarize([4.0, 2.0, 1.0])  # +2.33 ± 1.53, CI half-width t(0.975, 2) * 1.53 / sqrt(3) = 3.79
    assert f"| ours - unreg | +2.33 ± 1.53, 95 % CI [{d.mean - d.ci95:+.2f}, {d.mean + d.ci95:+.2f}] (n = 3) |" in md
    assert f"| ours - unreg | {min_detectable_effect(d.std, 3):.2f} (n = 3) |" in md


def test_several_paired_baselines_give_one_table_each(tmp_path):
    for seed, (base, matched, ours) in enumerate([(10.0, 12.0, 14.0), (30.0, 31.0, 32.0)]):
        for method, value in (("unreg", base), ("matched", matched), ("ours", ours)):
            _job(tmp_path / "mr", method, "s1", seed, value)
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--paired", "unreg,matched"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "| ours - unreg | +3.00 ± 1.41" in md and "| matched - unreg | +1.50 ± 0.71" in md
    assert "| ours - matched | +1.50 ± 0.71" in md
    assert "unreg - matched" not in md


def test_oracle_and_control_add_the_gap_closed_column_to_every_table(tmp_path):
    for seed, (null, ours, oracle) in enumerate([(10.0, 20.0, 30.0), (12.0, 16.0, 32.0)]):
        for method, value in (("shuffled", null), ("ours", ours), ("true_labels", oracle)):
            _job(tmp_path / "mr", method, "s1", seed, value)
    main([str(tmp_path / "mr"), "--out", str(tmp_path / "exp"), "--paired", "shuffled",
          "--oracle", "true_labels", "--control", "shuffled"])
    md = (tmp_path / "exp" / "results.md").read_text()
    assert "| method | s1 | s1: gap closed |" in md
    assert "| ours | 18.00 ± 2.83 (n = 2) | 0.35 |" in md  # (18 - 11) / (31 - 11)
    assert "| shuffled | 11.00 ± 1.41 (n = 2) | 0.00 |" in md and "| true_labels | 31.00 ± 1.41 (n = 2) | 1.00 |" in md
    assert "| paired difference | s1 | s1: gap closed |" in md
    assert "(n = 2) | 0.35 |" in md.split("## Paired differences")[1]
    assert (tmp_path / "exp" / "results.csv").read_text().splitlines()[0].endswith(",gap_closed")


def test_curves_come_from_the_stage_artifacts_the_runs_link(tmp_path):
    """A resumed stage repeats steps: the last row of a step wins; seeds are averaged per step."""
    from motionlab.eval.collect import collect_runs
    from motionlab.eval.figures import stage_curves

    for seed, rows in ((0, [(50, 10.0), (100, 20.0), (100, 30.0)]), (1, [(50, 20.0), (100, 40.0)])):
        _job(tmp_path / "sweep", "m", "s", seed, 1.0)
        artifact = tmp_path / "store" / f"key{seed}"
        artifact.mkdir(parents=True)
        (artifact / "val_curve.jsonl").write_text("".join(json.dumps({"step": a, "val_acc": v}) + "\n"
                                                          for a, v in rows))
        stages = tmp_path / "sweep" / "m" / "s" / f"seed{seed}" / "stages"
        stages.mkdir()
        (stages / "classifier").symlink_to(artifact)
    curves = stage_curves(collect_runs(tmp_path / "sweep"))
    assert sorted(curves[("m", "s", "classifier")], key=lambda c: c[50]) == [{50: 10.0, 100: 30.0},
                                                                              {50: 20.0, 100: 40.0}]
    main(["curves", str(tmp_path / "sweep"), "--out", str(tmp_path / "curves.png")])
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_metric_table_pools_seeds_and_prints_counts_whole(tmp_path):
    for seed, (top1, params) in enumerate([(50.0, 1000), (70.0, 1000)]):
        run = tmp_path / "sweep" / f"seed{seed}"
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps(
            {"method": "A", "seed": seed, "metrics": {"motion/top1": top1, "flow/params": params}}))
    main(["uftsn", str(tmp_path / "sweep"), "--out", str(tmp_path / "out"), "--title", "T",
          "--column", "top-1=motion/top1", "--column", "params=flow/params"])
    assert "| A | 60.00 ± 14.14 | 1,000 | 2 |" in (tmp_path / "out" / "results.md").read_text()


def test_uftsn_paired_table_differences_each_column_on_the_same_seed(tmp_path):
    # B beats A by exactly 2 points on seeds 0-2 although the seeds spread by 20: pairing removes that
    for method, offset in (("A", 0.0), ("B", 2.0)):
        for seed in range(3):
            run = tmp_path / "sweep" / f"{method}{seed}"
            run.mkdir(parents=True)
            (run / "metrics.json").write_text(json.dumps({"method": method, "seed": seed, "metrics": {
                "motion/top1": 50.0 + 10 * seed + offset, "flow/params": 7}}))
    main(["uftsn", str(tmp_path / "sweep"), "--out", str(tmp_path / "out"), "--title", "T", "--paired", "A",
          "--column", "top-1=motion/top1", "--column", "params=flow/params"])
    text = (tmp_path / "out" / "results.md").read_text()
    assert "| paired difference | top-1 |" in text  # counts are not differenced
    assert "| B - A | +2.00 ± 0.00, 95 % CI [+2.00, +2.00] (n = 3); detectable: 0.00 (n = 3) |" in text
    assert "A - A" not in text


def test_uftsn_contrast_differences_two_columns_of_each_run(tmp_path):
    # fusion beats the motion stream by exactly 1 point in every run, though the runs spread by 10
    for seed in range(3):
        run = tmp_path / "sweep" / f"A{seed}"
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps({"method": "A", "seed": seed, "metrics": {
            "motion/top1": 50.0 + 10 * seed, "fusion/top1": 51.0 + 10 * seed, "spatial/top1": 20.0}}))
    args = ["uftsn", str(tmp_path / "sweep"), "--out", str(tmp_path / "out"), "--title", "T",
            "--column", "rgb=spatial/top1", "--column", "motion=motion/top1", "--column", "fusion=fusion/top1"]
    main([*args, "--contrast", "fusion", "motion", "--contrast", "fusion", "rgb"])
    text = (tmp_path / "out" / "results.md").read_text()
    assert "| method | fusion − motion | fusion − rgb |" in text
    assert "| A | +1.00 ± 0.00, 95 % CI [+1.00, +1.00] (n = 3); detectable: 0.00 (n = 3) | +41.00 ± 10.00" in text
    with pytest.raises(ValueError, match="flow"):
        main([*args, "--contrast", "fusion", "flow"])


def test_the_time_table_counts_a_shared_artifact_once(tmp_path):
    """UNREG's classifier is Algorithm 1's step 1: one artifact under two stage names, paid for once."""
    def artifact(name, seconds):
        d = tmp_path / "store" / name
        d.mkdir(parents=True)
        (d / "done.json").write_text(json.dumps({"wall_time_s": seconds}))
        return {"kind": "k", "key": name, "dir": str(d)}

    step1, vre = artifact("a", 10.0), artifact("b", 30.0)
    for method, stages in (("unreg", {"classifier": step1}), ("ours", {"init": step1, "vre": vre}),
                           ("ours2", {"init": step1, "vre": vre})):
        _job(tmp_path / "sweep", method, "s", 0, 1.0)
        (tmp_path / "sweep" / method / "s" / "seed0" / "stages.json").write_text(json.dumps(stages))
    main([str(tmp_path / "sweep"), "--out", str(tmp_path / "out")])
    text = (tmp_path / "out" / "results.md").read_text()
    assert "## Where the time went" in text
    assert "| all stages (3 jobs) | 2 |  | 40 |" in text
    assert text.count("| 10.0 | 10 |") == 1  # under one name only


# ------------------------------------------------------------------------------------- claims
def test_claims_quote_cells_differences_ratios_and_ranges(tmp_path):
    (tmp_path / "r.csv").write_text("method,setting,mean,speed\nours,a,35.9375,23.2 pairs/s\n"
                                    "base,a,33.4896,6.67 pairs/s\nother,a,0.446 ± 0.021,1\n")
    row = {"file": "r.csv", "where": {"method": "ours", "setting": "a"}}
    (tmp_path / "claims.yaml").write_text(json.dumps({"claims": [{
        "claim": "C", "target": "`make x`",
        "measured": "{plain} / {diff} points, {ratio}x, {cell}, {lo}-{hi}",
        "quotes": {
            "plain": {**row, "column": "mean"},
            "diff": {**row, "column": "mean", "minus": {"method": "base"}, "format": "+.1f"},
            "ratio": {**row, "column": "speed", "over": {"method": "base"}, "format": ".1f"},
            "cell": {"file": "r.csv", "where": {"method": "other"}, "column": "mean"},
            "lo": {"file": "r.csv", "where": [{"method": "ours"}, {"method": "base"}], "column": "mean",
                   "reduce": "min", "format": ".0f"},
            "hi": {"file": "r.csv", "where": [{"method": "ours"}, {"method": "base"}], "column": "mean",
                   "reduce": "max", "format": ".0f"},
        }}]}))
    table = claims_table(tmp_path / "claims.yaml", tmp_path)
    assert "| C | 35.9375 / +2.4 points, 3.5x, 0.446, 33-36 | `make x` |" in table
    readme = f"# x\n\n{BEGIN}\nold\n{END}\n\nafter\n"
    assert replace_section(readme, table) == f"# x\n\n{BEGIN}\n{table}{END}\n\nafter\n"


def test_a_range_of_differences_pairs_each_row_with_its_own_baseline(tmp_path):
    """{lo}-{hi} of method minus baseline over settings: each setting's difference, then the range
    (not the range of the method's values minus the first setting's baseline)."""
    (tmp_path / "r.csv").write_text("method,setting,mean\nours,a,80\nbase,a,70\nours,b,60\nbase,b,58\n")
    spec = {"file": "r.csv", "column": "mean", "format": ".0f", "minus": {"method": "base"},
            "where": [{"method": "ours", "setting": "a"}, {"method": "ours", "setting": "b"}]}
    (tmp_path / "claims.yaml").write_text(json.dumps({"claims": [{
        "claim": "C", "target": "t", "measured": "{lo}-{hi}",
        "quotes": {"lo": {**spec, "reduce": "min"}, "hi": {**spec, "reduce": "max"}}}]}))
    assert "| C | 2-10 | t |" in claims_table(tmp_path / "claims.yaml", tmp_path)


def test_the_readme_claims_table_is_the_generated_one():
    """README.md's "What reproduces here" table is what ``motionlab-report readme`` makes of the
    results files: a changed result without a regenerated README fails here."""
    from helpers import REPO

    readme = (REPO / "README.md").read_text()
    table = claims_table(REPO / "experiments" / "claims.yaml", REPO)
    assert replace_section(readme, table) == readme
