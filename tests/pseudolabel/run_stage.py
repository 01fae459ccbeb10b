"""Run the pseudolabels pipeline in its own process (for the kill/resume test):
``python run_stage.py OUTPUT_ROOT override...``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helpers import make_cfg  # noqa: E402

from motionlab.pipeline import run_pipeline  # noqa: E402

if __name__ == "__main__":  # the flow workers are spawned: they re-import this file
    root = Path(sys.argv[1])
    run_pipeline(make_cfg(root, "pipeline=pseudolabels", *sys.argv[2:]), root / "run")
