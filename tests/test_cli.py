"""The Hydra app's front door: typos fail fast naming the valid keys; a run writes its metrics."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli

from motionlab.config.preflight import _first_values, compose_config, explain


def test_typo_in_a_key_lists_the_valid_keys(tmp_path):
    result = run_cli(["trainer.max_step=3", f"paths.output_root={tmp_path}"], timeout=120)
    assert result.returncode == 2
    assert "'trainer' has no key 'max_step'" in result.stderr
    assert "log_every_n_steps" in result.stderr
    assert not (tmp_path / "runs").exists()  # failed before any work


@pytest.mark.parametrize("override, message", [
    ("model.arch=alexnett", "model.arch='alexnett' is not valid; choose one of ['alexnet', 'alexnet_small'"),
    ("trainer.precision=fp16", "trainer.precision='fp16' is not valid; choose one of ['32-true', '16-mixed'"),
    ("trainer.accelerator=tpu", "trainer.accelerator='tpu' is not valid"),
    ("trainer.num_workers=two", "trainer"),
    ("model.dropout=1.5", "model.dropout must be in [0, 1)"),
])
def test_a_bad_value_fails_before_any_work_naming_the_valid_ones(override, message, capsys):
    from motionlab.config.preflight import preflight

    with pytest.raises(SystemExit) as exit_:
        preflight([override])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_typo_in_a_stage_param_suggests_the_close_key():
    overrides = ["pipeline.stages.classifier.params.max_stpes=3"]
    with pytest.raises(Exception) as err:
        compose_config(overrides)
    message = explain(overrides, err.value)
    assert "Did you mean 'max_steps'" in message


def test_unknown_group_option_lists_the_options():
    overrides = ["setting=synthetic_a_to_vooc"]
    with pytest.raises(Exception) as err:
        compose_config(overrides)
    assert "synthetic_a_to_voc" in explain(overrides, err.value)


def test_sweeps_are_checked_by_their_first_value():
    assert _first_values(["-m", "seed=0,1,2", "setting=a,b", "hydra.job.chdir=true"]) == ["seed=0", "setting=a"]


def test_every_setting_and_experiment_composes():
    from motionlab.config.preflight import CONF_DIR
    from motionlab.pipeline import plan_pipeline

    for group in ("setting", "experiment", "pipeline"):
        for path in sorted((CONF_DIR / group).glob("*.yaml")):
            cfg = compose_config([f"{group}={path.stem}"])
            assert plan_pipeline(cfg), path


def test_stage_yaml_lists_exactly_the_params_of_its_stage():
    """An override can only set keys that the yaml declares: keep both in step."""
    import dataclasses

    from omegaconf import OmegaConf

    from motionlab.config.preflight import CONF_DIR
    from motionlab.pipeline import STAGES, get_stage

    def keys(path) -> set[str]:
        node = OmegaConf.load(path)
        inherited = [keys(path.with_name(f"{base}.yaml")) for base in node.get("defaults", []) if base != "_self_"]
        return set(node.keys()).union(*inherited) - {"defaults"}

    get_stage("image_classifier")
    for path in sorted((CONF_DIR / "stage").glob("*.yaml")):
        yaml_keys = keys(path)
        owners = [k for k, cls in STAGES.items() if {f.name for f in dataclasses.fields(cls.Params)} == yaml_keys]
        assert owners, f"{path.name}: its keys match no stage's Params ({sorted(yaml_keys)})"


def test_one_run_end_to_end(tmp_path):
    result = run_cli(["debug=fast", f"paths.output_root={tmp_path}", "seed=3"])
    assert result.returncode == 0, result.stderr[-3000:]
    [metrics] = list((tmp_path / "runs").rglob("metrics.json"))
    summary = json.loads(metrics.read_text())
    assert summary["method"] == "unreg" and summary["seed"] == 3
    assert summary["value"] == summary["metrics"][summary["report_metric"]]  # the reported metric, not another
    assert (metrics.parent / "logs" / "classifier" / "metrics.csv").exists()


def test_a_sweep_over_another_key_gives_every_job_its_own_run_dir(tmp_path):
    """Figure 4 sweeps shots per class at fixed method/setting/seed: those jobs must not share (and
    overwrite) one run directory, and the report must see one column per value."""
    from motionlab.eval.report import main as report

    sweep = tmp_path / "multirun"
    result = run_cli(["-m", "debug=fast", f"paths.output_root={tmp_path}", f"hydra.sweep.dir={sweep}",
                      "data.image.shots_per_class=1,2", "trainer.progress_bar=false"])
    assert result.returncode == 0, result.stderr[-3000:]
    runs = sorted(p.parent.name for p in sweep.rglob("metrics.json"))
    assert runs == ["seed0_data.image.shots_per_class=1", "seed0_data.image.shots_per_class=2"]
    report([str(sweep), "--column", "data.image.shots_per_class", "--out", str(tmp_path / "table")])
    md = (tmp_path / "table" / "results.md").read_text()
    assert "| method | shots_per_class=1 | shots_per_class=2 |" in md and "(n = 1)" in md


def test_sweep_tag_leaves_out_the_path_keys_roots_and_run_control():
    from motionlab.config.resolvers import sweep_tag

    assert sweep_tag(["experiment=zhang_ours", "seed=1", "setting=x", "trainer=ddp", "trainer.progress_bar=false",
                      "data.video.root=/data/UCF101", "logger=wandb"]) == ""
    assert sweep_tag(["model=vgg16_small", "data.image.shots_per_class=3"]) == \
        "_data.image.shots_per_class=3_model=vgg16_small"
    assert sweep_tag(["+pipeline.stages.flow.params.seed=${seed}"]) == "_pipeline.stages.flow.params.seed=__seed_"
    assert len(sweep_tag([f"data.video.key{i}={'x' * 30}" for i in range(10)])) == 13


@pytest.mark.parametrize("full_error", [False, True])
def test_a_config_error_at_run_time_is_one_line_unless_hydra_full_error(tmp_path, full_error):
    """The shard is parsed when the stage runs: one line and status 2; HYDRA_FULL_ERROR=1 keeps
    Hydra's report with the traceback."""
    result = run_cli(["pipeline=pseudolabels", "debug=fast", "pipeline.stages.pseudolabels.params.shard=3/2",
                      f"paths.output_root={tmp_path}"], env={"HYDRA_FULL_ERROR": "1" if full_error else "0"},
                     timeout=300)
    message = "shard must be 'I/N' with 0 <= I < N (e.g. shard=0/4), got '3/2'"
    if full_error:
        assert result.returncode == 1
        assert "Traceback" in result.stderr and f"ConfigError: {message}" in result.stderr
    else:
        assert result.returncode == 2
        assert result.stderr.strip() == f"motionlab: config error: {message}"
