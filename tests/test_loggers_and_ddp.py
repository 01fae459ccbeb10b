"""wandb works offline with no account and is always finished; DDP on 2 CPU processes (gloo)
gives a result and writes one run directory, not one per rank."""

from __future__ import annotations

import json

import pytest
import wandb
from helpers import run_cli
from omegaconf import open_dict

from motionlab.task import train


def test_wandb_offline_run_is_written_and_finished(cfg_factory, tmp_path):
    cfg = cfg_factory("logger=wandb")
    with open_dict(cfg):
        cfg.logger.wandb.mode = "offline"
        cfg.logger.wandb.dir = str(tmp_path / "wb")
    summary = train(cfg, tmp_path / "run")
    assert wandb.run is None  # finished
    [run_file] = list((tmp_path / "wb").rglob("run-*.wandb"))
    assert run_file.stat().st_size > 0
    assert summary["value"] == summary["metrics"][summary["report_metric"]]


def test_wandb_is_finished_when_the_pipeline_fails(cfg_factory, tmp_path):
    cfg = cfg_factory("logger=wandb")
    with open_dict(cfg):
        cfg.logger.wandb.dir = str(tmp_path / "wb")
        cfg.pipeline.report_metric = "classifier/no_such_metric"
    with pytest.raises(KeyError, match="available"):
        train(cfg, tmp_path / "run")
    assert wandb.run is None


def test_ddp_on_two_cpu_processes_writes_one_run_dir(tmp_path):
    result = run_cli(["debug=fast", "trainer=ddp_cpu", f"paths.output_root={tmp_path}"], timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    run_dirs = [p for p in (tmp_path / "runs").rglob("*") if (p / ".hydra").is_dir()]
    assert len(run_dirs) == 1, run_dirs
    summary = json.loads((run_dirs[0] / "metrics.json").read_text())
    assert summary["value"] == summary["metrics"][summary["report_metric"]]  # rank 0 wrote the real result


@pytest.mark.parametrize("env, zero", [({}, True), ({"LOCAL_RANK": "1"}, False), ({"SLURM_PROCID": "3"}, False),
                                       ({"SLURM_PROCID": "0", "LOCAL_RANK": "2"}, False), ({"RANK": "0"}, True)])
def test_rank_zero_from_any_launchers_variables(monkeypatch, env, zero):
    from motionlab.core.rank import RANK_VARIABLES, is_rank_zero

    for variable in RANK_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    assert is_rank_zero() is zero


def test_slurm_launcher_composes_with_one_task_per_gpu():
    from hydra import compose, initialize_config_dir

    from motionlab.config.preflight import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=slurm", "trainer=multinode"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.tasks_per_node == launcher.gpus_per_node == 4 and launcher.nodes == cfg.trainer.num_nodes == 2
