"""``motionlab-report``: every table of every paper from the runs' ``metrics.json`` (markdown + CSV,
with command, machine, commit and wall time), through one collector and one statistics module.

    motionlab-report DIR... --out experiments/main [--paired A,B] [--oracle M --control M]   # methods x settings
    motionlab-report cgmu DIR --out experiments/cgmu                                         # CGMU table + figure
    motionlab-report uftsn DIR... --out D --title T --column "HEADER=stage/metric" ...        # methods x metrics
    motionlab-report readme [--check]                      # README "What reproduces here" from experiments/claims.yaml
    motionlab-report curves DIR... --out F.png [--methods A,B]        # validation curves of every training stage
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from motionlab.eval.collect import collect_runs, methods_in_order, stage_wall_times
from motionlab.eval.results import markdown_table, write_results
from motionlab.eval.tables import (
    Controls,
    column_contrast_table,
    metric_paired_table,
    metric_table,
    paired_table,
    setting_table,
    timing_table,
)

SUBCOMMANDS = ("cgmu", "uftsn", "readme", "curves")


def _common(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--command", default=None, help="the command that produced the runs (for the header)")
    ap.add_argument("--wall-time", type=float, default=None, help="seconds the runs took")
    ap.add_argument("--notes", type=Path, default=None, help="markdown appended under the table")


def _command(args: argparse.Namespace) -> str:
    return args.command or " ".join(sys.argv)


def _notes(args: argparse.Namespace) -> str:
    return "\n" + args.notes.read_text() if args.notes else ""


def settings_main(argv: list[str]) -> None:
    """One row per method, one column per setting (or swept value), paired tables to baselines."""
    ap = argparse.ArgumentParser(prog="motionlab-report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("multirun_dir", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, help="write results.md and results.csv here")
    ap.add_argument("--title", default="Results")
    ap.add_argument("--methods", default=None, help="comma-separated row order")
    ap.add_argument("--column", default=None, help="config key whose values are the columns (default: setting)")
    ap.add_argument("--plot", action="store_true", help="with --column: also save results.png (accuracy vs column)")
    ap.add_argument("--paired", default=None, metavar="METHOD[,METHOD...]",
                    help="also tabulate each method's per-seed difference to METHOD (same seeds); several "
                         "baselines give one table each, without the rows of the baselines before")
    ap.add_argument("--oracle", default=None, metavar="METHOD", help="with --control: the best the mechanism gives")
    ap.add_argument("--control", default=None, metavar="METHOD", help="with --oracle: the null (0 of the gap)")
    _common(ap)
    args = ap.parse_args(argv)
    if (args.oracle is None) != (args.control is None):
        ap.error("--oracle and --control go together")
    controls = Controls(args.oracle, args.control) if args.oracle else None
    runs = collect_runs(args.multirun_dir, args.column)
    metric = ", ".join(sorted({r.report_metric for r in runs}))
    methods = args.methods.split(",") if args.methods else None
    header, md_rows, csv_rows = setting_table(runs, methods, controls)
    print(f"{args.title} — {metric} (%), mean ± sample std over seeds\n")
    print(markdown_table(header, md_rows))
    notes = f"Metric: {metric} (%), mean ± sample std over seeds; one row per method, one column per setting.\n"
    if controls:
        notes += (f"\n\"gap closed\": (method − {controls.control}) / ({controls.oracle} − {controls.control}) of the "
                  f"seed means in that column: 0 is the control {controls.control}, 1 the oracle {controls.oracle}.\n")
    baselines = args.paired.split(",") if args.paired else []
    for i, baseline in enumerate(baselines):
        paired = paired_table(runs, baseline, methods, baselines[:i], controls)
        print(f"\npaired differences to {baseline}:\n" + markdown_table(paired.header, paired.rows))
        notes += f"\n## Paired differences to {baseline} (percentage points, mean ± sample std, 95 % CI)\n\n"
        if i == 0:
            notes += ("Per seed and setting, method minus baseline: runs of one seed share the data sample and "
                      "(for Algorithm 1) the step-1 initialisation. 95 % CI: Student t over the seeds.\n\n")
        notes += markdown_table(paired.header, paired.rows)
        notes += ("\nSmallest effect each cell could detect (two-sided paired t-test, α = 0.05, power 0.8, "
                  "from its sd of differences):\n\n" + markdown_table(paired.mde_header, paired.mde_rows))
    times = stage_wall_times(runs)
    if times:
        t_header, t_rows = timing_table(times, len(runs))
        notes += ("\n## Where the time went\n\nWall time of each distinct stage artifact the jobs used, when it "
                  "was computed (a stage shared by jobs counts once; `done.json` of each artifact). The total is "
                  "the compute from an empty store, in seconds of one job.\n\n" + markdown_table(t_header, t_rows))
    notes += _notes(args)
    if args.out:
        csv_header = ["method", "setting", "mean", "std", "n", "values"] + (["gap_closed"] if controls else [])
        write_results(args.out, args.title, _command(args), header, md_rows, notes, args.wall_time,
                      csv_header=csv_header, csv_rows=csv_rows)
        print(f"wrote {args.out / 'results.md'} and results.csv")
        if args.plot and args.column:
            from motionlab.eval.figures import plot_columns

            plotted = methods_in_order(runs, methods)
            print(f"wrote {plot_columns(runs, plotted, args.out / 'results.png', args.column)}")


def cgmu_main(argv: list[str]) -> None:
    """The CGMU table + example figure of a ``make reproduce-cgmu*`` sweep."""
    from motionlab.eval.cgmu_table import report

    ap = argparse.ArgumentParser(prog="motionlab-report cgmu", description=cgmu_main.__doc__)
    ap.add_argument("multirun_dir", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    _common(ap)
    args = ap.parse_args(argv)
    print(report(args.multirun_dir, args.out, _command(args), args.wall_time).read_text())


def uftsn_main(argv: list[str]) -> None:
    """A UF-TSN table: one row per method, one column per ``HEADER=stage/metric``, seeds pooled."""
    ap = argparse.ArgumentParser(prog="motionlab-report uftsn", description=uftsn_main.__doc__)
    ap.add_argument("dirs", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--title", required=True)
    ap.add_argument("--column", action="append", required=True, metavar="HEADER=METRIC",
                    help="e.g. 'motion top-1 (%%)=motion/top1'; repeat for more columns")
    ap.add_argument("--methods", default=None, help="comma-separated row order")
    ap.add_argument("--paired", default=None, metavar="METHOD",
                    help="also a table of every column's paired difference to this method, per seed, with 95 %% CIs")
    ap.add_argument("--contrast", action="append", nargs=2, default=[], metavar=("HEADER_A", "HEADER_B"),
                    help="also column A minus column B of each run, per method, with 95 %% CIs; repeatable")
    _common(ap)
    args = ap.parse_args(argv)
    columns = [tuple(c.rsplit("=", 1)) for c in args.column]
    runs = collect_runs(args.dirs)
    methods = args.methods.split(",") if args.methods else None
    header, rows = metric_table(runs, columns, methods)
    notes = ""
    if args.paired:
        p_header, p_rows = metric_paired_table(runs, args.paired, columns, methods)
        notes = (f"\n## Paired differences to {args.paired} (same seed; mean ± sample std, 95 % CI; the smallest "
                 "effect a two-sided paired t-test detects at power 0.8)\n\n" + markdown_table(p_header, p_rows))
    if args.contrast:
        c_header, c_rows = column_contrast_table(runs, [tuple(c) for c in args.contrast], columns, methods)
        notes += ("\n## Within each run: one column minus another (mean ± sample std over seeds, 95 % CI; the "
                  "smallest effect a two-sided paired t-test detects at power 0.8)\n\n"
                  + markdown_table(c_header, c_rows))
    path = write_results(args.out, args.title, _command(args), header, rows, notes + _notes(args), args.wall_time)
    print(path.read_text())


def readme_main(argv: list[str]) -> None:
    """Regenerate the README's claims table from the results files (``--check``: only compare)."""
    from motionlab.eval.claims import claims_table, replace_section

    ap = argparse.ArgumentParser(prog="motionlab-report readme", description=readme_main.__doc__)
    ap.add_argument("--claims", type=Path, default=Path("experiments/claims.yaml"))
    ap.add_argument("--readme", type=Path, default=Path("README.md"))
    ap.add_argument("--root", type=Path, default=Path("."), help="the paths in the claims spec are relative to this")
    ap.add_argument("--check", action="store_true", help="exit 1 if the README's table is not the generated one")
    args = ap.parse_args(argv)
    text = args.readme.read_text()
    updated = replace_section(text, claims_table(args.claims, args.root))
    if args.check:
        if updated != text:
            sys.exit(f"motionlab-report: {args.readme}'s claims table differs from {args.claims}: run "
                     "`motionlab-report readme`")
        print(f"{args.readme}: the claims table matches {args.claims}")
        return
    args.readme.write_text(updated)
    print(f"wrote the claims table of {args.readme}")


def curves_main(argv: list[str]) -> None:
    """Validation accuracy vs step of every training stage the runs used (mean over seeds)."""
    from motionlab.eval.figures import plot_stage_curves

    ap = argparse.ArgumentParser(prog="motionlab-report curves", description=curves_main.__doc__)
    ap.add_argument("dirs", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True, help="the figure (.png)")
    ap.add_argument("--methods", default=None, help="comma-separated panel order")
    args = ap.parse_args(argv)
    runs = collect_runs(args.dirs)
    methods = methods_in_order(runs, args.methods.split(",") if args.methods else None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {plot_stage_curves(runs, methods, args.out)}")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    commands = {"cgmu": cgmu_main, "uftsn": uftsn_main, "readme": readme_main, "curves": curves_main}
    if argv and argv[0] in commands:
        commands[argv[0]](argv[1:])
    else:
        settings_main(argv)


if __name__ == "__main__":
    main()
