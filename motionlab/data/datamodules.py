"""DataModules shared by every stage: labeled action images (seeded few-shot) and video clips.

Batches are dicts. Images: ``image`` float [B,3,H,W] (normalised), ``label``, ``index``. Videos:
``frames`` uint8 [B,T,3,H,W], ``label`` (true class or -1), ``index``, ``flow_gt`` float
[B,T-1,2,H,W] where the source has ground truth, plus any per-video ``extras`` arrays (e.g.
``pseudo_label``). The global batch size is split over DDP ranks explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from torch.utils.data import DataLoader, Dataset, Sampler

from motionlab.data.clips import segment_starts, snippet_indices
from motionlab.data.sources import build_image_source, build_video_source
from motionlab.data.transforms import normalize, random_shift, resize_hw
from motionlab.data.types import ImageSource, VideoSource


def few_shot_indices(labels: np.ndarray, shots: int, seed: int) -> np.ndarray:
    """``shots`` indices per class drawn with ``seed`` (all of a class if it has fewer)."""
    if shots < 1:
        raise ValueError(f"data.image.shots_per_class must be >= 1 labeled image per class, got {shots}")
    rng = np.random.default_rng(seed)
    picked = [rng.permutation(np.flatnonzero(labels == c))[:shots] for c in np.unique(labels)]
    return np.sort(np.concatenate(picked))


class EpochSeededSampler(Sampler):
    """A shuffle that depends only on (seed, epoch), so a run resumed from a checkpoint sees the
    same order as one that never stopped. Lightning calls ``set_epoch`` each epoch. With
    ``with_epoch`` it yields ``(index, epoch)``: the epoch reaches the dataset inside a worker
    process, where ``set_epoch`` does not. ``resume_at = (epoch, n)``: that epoch's next pass starts
    after its first ``n`` samples (those a killed run had trained on; Lightning restarts the epoch)."""

    def __init__(self, length: int, seed: int, with_epoch: bool = False) -> None:
        self.length, self.seed, self.epoch, self.with_epoch = length, seed, 0, with_epoch
        self.resume_at: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        order = np.random.default_rng([self.seed, self.epoch]).permutation(self.length).tolist()
        if self.resume_at is not None and self.resume_at[0] == self.epoch:
            order = order[self.resume_at[1]:]
        self.resume_at = None
        return iter([(i, self.epoch) for i in order] if self.with_epoch else order)

    def __len__(self) -> int:
        return self.length


def augmentation_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    """The RNG of one sample's augmentation in one epoch: a function of (seed, epoch, index) only,
    so the shifts are the same whatever the number of DataLoader workers (whose RNGs differ)."""
    state = np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0]
    return torch.Generator().manual_seed(int(state))


class ImageDataset(Dataset):
    """Images with their label and, where the source knows it (synthetic data: ``meta["motion"]``),
    the index of their true motion in ``motion_names`` (-1 otherwise): the oracle controls' input.
    Items by position ``i`` or, from an ``EpochSeededSampler(with_epoch=True)``, ``(i, epoch)``: the
    random shift of an item is drawn from ``augmentation_generator(seed, epoch, i)``."""

    def __init__(self, source: ImageSource, indices: np.ndarray, size: int, max_shift: int = 0,
                 seed: int = 0, motion_names: list[str] | None = None) -> None:
        self.source, self.indices, self.size, self.max_shift, self.seed = source, indices, size, max_shift, seed
        self.motion_index = {m: i for i, m in enumerate(motion_names or [])}

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        i, epoch = key if isinstance(key, tuple) else (key, 0)
        sample = self.source[int(self.indices[i])]
        image = torch.from_numpy(np.ascontiguousarray(resize_hw(sample.image, self.size))).permute(2, 0, 1)
        if self.max_shift > 0:
            image = random_shift(image, self.max_shift, augmentation_generator(self.seed, epoch, i))
        motion = self.motion_index.get(sample.meta.get("motion"), -1) if sample.meta else -1
        return {"image": normalize(image), "label": torch.tensor(sample.label), "index": torch.tensor(i),
                "motion": torch.tensor(motion)}


class VideoClipDataset(Dataset):
    def __init__(self, source: VideoSource, extras: dict[str, np.ndarray] | None = None,
                 indices: np.ndarray | None = None) -> None:
        self.source = source
        self.extras = extras or {}
        self.indices = np.arange(len(source)) if indices is None else indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        idx = int(self.indices[i])
        sample = self.source[idx]
        item = {
            "frames": torch.from_numpy(np.ascontiguousarray(sample.frames)).permute(0, 3, 1, 2),
            "label": torch.tensor(sample.label),
            "index": torch.tensor(idx),
        }
        if sample.flow_gt is not None:
            item["flow_gt"] = torch.from_numpy(np.asarray(sample.flow_gt, np.float32))
        for name, values in self.extras.items():
            item[name] = torch.as_tensor(values[idx])
        return item


class FlowReader(Protocol):
    """Per-video flow on disk (a ``motionlab.flow.cache.FlowCache``): ``[P, 2, H, W]``, memory-mapped."""

    def load(self, video_id: str, mmap: bool = False) -> np.ndarray: ...


class TSNSegments(Dataset):
    """Training items of a TSN stream over each whole video: ``num_segments`` snippets of
    ``snippet_len`` flows (motion) or frames (spatial, ``snippet_len`` 1), a random start in each
    segment drawn from (seed, epoch, index), the same whatever the worker count and on resume.

    Items read only their snippets, from memory-mapped clip and flow caches: memory holds a batch,
    never the dataset. ``flows``: ``flows`` float32 [S, L, 2, H, W] from that reader, or with
    ``flow_gt`` from the source's ground truth. ``frames``: uint8 [S, L+1, 3, H, W] (the frames of
    each flow snippet) with a flow input, else [S, L, 3, H, W]. Plus ``label`` and ``index``."""

    def __init__(self, source: VideoSource, num_segments: int, snippet_len: int, seed: int, frames: bool = True,
                 flows: FlowReader | None = None, flow_gt: bool = False) -> None:
        self.source, self.num_segments, self.snippet_len, self.seed = source, num_segments, snippet_len, seed
        self.frames, self.flows, self.flow_gt = frames, flows, flow_gt

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        i, epoch = key if isinstance(key, tuple) else (key, 0)
        sample = self.source[i]
        rng = np.random.default_rng([self.seed, epoch, i])
        item = {"label": torch.tensor(sample.label), "index": torch.tensor(i)}
        motion = self.flows is not None or self.flow_gt
        length = len(sample.frames) - 1 if motion else len(sample.frames)
        starts = segment_starts(length, self.num_segments, self.snippet_len, rng)
        if motion:
            flow = self.flows.load(sample.video_id, mmap=True) if self.flows is not None else sample.flow_gt
            if len(flow) != length:
                raise ValueError(f"{sample.video_id}: {len(flow)} cached flows for {length + 1} frames; delete the "
                                 "stale cache entry to recompute it")
            index = snippet_indices(starts, self.snippet_len, length)
            item["flows"] = torch.from_numpy(np.asarray(flow[index], dtype=np.float32))
        if self.frames:
            index = snippet_indices(starts, self.snippet_len + int(motion), len(sample.frames))
            item["frames"] = torch.from_numpy(np.ascontiguousarray(sample.frames[index])).permute(0, 1, 4, 2, 3)
        return item


class _Base(pl.LightningDataModule):
    """Shared loaders. Resuming mid-epoch is exact: the checkpoint holds how many samples of the
    epoch were trained (all ranks), and the restarted epoch skips them."""

    def __init__(self, batch_size: int, eval_batch_size: int, num_workers: int, seed: int) -> None:
        super().__init__()
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.num_workers, self.seed = num_workers, seed
        self.train_sampler: EpochSeededSampler | None = None
        self.trained: tuple[int, int] = (0, 0)  # (epoch, samples of it trained on, all ranks)
        self.resume_at: tuple[int, int] | None = None

    def on_before_batch_transfer(self, batch: dict[str, torch.Tensor], dataloader_idx: int) -> dict:
        """Count the training samples the loop takes (not those its fetcher prefetched)."""
        if self.trainer is not None and self.trainer.training and self.train_sampler is not None:
            epoch, done = self.trained
            if epoch != self.train_sampler.epoch:
                epoch, done = self.train_sampler.epoch, 0
            self.trained = (epoch, done + len(batch["index"]) * self.trainer.world_size)
        return batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.trained[0], "trained_samples": self.trained[1]}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.resume_at = (int(state["epoch"]), int(state["trained_samples"]))
        self.trained = self.resume_at

    def per_device(self, batch_size: int) -> int:
        world = self.trainer.world_size if self.trainer is not None else 1
        return max(1, batch_size // world)

    def skipped_videos(self) -> dict[str, list[dict]]:
        """Videos the readers left out, with reasons, per split (none for image data)."""
        return {}

    def _train_loader(self, dataset: Dataset, batch_size: int, drop_last: bool = False) -> DataLoader:
        per_sample_rng = isinstance(dataset, ImageDataset | TSNSegments)  # they draw from (seed, epoch, index)
        self.train_sampler = EpochSeededSampler(len(dataset), self.seed, per_sample_rng)
        self.train_sampler.resume_at, self.resume_at = self.resume_at, None
        return self._loader(dataset, batch_size, self.train_sampler, drop_last)

    def _loader(self, dataset: Dataset, batch_size: int, sampler: Sampler | None = None,
                drop_last: bool = False) -> DataLoader:
        size = self.per_device(batch_size)
        # its own generator: each new iterator draws a worker base seed, which must not advance the
        # global RNG that dropout reads (a resumed run creates one iterator more than a clean one)
        return DataLoader(dataset, batch_size=size, sampler=sampler, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0, drop_last=drop_last and len(dataset) >= size,
                          generator=torch.Generator().manual_seed(self.seed))


class ImageDataModule(_Base):
    """Few-shot labeled training images (``shots_per_class`` per class, sampled by the run seed), a
    validation split of ``val_per_class`` other labeled images of the training pool (0: none; it
    shows whether a schedule has reached its plateau), and the test split (optionally capped by
    ``test_limit``, e.g. VOC's 2000)."""

    def __init__(self, cfg: DictConfig, cache_dir: Path, batch_size: int, eval_batch_size: int,
                 num_workers: int, seed: int, max_shift: int = 0, shots_per_class: int | None = None,
                 val_per_class: int = 0) -> None:
        super().__init__(batch_size, eval_batch_size, num_workers, seed)
        self.cfg, self.cache_dir, self.max_shift = cfg, Path(cache_dir), max_shift
        self.shots = int(shots_per_class if shots_per_class is not None else cfg.shots_per_class)
        self.val_per_class = int(val_per_class)
        self.train_set: ImageDataset | None = None
        self.val_set: ImageDataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        size = int(self.cfg.size)
        train = build_image_source(self.cfg, "train", self.cache_dir)
        test = build_image_source(self.cfg, "test", self.cache_dir)
        self.class_names = list(train.class_names)
        self.motion_names = list(getattr(train, "motions", []))
        labels = train.labels()
        self.train_indices = few_shot_indices(labels, self.shots, self.seed)
        test_idx = np.arange(len(test))
        limit = self.cfg.get("test_limit")
        if limit:
            test_idx = np.random.default_rng(0).permutation(test_idx)[: int(limit)]
        self.train_set = ImageDataset(train, self.train_indices, size, self.max_shift, self.seed, self.motion_names)
        self.test_set = ImageDataset(test, np.sort(test_idx), size, motion_names=self.motion_names)
        if self.val_per_class:
            pool = np.setdiff1d(np.arange(len(labels)), self.train_indices)
            if len(np.unique(labels[pool])) < len(np.unique(labels)):
                raise ValueError(
                    f"data.image.shots_per_class={self.shots} leaves no labeled image of some class for the "
                    f"stage's validation split (val_per_class={self.val_per_class}): lower shots_per_class below that "
                    "class's labeled images, or set the stage's val_every=0 and val_per_class=0")
            val_idx = pool[few_shot_indices(labels[pool], self.val_per_class, self.seed + 1)]
            self.val_set = ImageDataset(train, val_idx, size, motion_names=self.motion_names)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def train_dataloader(self) -> DataLoader:
        return self._train_loader(self.train_set, self.batch_size)

    def val_dataloader(self) -> DataLoader:
        if self.val_set is None:
            raise ValueError("no validation split: set the stage's val_per_class > 0")
        return self._loader(self.val_set, self.eval_batch_size)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, self.eval_batch_size)


class VideoClipDataModule(_Base):
    """Key-frame clips of one split; ``extras`` are per-video arrays (e.g. pseudo labels) added to
    each batch under their names."""

    def __init__(self, cfg: DictConfig, cache_dir: Path, batch_size: int, eval_batch_size: int,
                 num_workers: int, seed: int, extras: dict[str, np.ndarray] | None = None,
                 splits: tuple[str, ...] = ("train",)) -> None:
        super().__init__(batch_size, eval_batch_size, num_workers, seed)
        self.cfg, self.cache_dir, self.extras, self.splits = cfg, Path(cache_dir), extras, splits
        self.sets: dict[str, VideoClipDataset] = {}

    def setup(self, stage: str | None = None) -> None:
        for split in self.splits:
            if split not in self.sets:
                source = build_video_source(self.cfg, split, self.cache_dir)
                self.sets[split] = VideoClipDataset(source, self.extras if split == "train" else None)

    def skipped_videos(self) -> dict[str, list[dict]]:
        return {split: records for split, ds in self.sets.items()
                if (records := getattr(ds.source, "skip_records", list)())}

    def train_dataloader(self) -> DataLoader:
        # full batches only: the smoothness losses contrast each clip with another video's
        return self._train_loader(self.sets["train"], self.batch_size, drop_last=True)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.sets["test"], self.eval_batch_size)


class TSNDataModule(_Base):
    """A TSN stream's training set (``TSNSegments``); test scores are computed per video by the stage."""

    def __init__(self, train: TSNSegments, batch_size: int, num_workers: int, seed: int) -> None:
        super().__init__(batch_size, batch_size, num_workers, seed)
        self.train = train

    def skipped_videos(self) -> dict[str, list[dict]]:
        records = getattr(self.train.source, "skip_records", list)()
        return {"train": records} if records else {}

    def train_dataloader(self) -> DataLoader:
        return self._train_loader(self.train, self.batch_size, drop_last=True)


class CombinedDataModule(pl.LightningDataModule):
    """Several DataModules trained together (labeled images + unlabeled videos in the VRE step):
    each training batch is ``{name: batch}``, the shorter loaders cycling; test = the images'."""

    def __init__(self, modules: dict[str, _Base], test_from: str) -> None:
        super().__init__()
        self.modules, self.test_from = modules, test_from

    def setup(self, stage: str | None = None) -> None:
        for m in self.modules.values():
            m.setup(stage)

    def skipped_videos(self) -> dict[str, list[dict]]:
        return {f"{name}/{split}": records for name, m in self.modules.items()
                for split, records in m.skipped_videos().items()}

    def train_dataloader(self):
        from pytorch_lightning.utilities import CombinedLoader

        for m in self.modules.values():
            m.trainer = self.trainer
        return CombinedLoader({k: m.train_dataloader() for k, m in self.modules.items()}, mode="max_size_cycle")

    def val_dataloader(self) -> DataLoader:
        if "image" not in self.modules:
            raise ValueError("validation needs the labeled images' stream")
        self.modules["image"].trainer = self.trainer
        return self.modules["image"].val_dataloader()

    def test_dataloader(self) -> DataLoader:
        self.modules[self.test_from].trainer = self.trainer
        return self.modules[self.test_from].test_dataloader()


class MotionMaps(Dataset):
    """Stacked motion maps ``[2(T-1), H, W]`` under the ``image`` key, so ImageClassifierModule trains on them."""

    def __init__(self, maps: torch.Tensor, labels: torch.Tensor) -> None:
        self.maps, self.labels = maps, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": self.maps[i].flatten(0, 1), "label": self.labels[i], "index": torch.tensor(i)}


class MotionMapDataModule(pl.LightningDataModule):
    """Motion maps computed once (by a frozen motion model, or the ground truth) as the training and
    test sets of an action classifier."""

    def __init__(self, train: Dataset, test: Dataset, batch_size: int, eval_batch_size: int, seed: int) -> None:
        super().__init__()
        self.train, self.test = train, test
        self.batch_size, self.eval_batch_size, self.seed = batch_size, eval_batch_size, seed

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train, self.batch_size, sampler=EpochSeededSampler(len(self.train), self.seed))

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.test, self.eval_batch_size)
