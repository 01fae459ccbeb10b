"""``camera_motion``: the augmentation that keeps PWC-lite from collapsing to zero flow on footage
from a fixed camera. It must move frame 2 by the similarity it claims (shift, rotation about the
centre), and on a static scene it must make zero flow a bad answer that a short training run beats."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from motionlab.lit.flow import CameraMotion, UnsupervisedFlowModule, camera_motion
from motionlab.losses.unsupervised import UnsupervisedLossParams, unsupervised_loss
from motionlab.models.pwc_lite import PWCLite, PWCLiteConfig
from motionlab.models.warp import backward_warp, pixel_grid

H, W = 48, 64
INTERIOR = (slice(None), slice(None), slice(12, -12), slice(12, -12))  # away from replicated borders


def coordinate_image(b: int) -> torch.Tensor:
    """Channels 0/1 hold each pixel's own x/y: after the warp they read the source coordinates."""
    grid = pixel_grid(torch.zeros(b, 2, H, W)).expand(b, 2, H, W)
    return torch.cat((grid, torch.zeros(b, 1, H, W)), 1)


def texture(seed: int, b: int = 1) -> torch.Tensor:
    """Smooth noise at three scales (4, 8 and 16 px): structure at the size of the shifts, so the
    photometric loss has a slope towards the true flow."""
    g = torch.Generator().manual_seed(seed)
    octaves = [torch.rand(b, 3, H // s + 1, W // s + 1, generator=g) for s in (4, 8, 16)]
    return sum(F.interpolate(o, size=(H, W), mode="bicubic", align_corners=True) for o in octaves) / 3


def test_zero_bounds_leave_the_frame_unchanged():
    img = texture(0, 2)
    out = camera_motion(img, CameraMotion(shift=0.0, rotation_deg=0.0, zoom=0.0))
    torch.testing.assert_close(out, img, atol=1e-5, rtol=0)


def test_shift_moves_every_pixel_by_one_vector_within_the_bound():
    torch.manual_seed(0)
    img = coordinate_image(8)
    out = camera_motion(img, CameraMotion(shift=6.0, rotation_deg=0.0, zoom=0.0))
    moved = (out - img)[INTERIOR][:, :2]  # source minus target coordinate = the camera shift
    per_pair = moved.flatten(2).mean(-1)
    torch.testing.assert_close(moved, per_pair[..., None, None].expand_as(moved), atol=1e-4, rtol=0)
    assert per_pair.abs().max() <= 6.0
    assert per_pair.std(0).min() > 1.0  # drawn per pair, not one shift for the batch


def test_rotation_and_zoom_are_about_the_frame_centre():
    torch.manual_seed(1)
    img = coordinate_image(8)
    out = camera_motion(img, CameraMotion(shift=0.0, rotation_deg=5.0, zoom=0.05))
    centre = torch.tensor([(W - 1) / 2, (H - 1) / 2]).view(1, 2, 1, 1)
    target, source = img[INTERIOR][:, :2] - centre, out[INTERIOR][:, :2] - centre
    ratio = source.norm(dim=1) / target.norm(dim=1).clamp_min(1e-6)
    far = target.norm(dim=1) > 5  # the ratio is ill-conditioned next to the centre
    scale = ratio[far].view(8, -1).median(1).values
    assert ((scale - 1).abs() <= 0.05 + 1e-3).all() and (scale - 1).abs().max() > 1e-3
    cos = (source * target).sum(1) / (source.norm(dim=1) * target.norm(dim=1)).clamp_min(1e-6)
    angle = torch.rad2deg(torch.acos(cos[far].clamp(-1, 1)))
    assert angle.max() <= 5.0 + 0.5 and angle.max() > 0.5


def small_net() -> PWCLite:
    return PWCLite(PWCLiteConfig(pyramid_channels=[8, 16, 24], decoder_channels=[32, 16], search_radius=2))


def train_on_static_scenes(seed: int, motion: dict | None, steps: int = 250) -> PWCLite:
    """The flow stage's own training step on uint8 clips whose two frames are equal (a fixed
    camera, nothing moving), ``motion`` its ``camera_motion`` param."""
    torch.manual_seed(seed)
    params = SimpleNamespace(camera_motion=motion, crop=None, bidirectional=False,
                             loss=UnsupervisedLossParams(), lr=2e-3, weight_decay=0.0)
    module = UnsupervisedFlowModule(small_net(), params)
    module.log = lambda *a, **k: None  # outside a Trainer
    optimizer = torch.optim.Adam(module.net.parameters(), lr=params.lr)
    for step in range(steps):
        frame = (texture(100 + step, 4) * 255).round().to(torch.uint8)
        optimizer.zero_grad()
        module.training_step({"frames": frame[:, None].expand(4, 2, 3, H, W)}, step).backward()
        optimizer.step()
    return module.net.eval()


def shift_epe(net: PWCLite) -> tuple[float, float]:
    """EPE of ``net`` and of zero flow on an unseen texture shifted by (3, -2) px."""
    shift = torch.tensor([3.0, -2.0]).view(1, 2, 1, 1).expand(1, 2, H, W)
    img1 = texture(999)
    img2 = backward_warp(img1, -shift, padding_mode="border")  # img2(p + shift) = img1(p)
    with torch.no_grad():
        flow = net(img1, img2)[0]
    return float((flow - shift)[INTERIOR].norm(dim=1).mean()), float(shift[INTERIOR].norm(dim=1).mean())


def test_on_a_static_scene_zero_flow_is_optimal_until_the_camera_moves():
    static = texture(1, 4)
    moved = camera_motion(static, CameraMotion())
    zero, loss = [torch.zeros(4, 2, H, W)], UnsupervisedLossParams()
    assert float(unsupervised_loss(zero, static, static, loss)[0]) < 1e-6
    assert float(unsupervised_loss(zero, static, moved, loss)[0]) > 0.01


@pytest.mark.parametrize("seed", [0, 1])
def test_camera_motion_teaches_flow_on_static_scenes(seed):
    """250 steps learn to recover a shift never shown (EPE 0.3-0.9 px at 200-300 steps over four
    seeds, zero flow 3.6 px); the same run without the augmentation stays at zero flow."""
    epe, epe_zero = shift_epe(train_on_static_scenes(seed, {"shift": 6.0, "rotation_deg": 3.0, "zoom": 0.03}))
    assert epe < 0.5 * epe_zero, (epe, epe_zero)


def test_without_camera_motion_static_scenes_teach_zero_flow():
    epe, epe_zero = shift_epe(train_on_static_scenes(0, None))
    assert epe > 0.9 * epe_zero, (epe, epe_zero)


@pytest.mark.parametrize("bound", [0.0, 16.0])
def test_dtype_and_shape_follow_the_input(bound):
    img = texture(2, 3).double()
    out = camera_motion(img, CameraMotion(shift=bound))
    assert out.shape == img.shape and out.dtype == img.dtype
