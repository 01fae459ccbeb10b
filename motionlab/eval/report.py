"""``motionlab-report``: a multirun directory -> one table, mean ± std over seeds, one row per
method, one column per setting (markdown + CSV, with command, machine, commit and wall time).

    motionlab-report outputs/multirun/2026... --out experiments/main --title "UNREG, four settings"
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf

from motionlab.eval.results import markdown_table, write_results


def collect(root: Path, column: str | None = None) -> list[dict]:
    """Every job's ``metrics.json`` below ``root`` (one per finished job). With ``column`` (a config
    key such as ``data.image.shots_per_class``) the table's columns are that key's values, read from
    the job's ``.hydra/config.yaml``, instead of the settings."""
    runs = []
    for path in sorted(Path(root).rglob("metrics.json")):
        run = json.loads(path.read_text())
        if column:
            cfg = OmegaConf.load(path.parent / ".hydra" / "config.yaml")
            run["setting"] = f"{column.rsplit('.', 1)[-1]}={OmegaConf.select(cfg, column)}"
        runs.append(run)
    if not runs:
        raise FileNotFoundError(f"no metrics.json under {root}: did the multirun finish any job?")
    return runs


def plot_columns(runs: list[dict], methods: list[str], out: Path, xlabel: str) -> Path:
    """Mean ± std over seeds per method against the numeric column (Zhang et al. Figure 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m in methods:
        by_x: dict[float, list[float]] = defaultdict(list)
        for r in runs:
            if r["method"] == m:
                by_x[float(r["setting"].split("=", 1)[1])].append(float(r["value"]))
        xs = sorted(by_x)
        means = [statistics.mean(by_x[x]) for x in xs]
        stds = [statistics.stdev(by_x[x]) if len(by_x[x]) > 1 else 0.0 for x in xs]
        ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=m)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def mean_std(values: list[float], signed: bool = False) -> str:
    sign = "+" if signed else ""
    if len(values) == 1:
        return f"{values[0]:{sign}.2f} (n=1)"
    return f"{statistics.mean(values):{sign}.2f} ± {statistics.stdev(values):.2f} (n={len(values)})"


def _natural(text: str) -> tuple:
    """Sort "shots_per_class=10" after "shots_per_class=5"."""
    head, _, tail = text.partition("=")
    try:
        return (head, float(tail), "")
    except ValueError:
        return (head, float("inf"), text)


def table(runs: list[dict], methods: list[str] | None = None, settings: list[str] | None = None
          ) -> tuple[list[str], list[list[str]], list[list[object]]]:
    """(header, markdown rows, csv rows). CSV rows are long-form: method, setting, mean, std, n, seeds."""
    values: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for r in runs:
        values[(r["method"], r["setting"])][int(r["seed"])] = float(r["value"])
    methods = methods or list(dict.fromkeys(r["method"] for r in runs))
    settings = settings or sorted({r["setting"] for r in runs}, key=_natural)
    header = ["method", *settings]
    md_rows, csv_rows = [], []
    for m in methods:
        row = [m]
        for s in settings:
            seeds = values.get((m, s), {})
            vals = [seeds[k] for k in sorted(seeds)]
            row.append(mean_std(vals) if vals else "–")
            if vals:
                std = statistics.stdev(vals) if len(vals) > 1 else 0.0
                csv_rows.append([m, s, round(statistics.mean(vals), 4), round(std, 4), len(vals),
                                 " ".join(f"{v:.4f}" for v in vals)])
        md_rows.append(row)
    return header, md_rows, csv_rows


def paired_table(runs: list[dict], baseline: str, methods: list[str] | None = None, skip: tuple[str, ...] = ()
                 ) -> tuple[list[str], list[list[str]]]:
    """Mean ± std over seeds of (method - baseline) on the same seed and setting. The jobs of one seed
    share their step-1 initialisation and data sample, so the paired difference removes most of the
    seed-to-seed spread that dominates the plain table at 3 seeds. ``skip``: methods left out (the
    baselines of earlier paired tables)."""
    values: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for r in runs:
        values[(r["method"], r["setting"])][int(r["seed"])] = float(r["value"])
    methods = [m for m in (methods or dict.fromkeys(r["method"] for r in runs)) if m != baseline and m not in skip]
    settings = sorted({r["setting"] for r in runs}, key=_natural)
    rows = []
    for m in methods:
        row = [f"{m} - {baseline}"]
        for s in settings:
            ours, base = values.get((m, s), {}), values.get((baseline, s), {})
            diffs = [ours[k] - base[k] for k in sorted(ours.keys() & base.keys())]
            row.append(mean_std(diffs, signed=True) if diffs else "–")
        rows.append(row)
    return ["paired difference", *settings], rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="motionlab-report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("multirun_dir", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, help="write results.md and results.csv here")
    ap.add_argument("--title", default="Results")
    ap.add_argument("--command", default=None, help="the command that produced the runs (for the header)")
    ap.add_argument("--wall-time", type=float, default=None, help="seconds the runs took")
    ap.add_argument("--methods", default=None, help="comma-separated row order")
    ap.add_argument("--notes", type=Path, default=None, help="markdown appended under the table")
    ap.add_argument("--column", default=None, help="config key whose values are the columns (default: setting)")
    ap.add_argument("--plot", action="store_true", help="with --column: also save results.png (accuracy vs column)")
    ap.add_argument("--paired", default=None, metavar="METHOD[,METHOD...]",
                    help="also tabulate each method's per-seed difference to METHOD (same seeds); several "
                         "baselines give one table each, without the rows of the baselines before")
    args = ap.parse_args(argv)
    runs = [r for d in args.multirun_dir for r in collect(d, args.column)]
    metric = sorted({r["report_metric"] for r in runs})
    methods = args.methods.split(",") if args.methods else None
    header, md_rows, csv_rows = table(runs, methods)
    print(f"{args.title} — {', '.join(metric)} (%), mean ± std over seeds\n")
    print(markdown_table(header, md_rows))
    baselines = args.paired.split(",") if args.paired else []
    paired = {b: paired_table(runs, b, methods, skip=tuple(baselines[:i])) for i, b in enumerate(baselines)}
    for b, (paired_header, paired_rows) in paired.items():
        print(f"\npaired differences to {b}:\n" + markdown_table(paired_header, paired_rows))
    if args.out:
        notes = f"Metric: {', '.join(metric)} (%), mean ± std over seeds; one row per method, one column per setting.\n"
        for i, (b, (paired_header, paired_rows)) in enumerate(paired.items()):
            notes += f"\n## Paired differences to {b} (percentage points, mean ± std over seeds)\n\n"
            if i == 0:
                notes += ("Per seed and setting, method minus baseline: runs of one seed share the data sample and "
                          "(for Algorithm 1) the step-1 initialisation.\n\n")
            notes += markdown_table(paired_header, paired_rows)
        if args.notes:
            notes += "\n" + args.notes.read_text()
        command = args.command or " ".join(sys.argv)
        write_results(args.out, args.title, command, header, md_rows, notes, args.wall_time,
                      csv_header=["method", "setting", "mean", "std", "n", "values"], csv_rows=csv_rows)
        print(f"wrote {args.out / 'results.md'} and results.csv")
        if args.plot and args.column:
            plotted = methods or list(dict.fromkeys(r["method"] for r in runs))
            print(f"wrote {plot_columns(runs, plotted, args.out / 'results.png', args.column)}")


if __name__ == "__main__":
    main()
