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

from motionlab.eval.results import markdown_table, write_results


def collect(root: Path) -> list[dict]:
    """Every job's ``metrics.json`` below ``root`` (one per finished job)."""
    runs = [json.loads(p.read_text()) for p in sorted(Path(root).rglob("metrics.json"))]
    if not runs:
        raise FileNotFoundError(f"no metrics.json under {root}: did the multirun finish any job?")
    return runs


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f} (n=1)"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f} (n={len(values)})"


def table(runs: list[dict], methods: list[str] | None = None, settings: list[str] | None = None
          ) -> tuple[list[str], list[list[str]], list[list[object]]]:
    """(header, markdown rows, csv rows). CSV rows are long-form: method, setting, mean, std, n, seeds."""
    values: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for r in runs:
        values[(r["method"], r["setting"])][int(r["seed"])] = float(r["value"])
    methods = methods or list(dict.fromkeys(r["method"] for r in runs))
    settings = settings or sorted({r["setting"] for r in runs})
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
    args = ap.parse_args(argv)
    runs = [r for d in args.multirun_dir for r in collect(d)]
    metric = sorted({r["report_metric"] for r in runs})
    header, md_rows, csv_rows = table(runs, args.methods.split(",") if args.methods else None)
    print(f"{args.title} — {', '.join(metric)} (%), mean ± std over seeds\n")
    print(markdown_table(header, md_rows))
    if args.out:
        notes = f"Metric: {', '.join(metric)} (%), mean ± std over seeds; one row per method, one column per setting.\n"
        if args.notes:
            notes += "\n" + args.notes.read_text()
        command = args.command or " ".join(sys.argv)
        write_results(args.out, args.title, command, header, md_rows, notes, args.wall_time,
                      csv_header=["method", "setting", "mean", "std", "n", "values"], csv_rows=csv_rows)
        print(f"wrote {args.out / 'results.md'} and results.csv")


if __name__ == "__main__":
    main()
