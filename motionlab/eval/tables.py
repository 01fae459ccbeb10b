"""The table shapes every paper's table is one of, built from :class:`~motionlab.eval.collect.Run`
records with the one statistics module (:mod:`motionlab.eval.stats`):

- :func:`setting_table`: one row per method, one column per setting (or swept value), mean ± sample
  std over seeds; with an oracle and a control, the fraction of the oracle gap closed per setting;
- :func:`paired_table`: per-seed differences to a baseline with 95 % CIs, and the smallest effect
  each cell could detect;
- :func:`metric_table`: one row per method, one column per metric (seeds pooled);
  :func:`metric_paired_table` and :func:`column_contrast_table`: its per-seed differences between
  methods, and between two columns of one method (fusion minus a stream).

Each returns ``(header, markdown rows[, csv rows])`` for :func:`motionlab.eval.results.write_results`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from motionlab.eval.collect import Run, by_seed, methods_in_order, natural_key
from motionlab.eval.stats import Summary, gap_closed, min_detectable_effect, paired_differences, summarize

GAP_HEADER = "gap closed"


@dataclass(frozen=True)
class Controls:
    """The two ends a method is placed between: ``control`` (the null, 0) and ``oracle`` (1)."""

    oracle: str
    control: str


def settings_of(runs: Sequence[Run]) -> list[str]:
    return sorted({r.setting for r in runs}, key=natural_key)


def format_fraction(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def _gap_cells(means: dict[tuple[str, str], float], method: str, setting: str, controls: Controls | None) -> list[str]:
    if controls is None:
        return []
    keys = [(method, setting), (controls.control, setting), (controls.oracle, setting)]
    if any(k not in means for k in keys):
        return ["–"]
    return [format_fraction(gap_closed(*(means[k] for k in keys)))]


def _with_gap_columns(settings: list[str], controls: Controls | None) -> list[str]:
    if controls is None:
        return settings
    return [h for s in settings for h in (s, f"{s}: {GAP_HEADER}")]


def setting_table(runs: Sequence[Run], methods: Sequence[str] | None = None, controls: Controls | None = None,
                  digits: int = 2) -> tuple[list[str], list[list[str]], list[list[object]]]:
    """(header, markdown rows, csv rows); CSV rows are long form: method, setting, mean, std, n, values
    (+ gap closed with ``controls``); std is empty for n = 1."""
    values = by_seed(runs)
    summaries = {k: summarize(v[s] for s in sorted(v)) for k, v in values.items()}
    means = {k: s.mean for k, s in summaries.items()}
    settings = settings_of(runs)
    header = ["method", *_with_gap_columns(settings, controls)]
    md_rows: list[list[str]] = []
    csv_rows: list[list[object]] = []
    for m in methods_in_order(runs, methods):
        row = [m]
        for s in settings:
            summary = summaries.get((m, s), summarize([]))
            gap = _gap_cells(means, m, s, controls)
            row += [summary.format(digits), *gap]
            if summary.n:
                seeds = values[(m, s)]
                std = "" if summary.std is None else round(summary.std, 4)
                csv_rows.append([m, s, round(summary.mean, 4), std, summary.n,
                                 " ".join(f"{seeds[k]:.4f}" for k in sorted(seeds)), *gap])
        md_rows.append(row)
    return header, md_rows, csv_rows


@dataclass
class PairedTable:
    """Differences to one baseline (mean ± std, 95 % CI) and the smallest effect each cell detects."""

    header: list[str]
    rows: list[list[str]]
    mde_header: list[str]
    mde_rows: list[list[str]]


def paired_table(runs: Sequence[Run], baseline: str, methods: Sequence[str] | None = None,
                 skip: Sequence[str] = (), controls: Controls | None = None, digits: int = 2,
                 key: str | None = None) -> PairedTable:
    """(method - baseline) on the same seed and setting, per method and setting. ``skip``: methods
    left out (the baselines of earlier paired tables); ``key``: a metric instead of the reported value."""
    values = by_seed(runs, key)
    means = {k: summarize(v.values()).mean for k, v in values.items()}
    settings = settings_of(runs)
    rows, mde_rows = [], []
    for m in methods_in_order(runs, methods):
        if m == baseline or m in skip:
            continue
        row, mde_row = [f"{m} - {baseline}"], [f"{m} - {baseline}"]
        for s in settings:
            diff = paired_differences(values.get((m, s), {}), values.get((baseline, s), {}))
            row += [diff.format(digits, signed=True, ci=True), *_gap_cells(means, m, s, controls)]
            mde_row.append(format_mde(diff, digits))
        rows.append(row)
        mde_rows.append(mde_row)
    return PairedTable(["paired difference", *_with_gap_columns(settings, controls)], rows,
                       ["smallest detectable effect", *settings], mde_rows)


def format_mde(diff: Summary, digits: int = 2) -> str:
    """The smallest detectable effect of a paired cell, with what it rests on."""
    if diff.std is None:
        return "– (n < 2)"
    return f"{min_detectable_effect(diff.std, diff.n):.{digits}f} (n = {diff.n})"


def metric_table(runs: Sequence[Run], columns: Sequence[tuple[str, str]], methods: Sequence[str] | None = None,
                 digits: int = 2) -> tuple[list[str], list[list[object]]]:
    """One row per method, one column per ``(header, metric key)``, mean ± std over seeds; a count
    (a key ending in ``params``) is printed whole, once, where every run agrees."""
    rows: list[list[object]] = []
    for method in methods_in_order(runs, methods):
        jobs = [r.metrics for r in runs if r.method == method]
        cells = [metric_cell([j[key] for j in jobs if key in j], digits, count=key.endswith("params"))
                 for _, key in columns]
        rows.append([method, *cells, len(jobs)])
    return ["method", *(name for name, _ in columns), "seeds"], rows


def timing_table(times: dict[str, dict[str, float]], jobs: int) -> tuple[list[str], list[list[str]]]:
    """Per stage name: distinct artifacts, median and total seconds; and the sum, the compute a sweep
    of these ``jobs`` needs from an empty store (``stage_wall_times``)."""
    rows = []
    for name, by_key in times.items():
        values = sorted(by_key.values())
        rows.append([name, str(len(values)), f"{values[len(values) // 2]:.1f}", f"{math.fsum(values):.0f}"])
    total = math.fsum(v for by_key in times.values() for v in by_key.values())
    rows.append([f"all stages ({jobs} jobs)", str(sum(len(v) for v in times.values())), "", f"{total:.0f}"])
    return ["stage", "distinct artifacts", "median (s)", "total (s)"], rows


def difference_cell(diff: Summary, digits: int = 2) -> str:
    """A difference's mean ± std with its 95 % CI and the smallest effect its pairs could detect."""
    if diff.n == 0:
        return "–"
    return f"{diff.format(digits, signed=True, ci=True)}; detectable: {format_mde(diff, digits)}"


def metric_paired_table(runs: Sequence[Run], baseline: str, columns: Sequence[tuple[str, str]],
                        methods: Sequence[str] | None = None, digits: int = 2) -> tuple[list[str], list[list[str]]]:
    """(method - baseline) on the same seed, per method and ``(header, metric key)`` column, with the
    95 % CI and the smallest effect the pairs could detect; counts (``*params``) are left out."""
    columns = [(name, key) for name, key in columns if not key.endswith("params")]
    per_seed = {m: {key: {r.seed: r.metrics[key] for r in runs if r.method == m and key in r.metrics}
                    for _, key in columns} for m in methods_in_order(runs, methods)}
    rows = []
    for m, values in per_seed.items():
        if m == baseline or baseline not in per_seed:
            continue
        cells = []
        for _, key in columns:
            diff = paired_differences(values[key], per_seed[baseline][key])
            cells.append(difference_cell(diff, digits))
        rows.append([f"{m} - {baseline}", *cells])
    return ["paired difference", *(name for name, _ in columns)], rows


def column_contrast_table(runs: Sequence[Run], contrasts: Sequence[tuple[str, str]],
                          columns: Sequence[tuple[str, str]], methods: Sequence[str] | None = None,
                          digits: int = 2) -> tuple[list[str], list[list[str]]]:
    """Per method, ``column a - column b`` of the same run (e.g. fusion minus one stream), over the
    seeds, with the 95 % CI and the smallest effect the pairs could detect. ``contrasts`` name the
    columns by their headers in ``columns`` (``(header, metric key)``)."""
    keys = dict(columns)
    unknown = [name for pair in contrasts for name in pair if name not in keys]
    if unknown:
        raise ValueError(f"contrast columns {unknown} are not among the table's columns {list(keys)}")
    rows = []
    for m in methods_in_order(runs, methods):
        jobs = [r.metrics for r in runs if r.method == m]
        cells = []
        for a, b in contrasts:
            diff = summarize(j[keys[a]] - j[keys[b]] for j in jobs if keys[a] in j and keys[b] in j)
            cells.append(difference_cell(diff, digits))
        rows.append([m, *cells])
    return ["method", *(f"{a} − {b}" for a, b in contrasts)], rows


def metric_cell(values: Sequence[float], digits: int = 2, count: bool = False) -> str:
    if not values:
        return "–"
    if count and len(set(values)) == 1:
        return f"{int(values[0]):,}"
    return summarize(values).format(digits, show_n=False)
