"""``motionlab``: the Hydra app. Compose, validate, run the chosen pipeline.

    motionlab setting=synthetic_a_to_voc pipeline=unreg seed=1
    motionlab -m setting=synthetic_a_to_voc,synthetic_b_to_s40 seed=0,1,2 experiment=zhang_ours
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import motionlab.config.resolvers  # noqa: F401  (registers ${sweep_tag:...} before Hydra composes)
from motionlab.config.preflight import CONF_DIR, preflight
from motionlab.core.errors import ConfigError, DataError
from motionlab.pipeline import plan_pipeline
from motionlab.task import train


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _app(cfg: DictConfig) -> float:
    try:
        plan_pipeline(cfg)  # validates every stage's params before any work
        summary = train(cfg, Path(HydraConfig.get().runtime.output_dir))
    except (ConfigError, DataError) as err:
        exit_cleanly(err)
    return float(summary["value"])


def exit_cleanly(err: ConfigError | DataError) -> None:
    """A fault the user fixes (the message names the file or key and the fix): that one line and
    status 2, no traceback; with HYDRA_FULL_ERROR=1 Hydra's report with the traceback instead."""
    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        raise err
    kind = "config" if isinstance(err, ConfigError) else "data"
    print(f"motionlab: {kind} error: {str(err).replace(chr(10), ' ')}", file=sys.stderr)
    raise SystemExit(2) from None


def main() -> None:
    preflight(sys.argv[1:])
    _app()


if __name__ == "__main__":
    main()
