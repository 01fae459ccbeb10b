"""``motionlab``: the Hydra app. Compose, validate, run the chosen pipeline.

    motionlab setting=synthetic_a_to_voc pipeline=unreg seed=1
    motionlab -m setting=synthetic_a_to_voc,synthetic_b_to_s40 seed=0,1,2 experiment=zhang_ours
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import motionlab.config.resolvers  # noqa: F401  (registers ${sweep_tag:...} before Hydra composes)
from motionlab.config.preflight import CONF_DIR, preflight
from motionlab.pipeline import plan_pipeline
from motionlab.task import train


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> float:
    plan_pipeline(cfg)  # validates every stage's params before any work
    summary = train(cfg, Path(HydraConfig.get().runtime.output_dir))
    return float(summary["value"])


def main() -> None:
    preflight(sys.argv[1:])
    _app()


if __name__ == "__main__":
    main()
