"""Algorithm 1 as stages: who updates what, hand-over of parts, SUP-FT weights, shared prefixes."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import run_cli
from omegaconf import open_dict
from torchvision import models

from motionlab.core.errors import DataError
from motionlab.models.parts import load_parts
from motionlab.task import train


def _stage_dir(run_dir, name):
    return (run_dir / "stages" / name).resolve()


def test_five_steps_update_exactly_the_parts_algorithm_1_lists(cfg_factory, tmp_path):
    cfg = cfg_factory("experiment=zhang_ours")
    run = tmp_path / "run"
    train(cfg, run)
    init, vre, fine, proxy, mra = (load_parts(_stage_dir(run, s)) for s in ("init", "vre", "finetune", "proxy", "mra"))

    def same(a, b, part):
        return all(torch.equal(a[part][k], b[part][k]) for k in a[part])

    assert set(init) == {"encoder", "classifier"}
    assert not same(init, vre, "encoder") and not same(init, vre, "classifier")  # step 2: θn, θc (+θg, θm)
    assert not same(vre, fine, "encoder") and same(vre, fine, "gru")  # step 3: θn, θc only
    assert same(fine, proxy, "encoder") and same(fine, proxy, "classifier")  # step 4: θg, θm only
    assert not same(fine, proxy, "gru") and not same(fine, proxy, "motion_head")
    assert same(proxy, mra, "encoder") and same(proxy, mra, "gru") and "mra_head" in mra  # step 5: θa only
    assert (_stage_dir(run, "mra") / "fig3_retrieval.png").stat().st_size > 0
    done = json.loads((_stage_dir(run, "mra") / "done.json").read_text())
    # a share of the test images (k of n for a whole k), not a batch mean or a similarity
    matched = done["metrics"]["retrieval_motion_match"] * done["metrics"]["num_test_images"] / 100.0
    assert done["metrics"]["num_test_images"] > 0 and abs(matched - round(matched)) < 1e-6


def test_ablations_and_seeds_share_pseudo_labels_and_step_one(cfg_factory, tmp_path):
    train(cfg_factory("experiment=zhang_unreg_motion"), tmp_path / "a")
    train(cfg_factory("experiment=zhang_unreg_smooth1"), tmp_path / "b")
    for stage in ("pseudolabels", "init"):
        assert _stage_dir(tmp_path / "a", stage) == _stage_dir(tmp_path / "b", stage)
    assert _stage_dir(tmp_path / "a", "vre") != _stage_dir(tmp_path / "b", "vre")
    # the step-1 init is UNREG itself
    train(cfg_factory("experiment=unreg"), tmp_path / "c")
    assert _stage_dir(tmp_path / "c", "classifier") == _stage_dir(tmp_path / "a", "init")


def test_sup_ft_without_weights_stops_with_a_clear_message(tmp_path):
    result = run_cli(["experiment=zhang_sup_ft", "debug=fast", f"paths.output_root={tmp_path}"], timeout=120)
    assert result.returncode == 2
    assert "model.weights" in result.stderr


def test_sup_ft_with_a_local_weights_file(cfg_factory, tmp_path):
    weights = tmp_path / "alexnet.pth"
    torch.save(models.alexnet(weights=None).state_dict(), weights)
    cfg = cfg_factory("experiment=zhang_sup_ft", f"model.weights={weights}", "data.image.size=64")
    summary = train(cfg, tmp_path / "run")
    assert summary["method"] == "sup_ft"
    with open_dict(cfg):
        cfg.model.weights = str(tmp_path / "missing.pth")
        cfg.seed = 1
    with pytest.raises(DataError, match="missing.pth"):
        train(cfg, tmp_path / "run2")
