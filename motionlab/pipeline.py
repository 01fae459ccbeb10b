"""Stages, the shared artifact store, and the pipeline runner.

A stage does one job and writes its artifacts into a directory of the store keyed by the hash of
its own config, the config slices it reads (``uses``), its inputs' keys and the numerics around it
(trainer precision, determinism and devices, the torch version, flow backends' versions: a GPU run
in 16-bit never reuses a 32-bit CPU artifact). Every job of a sweep
shares the store, so a prefix common to many jobs (pseudo labels, a step-1 initialisation) is
computed once; a file lock makes parallel jobs wait instead of computing it twice. Work happens in
``<key>.partial/`` (where a killed training stage finds its last checkpoint) and becomes
``<key>/`` by one atomic rename, after ``done.json`` is written.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from omegaconf import DictConfig, OmegaConf

from motionlab.core.errors import DataError
from motionlab.core.hashing import config_hash
from motionlab.core.io import atomic_write_text
from motionlab.core.rank import is_rank_zero
from motionlab.core.schema import validate_node

log = logging.getLogger(__name__)

DONE = "done.json"


@dataclass
class StageContext:
    """What a stage sees: its validated params, the whole run config, finished inputs, and where to
    write. ``inputs`` maps the alias from the pipeline config to an earlier stage's artifact dir."""

    name: str
    params: DictConfig
    cfg: DictConfig
    inputs: dict[str, Path]
    work_dir: Path
    run_dir: Path
    is_rank_zero: bool = True
    key: str = ""  # the store key: everything that may change the result (the stage's seed derives from it)

    def input_done(self, alias: str) -> dict[str, Any]:
        return read_done(self.inputs[alias])


class Stage(abc.ABC):
    """Base class of every stage. Subclasses set ``kind``, ``Params`` (a dataclass of
    hyper-parameters, validated against the config) and ``uses`` (dotted config slices that change
    the result, e.g. ``"data.video"``), and implement ``run``."""

    kind: ClassVar[str]
    Params: ClassVar[type]
    uses: ClassVar[tuple[str, ...]] = ()
    seeded: ClassVar[bool] = True  # whether ``cfg.seed`` changes the result
    trains: ClassVar[bool] = False  # a Lightning stage: every DDP rank must run it
    unkeyed: ClassVar[tuple[str, ...]] = ()  # params that change speed, not results (e.g. workers)
    # A param named in FLOW_BACKEND_PARAMS names flow backends: their implementation (library
    # version, weights digest) enters the key, since a new OpenCV can change TV-L1's flow.

    def prepare(self, name: str, params: DictConfig) -> None:
        """Fetch what ``run`` will need from outside (pretrained weights) before any stage of the
        pipeline runs, so a missing download fails the run at its start and not after hours of
        earlier stages; ``name`` is the stage's name in the pipeline, for messages. Default: nothing."""
        return None

    @abc.abstractmethod
    def run(self, ctx: StageContext) -> dict[str, Any]:
        """Do the work, write artifacts into ``ctx.work_dir``, return scalar metrics."""


STAGES: dict[str, type[Stage]] = {}


def register_stage(cls: type[Stage]) -> type[Stage]:
    STAGES[cls.kind] = cls
    return cls


def _load_stages() -> None:
    import motionlab.stages  # noqa: F401  (imports register every stage)


def get_stage(kind: str) -> type[Stage]:
    _load_stages()
    if kind not in STAGES:
        raise KeyError(f"unknown stage kind {kind!r}; valid: {sorted(STAGES)}")
    return STAGES[kind]


# ----------------------------------------------------------------------------------------- I/O
def read_done(stage_dir: Path) -> dict[str, Any]:
    return json.loads((Path(stage_dir) / DONE).read_text())


def plain(node: Any) -> Any:
    """A config node as plain Python containers (resolved), anything else unchanged."""
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


# ------------------------------------------------------------------------------------- store
class ArtifactStore:
    """``root/<kind>/<key>/`` holds one finished stage; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def final_dir(self, kind: str, key: str) -> Path:
        return self.root / kind / key

    def partial_dir(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.partial"

    def is_done(self, kind: str, key: str) -> bool:
        return (self.final_dir(kind, key) / DONE).exists()

    @contextlib.contextmanager
    def claim(self, kind: str, key: str) -> Iterator[bool]:
        """Hold the key's lock; yields True if the caller must compute it, False if it is done.
        The lock is an ``flock``: released by the kernel if the holder dies, so SIGKILL never
        leaves a stale claim."""
        (self.root / kind).mkdir(parents=True, exist_ok=True)
        with open(self.root / kind / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield not self.is_done(kind, key)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def publish(self, kind: str, key: str) -> Path:
        final = self.final_dir(kind, key)
        os.replace(self.partial_dir(kind, key), final)
        return final


# ------------------------------------------------------------------------------------- numerics
# Trainer settings that change a training stage's numbers; ``num_workers``, ``progress_bar`` and
# ``log_every_n_steps`` change only speed and output, so they stay out of the keys.
TRAINER_NUMERICS = ("accelerator", "devices", "num_nodes", "strategy", "precision", "deterministic")
# Stage params that name flow backends -> the param holding that backend's params (or None).
FLOW_BACKEND_PARAMS: dict[str, str | None] = {"backend": "backend_params", "flow_source": None,
                                             "compare_with": None}
# Flow that no library computes: the ground truth, and the learned net of an input stage (whose key
# already covers its weights).
_NOT_A_BACKEND = ("ground_truth", "learned")


def flow_implementation(name: str, params: dict[str, Any] | None = None) -> str:
    """What besides its params makes a flow backend's output (e.g. ``opencv-4.10.0``)."""
    if name in _NOT_A_BACKEND:
        return name
    from motionlab.flow.base import build_flow

    return build_flow(name, **(params or {})).implementation()


def stage_numerics(stage: Stage, params: dict[str, Any], cfg: DictConfig) -> dict[str, Any]:
    """Everything outside the stage's config that changes its numbers: for a training stage the
    trainer's precision, determinism and device layout (the per-device batch) and the torch version;
    for any stage the implementation of each flow backend it names."""
    import torch

    out: dict[str, Any] = {"torch": torch.__version__}
    if stage.trains:
        trainer = cfg.get("trainer") or {}
        out["trainer"] = {k: plain(trainer.get(k)) for k in TRAINER_NUMERICS}
    flows: dict[str, str] = {}
    for key, params_key in FLOW_BACKEND_PARAMS.items():
        names = params.get(key)
        for name in [names] if isinstance(names, str) else names or []:
            flows[name] = flow_implementation(name, params.get(params_key) if params_key else None)
    if flows:
        out["flow"] = flows
    return out


# ---------------------------------------------------------------------------------- pipeline
@dataclass
class PlannedStage:
    name: str
    stage: Stage
    params: DictConfig
    inputs: dict[str, str]  # alias -> stage name
    key: str = ""


def _select(cfg: DictConfig, dotted: str) -> Any:
    return plain(OmegaConf.select(cfg, dotted))


def plan_pipeline(cfg: DictConfig) -> list[PlannedStage]:
    """Validate every stage's params and compute its key, before any work starts."""
    specs = cfg.pipeline.stages
    planned: dict[str, PlannedStage] = {}
    for name in _topological_order(specs):
        spec = specs[name]
        stage_cls = get_stage(spec.kind)
        params = validate_node(stage_cls.Params, spec.get("params") or {}, f"pipeline.stages.{name}.params")
        if cfg.get("smoke_steps") and "max_steps" in params:
            params.max_steps = min(int(params.max_steps), int(cfg.smoke_steps))
        inputs = dict(spec.get("inputs") or {})
        item = PlannedStage(name, stage_cls(), params, inputs)
        keyed = {k: v for k, v in plain(params).items() if k not in stage_cls.unkeyed}
        item.key = config_hash(
            {
                "kind": stage_cls.kind,
                "params": keyed,
                "numerics": stage_numerics(item.stage, keyed, cfg),
                "uses": {u: _select(cfg, u) for u in stage_cls.uses},
                "seed": int(cfg.seed) if stage_cls.seeded else None,
                "inputs": {alias: planned[src].key for alias, src in inputs.items()},
            }
        )
        planned[name] = item
    return list(planned.values())


def _topological_order(specs: DictConfig) -> list[str]:
    """Config order, except that a stage always comes after the stages it reads."""
    names = list(specs.keys())
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise ValueError(f"pipeline has a cycle through stage {name!r}")
        if name not in specs:
            raise KeyError(f"a stage reads {name!r}, which is not in the pipeline; stages: {names}")
        visiting.add(name)
        for src in (specs[name].get("inputs") or {}).values():
            visit(src)
        visiting.discard(name)
        order.append(name)

    for name in names:
        visit(name)
    return order


def run_pipeline(cfg: DictConfig, run_dir: Path) -> dict[str, dict[str, Any]]:
    """Run (or skip, where finished) every stage; returns each stage's ``done.json``."""
    run_dir = Path(run_dir)
    store = ArtifactStore(Path(cfg.paths.store_dir))
    results: dict[str, dict[str, Any]] = {}
    finished: dict[str, Path] = {}
    planned = plan_pipeline(cfg)
    prepare_stages(planned, store)
    for item in planned:
        kind = item.stage.kind
        ctx = StageContext(
            name=item.name,
            params=item.params,
            cfg=cfg,
            inputs={alias: finished[src] for alias, src in item.inputs.items()},
            work_dir=store.partial_dir(kind, item.key),
            run_dir=run_dir,
            is_rank_zero=is_rank_zero(),
            key=item.key,
        )
        if ctx.is_rank_zero:
            with store.claim(kind, item.key) as must_run:
                if must_run:
                    _execute(item, ctx, store)
                else:
                    log.info("stage %s (%s/%s) already done, skipping", item.name, kind, item.key)
        else:
            _follow(item, ctx, store)
        final = store.final_dir(kind, item.key)
        finished[item.name] = final
        results[item.name] = read_done(final)
        if ctx.is_rank_zero:
            _link(run_dir / "stages" / item.name, final)
    if is_rank_zero():
        manifest = {name: {"kind": r["kind"], "key": r["key"], "dir": str(finished[name])}
                    for name, r in results.items()}
        atomic_write_text(run_dir / "stages.json", json.dumps(manifest, indent=2))
    return results


def prepare_stages(planned: list[PlannedStage], store: ArtifactStore) -> None:
    """``Stage.prepare`` of every stage still to run; the fixes of all that fail in one message."""
    errors = []
    for item in planned:
        if store.is_done(item.stage.kind, item.key):
            continue
        try:
            item.stage.prepare(item.name, item.params)
        except DataError as err:
            errors.append(str(err))
    if errors:
        raise DataError(" | ".join(errors))


def _execute(item: PlannedStage, ctx: StageContext, store: ArtifactStore) -> None:
    kind = item.stage.kind
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    resumed = any(ctx.work_dir.iterdir())
    log.info("stage %s (%s/%s): %s", item.name, kind, item.key, "resuming" if resumed else "running")
    start = time.time()
    metrics = item.stage.run(ctx)
    done = {
        "stage": item.name,
        "kind": kind,
        "key": item.key,
        "params": plain(item.params),
        "inputs": {alias: str(p) for alias, p in ctx.inputs.items()},
        "metrics": metrics,
        "wall_time_s": round(time.time() - start, 3),
        "resumed": resumed,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    shutil.rmtree(ctx.work_dir / "checkpoints", ignore_errors=True)  # resume state, not an artifact
    atomic_write_text(ctx.work_dir / DONE, json.dumps(done, indent=2, default=float))
    store.publish(kind, item.key)


def _follow(item: PlannedStage, ctx: StageContext, store: ArtifactStore, poll_s: float = 0.5) -> None:
    """A non-zero DDP rank: join training stages, wait for rank 0 to publish every stage."""
    kind = item.stage.kind
    if item.stage.trains and not store.is_done(kind, item.key):
        item.stage.run(ctx)
    while not store.is_done(kind, item.key):
        time.sleep(poll_s)


def _link(link: Path, target: Path) -> None:
    """``link`` -> ``target`` by absolute path: a relative store path (the default ``outputs``) names a
    folder relative to the working directory, not to the link."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        else:
            link.unlink()
    link.symlink_to(target.resolve(), target_is_directory=True)

