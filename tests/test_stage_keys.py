"""Stage keys carry every numeric setting that changes a result (precision, determinism, devices,
torch and flow-library versions, the synthetic generator version) and nothing that only changes
speed (DataLoader workers); and image augmentation does not depend on the worker count."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf, open_dict
from torch.utils.data import DataLoader

from motionlab.core.io import atomic_write_text
from motionlab.data.datamodules import EpochSeededSampler, ImageDataset
from motionlab.data.types import ImageSample
from motionlab.pipeline import Stage, plan_pipeline, register_stage, run_pipeline


@dataclass
class TrainParams:
    value: int = 1


@register_stage
class CountingTrainStage(Stage):
    """A training stage that counts its real runs (its numbers would follow the trainer settings)."""

    kind = "test_counting_train"
    Params = TrainParams
    trains = True
    seeded = False

    def run(self, ctx):
        with open(Path(ctx.cfg.paths.output_root) / "runs.log", "a") as f:
            f.write(f"{ctx.name}\n")
        atomic_write_text(ctx.work_dir / "value.txt", str(ctx.params.value))
        return {"value": ctx.params.value}


def _cfg(root: Path, **trainer):
    base = {"accelerator": "cpu", "devices": 1, "num_nodes": 1, "strategy": "auto", "precision": "32-true",
            "deterministic": True, "num_workers": 0, "progress_bar": False, "log_every_n_steps": 10}
    return OmegaConf.create({
        "seed": 0,
        "trainer": {**base, **trainer},
        "paths": {"output_root": str(root), "store_dir": str(root / "store")},
        "pipeline": {"stages": {"train": {"kind": "test_counting_train"}}},
    })


def _runs(root: Path) -> int:
    log = root / "runs.log"
    return len(log.read_text().split()) if log.exists() else 0


def test_a_precision_change_recomputes_a_training_stage(tmp_path):
    run_pipeline(_cfg(tmp_path), tmp_path / "run1")
    run_pipeline(_cfg(tmp_path), tmp_path / "run2")
    assert _runs(tmp_path) == 1
    run_pipeline(_cfg(tmp_path, precision="16-mixed"), tmp_path / "run3")
    assert _runs(tmp_path) == 2  # a 16-bit run never reuses the 32-bit artifact


def test_a_worker_count_change_does_not_recompute(tmp_path):
    run_pipeline(_cfg(tmp_path), tmp_path / "run1")
    run_pipeline(_cfg(tmp_path, num_workers=6, progress_bar=True, log_every_n_steps=1), tmp_path / "run2")
    assert _runs(tmp_path) == 1


@pytest.mark.parametrize("change", [{"deterministic": False}, {"accelerator": "gpu"}, {"devices": 2},
                                    {"num_nodes": 2}, {"strategy": "ddp"}])
def test_every_trainer_numeric_is_in_a_training_stage_key(tmp_path, change):
    key = plan_pipeline(_cfg(tmp_path))[0].key
    assert plan_pipeline(_cfg(tmp_path, **change))[0].key != key


def test_the_torch_version_is_in_the_key(tmp_path, monkeypatch):
    key = plan_pipeline(_cfg(tmp_path))[0].key
    monkeypatch.setattr(torch, "__version__", "0.0.0-other")
    assert plan_pipeline(_cfg(tmp_path))[0].key != key


def test_trainer_settings_leave_non_training_stages_shared(cfg_factory):
    """Pseudo labels (K-means on CPU) are shared between a CPU and a 16-bit GPU run."""
    cpu = {p.name: p.key for p in plan_pipeline(cfg_factory("pipeline=vre_mra"))}
    gpu = {p.name: p.key for p in plan_pipeline(cfg_factory("pipeline=vre_mra", "trainer.precision=16-mixed"))}
    assert cpu["pseudolabels"] == gpu["pseudolabels"]
    assert cpu["vre"] != gpu["vre"]


def test_the_flow_library_version_is_in_the_keys_of_stages_that_name_a_backend(cfg_factory, monkeypatch):
    overrides = ("pipeline=uftsn_precomputed_cpu", "pipeline.stages.motion.params.flow_source=tvl1")
    before = {p.name: p.key for p in plan_pipeline(cfg_factory(*overrides))}
    monkeypatch.setattr(cv2, "__version__", "0.0.0-other")
    after = {p.name: p.key for p in plan_pipeline(cfg_factory(*overrides))}
    assert before["motion"] != after["motion"]
    assert before["spatial"] == after["spatial"]  # reads no flow


def test_the_synthetic_generator_version_is_in_the_keys(cfg_factory):
    cfg = cfg_factory("pipeline=uftsn_precomputed_cpu")
    key = {p.name: p.key for p in plan_pipeline(cfg)}
    with open_dict(cfg):
        cfg.data.video.generator = int(cfg.data.video.generator) + 1
    assert all(p.key != key[p.name] for p in plan_pipeline(cfg) if p.stage.uses)


# ------------------------------------------------------------------------------ augmentation
class _Images:
    class_names = ["a"]

    def __init__(self, n: int) -> None:
        self.images = np.random.default_rng(0).integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> ImageSample:
        return ImageSample(self.images[i], 0, str(i))

    def labels(self) -> np.ndarray:
        return np.zeros(len(self), np.int64)


def _epochs(workers: int, epochs: int = 2) -> list[torch.Tensor]:
    dataset = ImageDataset(_Images(8), np.arange(8), 16, max_shift=3, seed=5)
    sampler = EpochSeededSampler(len(dataset), seed=5, with_epoch=True)
    loader = DataLoader(dataset, batch_size=4, sampler=sampler, num_workers=workers)
    out = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        out.append(torch.cat([batch["image"] for batch in loader]))
    return out


def test_image_augmentation_does_not_depend_on_the_worker_count():
    torch.manual_seed(0)
    in_process = _epochs(0)
    torch.manual_seed(1)  # the main process's RNG must not matter either
    with_workers = _epochs(2)
    assert all(torch.equal(a, b) for a, b in zip(in_process, with_workers, strict=True))
    assert not torch.equal(in_process[0], in_process[1])  # new shifts (and order) each epoch


def test_an_image_is_shifted_differently_in_another_epoch():
    dataset = ImageDataset(_Images(4), np.arange(4), 16, max_shift=3, seed=5)
    shifted = {tuple(dataset[(2, epoch)]["image"].flatten()[:64].tolist()) for epoch in range(8)}
    assert len(shifted) > 1
    assert torch.equal(dataset[(2, 3)]["image"], dataset[(2, 3)]["image"])
