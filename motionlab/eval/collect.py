"""The one collector of finished jobs: every ``metrics.json`` a sweep left (``motionlab.task.train``
writes one per job), read into :class:`Run` records that every table of every paper starts from."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf


@dataclass
class Run:
    """One finished job: its method, setting (or swept value) and seed, the reported metric's value
    and every stage's metrics flattened to ``<stage>/<metric>``."""

    method: str
    setting: str
    seed: int
    value: float
    report_metric: str
    metrics: dict[str, float] = field(default_factory=dict)
    pipeline: str = ""
    run_dir: Path | None = None


def collect_runs(dirs: Path | Iterable[Path], column: str | None = None) -> list[Run]:
    """Every job's ``metrics.json`` below ``dirs``. With ``column`` (a config key such as
    ``data.image.shots_per_class``) a run's setting is that key's value, read from the job's
    ``.hydra/config.yaml``, so that the swept value becomes the table's columns."""
    roots = [Path(dirs)] if isinstance(dirs, str | Path) else [Path(d) for d in dirs]
    runs = []
    for root in roots:
        for path in sorted(root.rglob("metrics.json")):
            job: dict[str, Any] = json.loads(path.read_text())
            setting = str(job.get("setting", ""))
            if column:
                cfg = OmegaConf.load(path.parent / ".hydra" / "config.yaml")
                setting = f"{column.rsplit('.', 1)[-1]}={OmegaConf.select(cfg, column)}"
            metrics, report_metric = job.get("metrics", {}), str(job.get("report_metric", ""))
            runs.append(Run(method=str(job["method"]), setting=setting, seed=int(job["seed"]),
                            value=float(job.get("value", metrics.get(report_metric, float("nan")))),
                            report_metric=report_metric, metrics=metrics, pipeline=str(job.get("pipeline", "")),
                            run_dir=path.parent))
    if not runs:
        raise FileNotFoundError(f"no metrics.json under {[str(r) for r in roots]}: did the sweep finish any job?")
    return runs


def by_seed(runs: Iterable[Run], key: str | None = None) -> dict[tuple[str, str], dict[int, float]]:
    """(method, setting) -> {seed: value}; ``key``: a flat metric instead of the reported value (runs
    without it are left out)."""
    out: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for r in runs:
        if key is None:
            out[(r.method, r.setting)][r.seed] = r.value
        elif key in r.metrics:
            out[(r.method, r.setting)][r.seed] = float(r.metrics[key])
    return out


def stage_wall_times(runs: Iterable[Run]) -> dict[str, dict[str, float]]:
    """Stage name -> {store key: seconds} over the distinct artifacts the runs used, from each job's
    ``stages.json`` and each artifact's ``done.json``: an artifact shared by several jobs (or by two
    stage names, e.g. UNREG's classifier and Algorithm 1's step 1) counts once, under the first name
    met, with the time it took when it was computed. Paths in ``stages.json`` are relative to the
    directory the sweep ran in (the current one)."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    seen: set[str] = set()
    for r in runs:
        index = r.run_dir / "stages.json" if r.run_dir else None
        if index is None or not index.is_file():
            continue
        for name, stage in json.loads(index.read_text()).items():
            done = Path(stage["dir"]) / "done.json"
            if stage["dir"] not in seen and done.is_file():
                seen.add(stage["dir"])
                seconds = json.loads(done.read_text()).get("wall_time_s")
                if seconds is not None:
                    out[name][stage["key"]] = float(seconds)
    return dict(out)


def methods_in_order(runs: Iterable[Run], order: Iterable[str] | None = None) -> list[str]:
    """``order`` where given, else the methods in the order they were found."""
    return list(order) if order else list(dict.fromkeys(r.method for r in runs))


def natural_key(text: str) -> tuple:
    """Sort "shots_per_class=10" after "shots_per_class=5"."""
    head, _, tail = text.partition("=")
    try:
        return (head, float(tail), "")
    except ValueError:
        return (head, float("inf"), text)
