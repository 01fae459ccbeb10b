"""The controls around Algorithm 1: the oracle MR's input, the MRA controls, step-matched training,
and a step-1 artifact that does not depend on which pipeline computed it first."""

from __future__ import annotations

import torch
from helpers import make_cfg
from torch import nn

from motionlab.config.preflight import compose_config
from motionlab.data.datamodules import ImageDataModule
from motionlab.lit.classifier import ImageClassifierModule, OracleMotionClassifierModule
from motionlab.models.encoders import ClassifierHead
from motionlab.models.parts import load_parts
from motionlab.pipeline import plan_pipeline
from motionlab.task import train
from motionlab.training import cache_dir


def _stage_dir(run_dir, name):
    return (run_dir / "stages" / name).resolve()


class _Blind(nn.Module):
    """Features that carry nothing: whatever a classifier on them learns came from elsewhere."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return image.new_zeros(len(image), 4)


def _fit_accuracy(module: ImageClassifierModule, batch: dict[str, torch.Tensor], steps: int = 150) -> float:
    opt = torch.optim.Adam([p for p in module.parameters() if p.requires_grad], lr=1e-2)
    module.train()
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(module.logits(batch), batch["label"]).backward()
        opt.step()
    module.eval()
    with torch.no_grad():
        return float((module.logits(batch).argmax(1) == batch["label"]).float().mean())


def test_the_true_motion_reaches_the_oracle_head():
    """Labels = motions, images blank: only the oracle's motion input can separate them, and it does
    through the head's input dropout (an embedding, not a one-hot entry that dropout hides)."""
    torch.manual_seed(0)
    motions = torch.arange(40) % 5
    batch = {"image": torch.zeros(40, 3, 8, 8), "label": motions, "motion": motions}
    oracle = OracleMotionClassifierModule(_Blind(), ClassifierHead(4 + 8, 16, 5, dropout=0.5), 5, 5, 8,
                                          1e-2, 1000, 0.1)
    plain = ImageClassifierModule(_Blind(), ClassifierHead(4, 16, 5, dropout=0.0), 5, 1e-2, 1000, 0.1)
    assert _fit_accuracy(oracle, batch) == 1.0
    assert _fit_accuracy(plain, batch) <= 0.2 + 1e-6  # chance: one class of five


def test_oracle_mr_run_feeds_each_image_its_true_motion(cfg_factory, tmp_path):
    cfg = cfg_factory("experiment=zhang_oracle_mr")
    train(cfg, tmp_path / "oracle")
    train(cfg_factory("experiment=zhang_unreg_matched"), tmp_path / "control")
    assert _stage_dir(tmp_path / "oracle", "classifier") == _stage_dir(tmp_path / "control", "classifier")
    mr_width = int(cfg.pipeline.stages.head.params.gru_hidden)
    oracle_in = load_parts(_stage_dir(tmp_path / "oracle", "head"))["mra_head"]["1.weight"].shape[1]
    control_in = load_parts(_stage_dir(tmp_path / "control", "head"))["mra_head"]["1.weight"].shape[1]
    assert oracle_in == control_in + mr_width == int(cfg.model.feature_dim) + mr_width  # as wide as Ours' MR

    dm = ImageDataModule(cfg.data.image, cache_dir(cfg), 4, 4, 0, 0)
    dm.setup()
    for item in (dm.train_set[i] for i in range(len(dm.train_set))):
        assert dm.motion_names[int(item["motion"])] == dm.class_names[int(item["label"])].split("_", 1)[1]


def _part_steps(experiment: str) -> dict[str, int]:
    """Optimiser steps each part of the model gets in the full-scale pipeline of ``experiment``."""
    steps: dict[str, int] = {}
    for item in plan_pipeline(compose_config([f"experiment={experiment}"])):
        p, kind = item.params, item.stage.kind
        parts = {"image_classifier": ["encoder", "classifier"], "mra_head": ["head"],
                 "vre": list(p.get("train_parts", []))}.get(kind, [])
        for part in parts:
            steps[part] = steps.get(part, 0) + int(p.max_steps)
    return steps


def test_controls_train_every_part_the_method_trains_as_long():
    ours = _part_steps("zhang_ours")
    for control in ("zhang_unreg_matched", "zhang_oracle_mr"):
        matched = _part_steps(control)
        assert {k: ours[k] for k in matched} == matched, control
    for control in ("zhang_mra_random_gru", "zhang_mra_feature_only", "zhang_shuffled_pl", "zhang_oracle_pl"):
        assert _part_steps(control) == ours, control


def test_mra_controls_train_the_same_head_on_the_same_parts(cfg_factory, tmp_path):
    runs = {e: tmp_path / e for e in ("zhang_ours", "zhang_mra_random_gru", "zhang_mra_feature_only")}
    for experiment, run in runs.items():
        train(cfg_factory(f"experiment={experiment}"), run)
    assert len({_stage_dir(r, "proxy") for r in runs.values()}) == 1  # steps 1-4 shared
    proxy = load_parts(_stage_dir(runs["zhang_ours"], "proxy"))
    heads = {e: load_parts(_stage_dir(r, "mra")) for e, r in runs.items()}
    widths = {e: p["mra_head"]["1.weight"].shape[0] for e, p in heads.items()}
    assert len(set(widths.values())) == 1, widths
    for experiment, parts in heads.items():
        assert all(torch.equal(parts["encoder"][k], proxy["encoder"][k]) for k in proxy["encoder"]), experiment
    trained, random = heads["zhang_ours"]["gru"], heads["zhang_mra_random_gru"]["gru"]
    assert all(torch.equal(trained[k], proxy["gru"][k]) for k in trained)
    assert not any(torch.equal(random[k], proxy["gru"][k]) for k in random)


def test_step_one_is_the_same_whichever_pipeline_computes_it_first(cfg_factory, tmp_path):
    """UNREG's ``classifier`` and Algorithm 1's ``init`` share one store key, so one artifact."""
    first = {"unreg_first": ("unreg", "zhang_ours"), "ours_first": ("zhang_ours", "unreg")}
    shared = {}
    for name, order in first.items():
        out = tmp_path / name
        for i, experiment in enumerate(order):
            train(make_cfg(out, f"experiment={experiment}"), out / f"run{i}")
        unreg_run = out / f"run{order.index('unreg')}"
        ours_run = out / f"run{order.index('zhang_ours')}"
        assert _stage_dir(unreg_run, "classifier") == _stage_dir(ours_run, "init")
        shared[name] = load_parts(_stage_dir(unreg_run, "classifier"))
    a, b = shared.values()
    for part in ("encoder", "classifier"):
        assert all(torch.equal(a[part][k], b[part][k]) for k in a[part]), part


def test_the_image_only_controls_share_their_heads_across_video_families():
    """UNREG-matched and the oracle MR never read a video: synthetic_a and synthetic_b give them one
    artifact; Ours, whose GRU learned from the videos, gets one per family."""
    def keys(experiment: str, setting: str) -> dict[str, str]:
        cfg = compose_config([f"experiment={experiment}", f"setting={setting}"])
        return {item.name: item.key for item in plan_pipeline(cfg)}

    for experiment in ("zhang_unreg_matched", "zhang_oracle_mr"):
        assert keys(experiment, "synthetic_a_to_voc") == keys(experiment, "synthetic_b_to_voc")
    ours_a, ours_b = keys("zhang_ours", "synthetic_a_to_voc"), keys("zhang_ours", "synthetic_b_to_voc")
    assert ours_a["init"] == ours_b["init"]
    assert ours_a["mra"] != ours_b["mra"]
