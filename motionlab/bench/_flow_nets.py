"""The PWC-lite checkpoints the flow benchmarks read: each named by the experiment that trains it
and its step count, and found where that run left it in the artifact store (``make flow-checkpoints``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from motionlab.core.errors import DataError
from motionlab.flow.videos import FLOW_NET

STEPS = "pipeline.stages.flow.params.max_steps"


@dataclass(frozen=True)
class FlowNet:
    label: str
    experiment: str
    steps: int

    @classmethod
    def parse(cls, spec: str) -> FlowNet:
        """``"LABEL=EXPERIMENT:STEPS"`` (the ``--net`` argument)."""
        label, _, rest = spec.partition("=")
        experiment, _, steps = rest.partition(":")
        if not (label and experiment and steps.isdigit()):
            raise ValueError(f"--net expects LABEL=EXPERIMENT:STEPS, got {spec!r}")
        return cls(label, experiment, int(steps))

    def checkpoint(self) -> Path:
        """``flow_net.pt`` of the experiment's flow stage at ``steps`` in the artifact store."""
        from motionlab.config.preflight import compose_config
        from motionlab.pipeline import plan_pipeline

        cfg = compose_config([f"experiment={self.experiment}", f"{STEPS}={self.steps}"])
        stage = next(s for s in plan_pipeline(cfg) if s.stage.kind == "flow_pretrain")
        path = Path(str(cfg.paths.store_dir)) / "flow_pretrain" / stage.key / FLOW_NET
        if not path.is_file():
            raise DataError(f"{path}: no checkpoint of {self.experiment} at {self.steps} steps; train it "
                            f"first (`motionlab experiment={self.experiment} {STEPS}={self.steps}`, or make "
                            "flow-checkpoints)")
        return path
