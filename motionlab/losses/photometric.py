"""Unsupervised flow losses (UF-TSN section 2.2), shared by every self-supervised flow model.

Images are ``float [B, 3, H, W]`` in [0, 1]; flows ``float [B, 2, H, W]`` in pixels of their own
resolution; masks ``float [B, 1, H, W]`` with 1 where a pixel counts. Each term is one function
returning a scalar that is a (masked) mean over pixels, so terms at different resolutions are on
the same footing; ``unsupervised_flow_loss`` combines them over scales as in eq. 9.

Conventions, where the paper leaves them open:
- L1 (eq. 6) sums the absolute error over colour channels, census (eq. 7) sums the soft Hamming
  distance over the patch, as their norms say; both are then averaged over pixels (the 1/M).
- Smoothness (eq. 8) sees flow divided by the finest level's shorter side (ARFlow's convention),
  which is what makes lambda_3 = 50 a sensible weight next to the photometric terms.
- Occlusion masking (forward-backward consistency, UnFlow) is our extension, off by default.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from motionlab.models.warp import backward_warp, out_of_bounds_mask

# ITU-R BT.601 luma weights: the census transform compares intensities, not colours
_LUMA = (0.299, 0.587, 0.114)


def masked_mean(error: torch.Tensor, mask: torch.Tensor | None = None, eps: float = 1e-6) -> torch.Tensor:
    """Mean of a per-pixel error map ``[B, 1, H, W]`` over the pixels where ``mask`` is set."""
    if mask is None:
        return error.mean()
    mask = mask.expand_as(error)
    return (error * mask).sum() / (mask.sum() + eps)


def photometric_l1(img1: torch.Tensor, warped2: torch.Tensor,
                   mask: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 6: per-pixel L1 norm of ``img1 - warped2`` over channels, averaged over (masked) pixels."""
    return masked_mean((img1 - warped2).abs().sum(1, keepdim=True), mask)


def census_transform(image: torch.Tensor, patch_size: int = 3, eps: float = 0.81) -> torch.Tensor:
    """Soft census code ``[B, patch_size^2, H, W]`` of an intensity image ``[B, 1, H, W]`` in [0, 255].

    Each entry is ``d / sqrt(eps + d^2)`` with ``d`` = neighbour - centre: a smooth sign of the
    comparison (UnFlow, UFlow), invariant to a global brightness offset. Borders are replicated so
    that an offset does not change them either.
    """
    radius = patch_size // 2
    padded = F.pad(image, (radius, radius, radius, radius), mode="replicate")
    patches = F.unfold(padded, patch_size).view(image.shape[0], patch_size * patch_size, *image.shape[-2:])
    diff = patches - image
    return diff / torch.sqrt(eps + diff * diff)


def soft_hamming(code1: torch.Tensor, code2: torch.Tensor, eps: float = 0.1) -> torch.Tensor:
    """``[B, 1, H, W]`` soft Hamming distance between census codes: ``sum_k d_k^2 / (eps + d_k^2)``
    with ``d = code1 - code2``, i.e. about the number of comparisons that flipped."""
    sq = (code1 - code2) ** 2
    return (sq / (eps + sq)).sum(1, keepdim=True)


def to_intensity(image: torch.Tensor, scale: float = 255.0) -> torch.Tensor:
    """Luma ``[B, 1, H, W]`` of an RGB image in [0, 1], scaled to [0, ``scale``] (the census epsilons
    are set for 8-bit intensities). A single-channel image is only scaled."""
    if image.shape[1] == 1:
        return image * scale
    weights = torch.tensor(_LUMA, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image * weights).sum(1, keepdim=True) * scale


def census_loss(img1: torch.Tensor, warped2: torch.Tensor, patch_size: int = 3,
                mask: torch.Tensor | None = None, census_eps: float = 0.81,
                hamming_eps: float = 0.1) -> torch.Tensor:
    """Eq. 7: soft Hamming distance between the census codes of ``img1`` and ``warped2``, averaged
    over (masked) pixels. Zero for identical images; unchanged by a global brightness offset."""
    code1 = census_transform(to_intensity(img1), patch_size, census_eps)
    code2 = census_transform(to_intensity(warped2), patch_size, census_eps)
    return masked_mean(soft_hamming(code1, code2, hamming_eps), mask)


def _gradient(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along x ``[..., H, W-1]`` and y ``[..., H-1, W]``."""
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


def edge_aware_smoothness(flow: torch.Tensor, image: torch.Tensor, edge_weight: float = 1.0,
                          order: int = 1) -> torch.Tensor:
    """Eq. 8: ``sum_d |grad_d^order U| * exp(-edge_weight * |grad_d I|_1)``, averaged over pixels and
    over the two directions. Image gradients are the L1 norm over channels; for ``order`` 2 the
    weight uses the image gradient at the pixels the second difference is centred on."""
    if order not in (1, 2):
        raise ValueError(f"smoothness order must be 1 or 2, got {order}")
    img_dx, img_dy = _gradient(image)
    weight_x = torch.exp(-edge_weight * img_dx.abs().sum(1, keepdim=True))
    weight_y = torch.exp(-edge_weight * img_dy.abs().sum(1, keepdim=True))
    flow_dx, flow_dy = _gradient(flow)
    if order == 2:
        flow_dx = flow_dx[..., :, 1:] - flow_dx[..., :, :-1]
        flow_dy = flow_dy[..., 1:, :] - flow_dy[..., :-1, :]
        weight_x, weight_y = weight_x[..., :, :-1], weight_y[..., :-1, :]
    term_x = (flow_dx.abs() * weight_x).sum(1, keepdim=True).mean()
    term_y = (flow_dy.abs() * weight_y).sum(1, keepdim=True).mean()
    return (term_x + term_y) / 2


def forward_backward_occlusion(flow_fw: torch.Tensor, flow_bw: torch.Tensor, alpha1: float = 0.01,
                               alpha2: float = 0.5) -> torch.Tensor:
    """``[B, 1, H, W]`` 1 where forward and backward flow agree (UnFlow's test):
    ``|F_fw + F_bw(p + F_fw)|^2 < alpha1 (|F_fw|^2 + |F_bw(p + F_fw)|^2) + alpha2``, else 0 (occluded).
    Detached: the mask selects pixels, it is not itself trained. Our extension to UF-TSN."""
    flow_fw, flow_bw = flow_fw.detach(), flow_bw.detach()
    bw_at_target = backward_warp(flow_bw, flow_fw, padding_mode="border")
    mismatch = ((flow_fw + bw_at_target) ** 2).sum(1, keepdim=True)
    magnitude = (flow_fw**2).sum(1, keepdim=True) + (bw_at_target**2).sum(1, keepdim=True)
    return (mismatch < alpha1 * magnitude + alpha2).to(flow_fw.dtype)


def resize_image(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area-downsampled (or bilinear-upsampled) image at a flow level's resolution."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    if size[0] <= image.shape[-2] and size[1] <= image.shape[-1]:
        return F.interpolate(image, size=size, mode="area")
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False)


def unsupervised_flow_loss(
    img1: torch.Tensor,
    img2: torch.Tensor,
    flows: Sequence[torch.Tensor],
    weights: Sequence[float] = (0.2, 1.0, 50.0),
    occlusion: bool = False,
    flows_bw: Sequence[torch.Tensor] | None = None,
    scale_weights: Sequence[float] | None = None,
    census_patch: int = 3,
    edge_weight: float = 1.0,
    smooth_order: int = 1,
    normalize_smooth_flow: bool = True,
    mask_out_of_bounds: bool = False,
    alpha1: float = 0.01,
    alpha2: float = 0.5,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. 9 over scales: ``sum_s w_s (l1 * L1 + l2 * census + l3 * smooth)`` for the forward flows
    from ``img1`` to ``img2``.

    ``flows`` holds one flow per scale, finest first, each at any resolution (images are resized
    to it); ``weights`` = (lambda_1, lambda_2, lambda_3); ``scale_weights`` default to 1 each.
    ``occlusion`` needs ``flows_bw`` (img2 -> img1, same scales) and masks pixels failing the
    forward-backward check; ``mask_out_of_bounds`` masks pixels whose match leaves the frame.
    Returns the total and its unweighted terms summed over scales (for logging).
    """
    if occlusion and (flows_bw is None or len(flows_bw) != len(flows)):
        raise ValueError("occlusion=True needs flows_bw with one backward flow per forward flow")
    scale_weights = list(scale_weights) if scale_weights is not None else [1.0] * len(flows)
    if len(scale_weights) < len(flows):
        raise ValueError(f"{len(flows)} flow scales but only {len(scale_weights)} scale_weights")
    lam_l1, lam_census, lam_smooth = weights
    flow_norm = float(min(flows[0].shape[-2:])) if normalize_smooth_flow else 1.0
    terms = {"l1": img1.new_zeros(()), "census": img1.new_zeros(()), "smooth": img1.new_zeros(())}
    total = img1.new_zeros(())
    for level, flow in enumerate(flows):
        size = tuple(flow.shape[-2:])
        im1, im2 = resize_image(img1, size), resize_image(img2, size)
        warped2 = backward_warp(im2, flow)
        mask = None
        if mask_out_of_bounds:
            mask = out_of_bounds_mask(flow)
        if occlusion:
            occ = forward_backward_occlusion(flow, flows_bw[level], alpha1, alpha2)
            mask = occ if mask is None else mask * occ
        l1 = photometric_l1(im1, warped2, mask)
        census = census_loss(im1, warped2, census_patch, mask)
        smooth = edge_aware_smoothness(flow / flow_norm, im1, edge_weight, smooth_order)
        total = total + scale_weights[level] * (lam_l1 * l1 + lam_census * census + lam_smooth * smooth)
        terms["l1"] = terms["l1"] + l1.detach()
        terms["census"] = terms["census"] + census.detach()
        terms["smooth"] = terms["smooth"] + smooth.detach()
    return total, terms
