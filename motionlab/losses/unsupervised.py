"""The unsupervised flow loss as configured by a stage: its parameters (one dataclass, shared by
flow pretraining, the end-to-end fine-tuning of the TSN motion stream and the CGMU motion stages)
and the one call of ``unsupervised_flow_loss`` that reads them, one way or both ways."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from motionlab.losses.photometric import unsupervised_flow_loss


@dataclass
class UnsupervisedLossParams:
    """Arguments of ``unsupervised_flow_loss``; paper values except where marked."""

    loss_weights: list[float] = field(default_factory=lambda: [0.2, 1.0, 50.0])  # lambda_1..3 (paper)
    scale_weights: list[float] | None = None  # per flow scale, finest first; None: 1 each
    census_patch: int = 3
    edge_weight: float = 1.0  # exp(-edge_weight |grad I|), eq. 8 has 1
    smooth_order: int = 1
    occlusion: bool = False  # forward-backward occlusion mask: our extension
    mask_out_of_bounds: bool = False  # ignore pixels whose match leaves the frame: our extension
    num_scales: int | None = None  # hold the loss fixed across nets: see ``fill_scales``; None: the net's own


def fill_scales(flows: list[torch.Tensor], num_scales: int | None) -> list[torch.Tensor]:
    """``flows`` (finest first) extended to ``num_scales`` by halving the coarsest one (area mean,
    vectors halved), so an ablated net that decodes fewer scales (no multi-scale) is trained with the
    same photometric scales as the full net: the ablation then changes the architecture, not the loss."""
    if num_scales is None or len(flows) >= num_scales:
        return flows
    out = list(flows)
    while len(out) < num_scales:
        coarsest = out[-1]
        if min(coarsest.shape[-2:]) < 2:
            raise ValueError(f"loss.num_scales={num_scales}: the flow is {tuple(flows[0].shape[-2:])}, too small "
                             f"to halve {num_scales - len(flows)} more times")
        out.append(F.avg_pool2d(coarsest, 2) / 2)
    return out


def unsupervised_loss(flows: list[torch.Tensor], img1: torch.Tensor, img2: torch.Tensor,
                      loss: UnsupervisedLossParams, flows_bw: list[torch.Tensor] | None = None
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``unsupervised_flow_loss`` of ``flows`` (finest first) from ``img1`` to ``img2`` with ``loss``."""
    flows = fill_scales(flows, loss.num_scales)
    if flows_bw is not None:
        flows_bw = fill_scales(flows_bw, loss.num_scales)
    return unsupervised_flow_loss(
        img1, img2, flows, weights=tuple(loss.loss_weights), occlusion=loss.occlusion, flows_bw=flows_bw,
        scale_weights=loss.scale_weights, census_patch=loss.census_patch, edge_weight=loss.edge_weight,
        smooth_order=loss.smooth_order, mask_out_of_bounds=loss.mask_out_of_bounds)


def bidirectional_loss(flows_fw: list[torch.Tensor], flows_bw: list[torch.Tensor], img1: torch.Tensor,
                       img2: torch.Tensor, loss: UnsupervisedLossParams
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The mean of the loss of the forward flows (1 -> 2) and of the backward flows (2 -> 1), each
    with the other direction for the occlusion mask; the terms are the forward ones."""
    loss_fw, terms = unsupervised_loss(flows_fw, img1, img2, loss, flows_bw)
    loss_bw, _ = unsupervised_loss(flows_bw, img2, img1, loss, flows_fw)
    return (loss_fw + loss_bw) / 2, terms
