"""Registries that turn a data config (``cfg.data.video`` / ``cfg.data.image``) into a source.

Every config names its reader in ``source:``; readers register themselves here, so stages never
parse datasets themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig

from motionlab.data.types import ImageSource, VideoSource

VideoFactory = Callable[[DictConfig, str, Path], VideoSource]
ImageFactory = Callable[[DictConfig, str, Path], ImageSource]

VIDEO_SOURCES: dict[str, VideoFactory] = {}
IMAGE_SOURCES: dict[str, ImageFactory] = {}

# Modules whose import registers readers; imported lazily so `import motionlab` stays light.
_READER_MODULES = ("motionlab.data.synthetic", "motionlab.data.datasets")


def register_video_source(name: str) -> Callable[[VideoFactory], VideoFactory]:
    def wrap(factory: VideoFactory) -> VideoFactory:
        VIDEO_SOURCES[name] = factory
        return factory

    return wrap


def register_image_source(name: str) -> Callable[[ImageFactory], ImageFactory]:
    def wrap(factory: ImageFactory) -> ImageFactory:
        IMAGE_SOURCES[name] = factory
        return factory

    return wrap


def _load_readers() -> None:
    for module in _READER_MODULES:
        importlib.import_module(module)


def _lookup(registry: dict, name: str, what: str):
    _load_readers()
    if name not in registry:
        raise KeyError(f"unknown {what} source {name!r}; valid: {sorted(registry)}")
    return registry[name]


def build_video_source(cfg: DictConfig, split: str, cache_dir: Path) -> VideoSource:
    """The videos of ``split`` ("train"/"test") as configured, key frames already selected."""
    return _lookup(VIDEO_SOURCES, cfg.source, "video")(cfg, split, Path(cache_dir))


def build_image_source(cfg: DictConfig, split: str, cache_dir: Path) -> ImageSource:
    """The labeled images of ``split`` ("train"/"test"); few-shot sampling happens later."""
    return _lookup(IMAGE_SOURCES, cfg.source, "image")(cfg, split, Path(cache_dir))
