"""Results files of reproduced experiments: every ``experiments/<name>/results.md`` starts with the
command, machine, commit, date and wall time, so a number can always be traced to a run."""

from __future__ import annotations

import csv
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB RAM, {gpu}, {platform.platform()}"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def results_header(title: str, command: str, wall_time_s: float | None = None) -> str:
    lines = [
        f"# {title}",
        "",
        f"- command: `{command}`",
        f"- machine: {machine_description()}",
        f"- commit: {git_commit()}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
    ]
    if wall_time_s is not None:
        lines.append(f"- wall time: {wall_time_s:.0f} s")
    return "\n".join(lines) + "\n"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(out) + "\n"


def write_results(out_dir: Path, title: str, command: str, header: Sequence[str],
                  rows: Sequence[Sequence[object]], notes: str = "", wall_time_s: float | None = None,
                  csv_header: Sequence[str] | None = None, csv_rows: Sequence[Sequence[object]] | None = None
                  ) -> Path:
    """Write ``results.md`` (header + table + notes) and ``results.csv`` into ``out_dir``. The CSV
    holds the table's rows unless ``csv_header``/``csv_rows`` give a machine-friendlier form."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = results_header(title, command, wall_time_s) + "\n" + markdown_table(header, rows)
    if notes:
        md += "\n" + notes.strip() + "\n"
    (out_dir / "results.md").write_text(md)
    with open(out_dir / "results.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_header or header)
        writer.writerows(csv_rows if csv_rows is not None else rows)
    return out_dir / "results.md"
