"""The stage pipeline: keys, skipping, recomputing only what changed, one computation under
parallel jobs, and a SIGKILLed training stage that resumes to the same numbers."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO, run_cli
from omegaconf import OmegaConf

from motionlab.core.io import atomic_write_text
from motionlab.pipeline import STAGES, Stage, plan_pipeline, register_stage, run_pipeline


@dataclass
class CountParams:
    sleep_s: float = 0.0
    value: int = 1


@register_stage
class CountingStage(Stage):
    """Appends a line to a shared file each time it really runs."""

    kind = "test_counting"
    Params = CountParams
    seeded = False

    def run(self, ctx):
        time.sleep(ctx.params.sleep_s)
        with open(Path(ctx.cfg.paths.output_root) / "runs.log", "a") as f:
            f.write(f"{ctx.name}\n")
        atomic_write_text(ctx.work_dir / "value.txt", str(ctx.params.value))
        return {"value": ctx.params.value}


def _counting_cfg(root: Path, value: int = 1, sleep_s: float = 0.0):
    return OmegaConf.create({
        "seed": 0,
        "paths": {"output_root": str(root), "store_dir": str(root / "store")},
        "pipeline": {"stages": {
            "first": {"kind": "test_counting", "params": {"value": value, "sleep_s": sleep_s}},
            "second": {"kind": "test_counting", "inputs": {"src": "first"}, "params": {"value": 7}},
        }},
    })


def _runs(root: Path) -> list[str]:
    log = root / "runs.log"
    return log.read_text().split() if log.exists() else []


def test_rerun_skips_and_a_change_recomputes_only_what_depends_on_it(tmp_path):
    run_pipeline(_counting_cfg(tmp_path), tmp_path / "run1")
    assert _runs(tmp_path) == ["first", "second"]
    run_pipeline(_counting_cfg(tmp_path), tmp_path / "run2")
    assert _runs(tmp_path) == ["first", "second"]  # nothing recomputed
    # changing the first stage changes its key and, through its input key, the second's
    results = run_pipeline(_counting_cfg(tmp_path, value=2), tmp_path / "run3")
    assert _runs(tmp_path) == ["first", "second"] * 2
    assert results["first"]["metrics"] == {"value": 2}
    manifest = json.loads((tmp_path / "run3" / "stages.json").read_text())
    assert (tmp_path / "run3" / "stages" / "second").resolve() == Path(manifest["second"]["dir"])
    assert (Path(manifest["first"]["dir"]) / "done.json").exists()


def test_stage_order_follows_inputs_and_cycles_fail(tmp_path):
    cfg = _counting_cfg(tmp_path)
    cfg.pipeline.stages = {"b": {"kind": "test_counting", "inputs": {"x": "a"}}, "a": {"kind": "test_counting"}}
    assert [p.name for p in plan_pipeline(cfg)] == ["a", "b"]
    cfg.pipeline.stages.a.inputs = {"y": "b"}
    with pytest.raises(ValueError, match="cycle"):
        plan_pipeline(cfg)


def test_unknown_stage_param_names_valid_keys(tmp_path):
    cfg = _counting_cfg(tmp_path)
    cfg.pipeline.stages.first.params = {"valeu": 3}
    with pytest.raises(ValueError, match=r"valeu.*Did you mean 'value'"):
        plan_pipeline(cfg)


def _job(root: str, index: int) -> None:
    run_pipeline(_counting_cfg(Path(root), sleep_s=1.0), Path(root) / f"job{index}")


def test_parallel_jobs_sharing_a_prefix_compute_it_once(tmp_path):
    ctx = mp.get_context("fork")
    jobs = [ctx.Process(target=_job, args=(str(tmp_path), i)) for i in range(3)]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(60)
        assert j.exitcode == 0
    assert sorted(_runs(tmp_path)) == ["first", "second"]
    assert not list((tmp_path / "store").rglob("*.partial"))


def test_real_pipeline_keys_ignore_trainer_settings_but_not_data(cfg_factory):
    a = plan_pipeline(cfg_factory())[0].key
    assert a == plan_pipeline(cfg_factory("trainer.progress_bar=true"))[0].key
    assert a != plan_pipeline(cfg_factory("data.image.shots_per_class=3"))[0].key
    assert a != plan_pipeline(cfg_factory("seed=1"))[0].key
    assert "test_counting" in STAGES


def _metrics(root: Path) -> dict:
    [path] = list(root.rglob("metrics.json"))
    return json.loads(path.read_text())


KILL_ARGS = ["debug=fast", "smoke_steps=null", "pipeline.stages.classifier.params.max_steps=24",
             "pipeline.stages.classifier.params.checkpoint_every=4", "pipeline.stages.classifier.params.batch_size=4"]


def test_sigkilled_training_stage_resumes_to_the_same_metrics(tmp_path):
    clean = run_cli([*KILL_ARGS, f"paths.output_root={tmp_path / 'clean'}"])
    assert clean.returncode == 0, clean.stderr[-3000:]

    root = tmp_path / "killed"
    env = {**os.environ, "MOTIONLAB_TEST_STEP_DELAY": "0.4", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "motionlab.cli", *KILL_ARGS, f"paths.output_root={root}"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    ckpts: list[Path] = []
    while time.time() < deadline and proc.poll() is None:
        ckpts = list(root.glob("store/image_classifier/*.partial/checkpoints/last.ckpt"))
        if ckpts:
            break
        time.sleep(0.2)
    assert ckpts, "the stage never wrote a checkpoint"
    time.sleep(0.6)  # let it train a little past the checkpoint before the kill
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not list(root.rglob("metrics.json"))

    resumed = run_cli([*KILL_ARGS, f"paths.output_root={root}"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    [done] = list(root.glob("store/image_classifier/*/done.json"))
    assert json.loads(done.read_text())["resumed"] is True
    assert _metrics(root)["metrics"] == _metrics(tmp_path / "clean")["metrics"]


def test_a_run_links_its_stages_by_absolute_path_under_a_relative_store(tmp_path, monkeypatch):
    """The default store (``outputs/store``) is relative to the working directory: a relative link
    in ``<run>/stages/`` would point inside the run folder, and the curves report would find nothing."""
    from motionlab.pipeline import _link

    monkeypatch.chdir(tmp_path)
    artifact = Path("outputs/store/image_classifier/abc")
    artifact.mkdir(parents=True)
    (artifact / "val_curve.jsonl").write_text("{}\n")
    link = Path("outputs/multirun/m/s/seed0/stages/classifier")
    _link(link, artifact)
    assert (link / "val_curve.jsonl").is_file()
