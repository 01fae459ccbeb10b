"""Configs built from the real YAML files in conf/data/, so the tests also check the shipped configs."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONF = Path(__file__).resolve().parents[2] / "conf" / "data"

# Native frame size and every video: the tests read the frame codes back.
ALL_NATIVE = {"size": None, "num_videos": None, "decode_workers": 1}


def data_cfg(kind: str, name: str, **overrides) -> DictConfig:
    """conf/data/<kind>/<name>.yaml with ``overrides`` merged in."""
    cfg = OmegaConf.load(CONF / kind / f"{name}.yaml")
    return OmegaConf.merge(cfg, OmegaConf.create(overrides))
