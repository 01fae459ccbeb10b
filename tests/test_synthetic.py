"""The synthetic benchmark: deterministic, exact flow, cues present, figure command."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from motionlab.data.synthetic import (
    FAMILIES,
    GENERATOR_VERSION,
    MOTIONS,
    PATH_FRAMES,
    Look,
    SyntheticImages,
    SyntheticVideos,
    render_clip,
)
from motionlab.pseudolabel.otsu import MagnitudeHistogram


def _video_cfg(**kw):
    base = dict(source="synthetic", generator=GENERATOR_VERSION, family="a", motions=list(MOTIONS), num_videos=9,
                num_test_videos=3, key_frames=5, key_interval=1, size=48, exposure=2.0, trail=0.15, subframes=9,
                camera_jitter=1.5, orientation_cue=True, seed=0)
    return OmegaConf.create({**base, **kw})


def _warp_back(frame2: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[1:]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return cv2.remap(frame2.astype(np.float32), xx + flow[0], yy + flow[1], cv2.INTER_LINEAR)


@pytest.mark.parametrize("exposure", [0.0, 2.0])
def test_gt_flow_warps_next_frame_onto_current(tmp_path, exposure):
    videos = SyntheticVideos(_video_cfg(exposure=exposure), "train", tmp_path)
    errors, zero_flow_errors = [], []
    for sample in videos:
        for t in range(len(sample.frames) - 1):
            f1, f2, flow = sample.frames[t], sample.frames[t + 1], sample.flow_gt[t]
            h, w = flow.shape[1:]
            yy, xx = np.mgrid[0:h, 0:w]
            inside = (xx + flow[0] >= 0) & (xx + flow[0] <= w - 1) & (yy + flow[1] >= 0) & (yy + flow[1] <= h - 1)
            moving = inside & (np.hypot(flow[0], flow[1]) > 0.5)
            err = np.abs(_warp_back(f2, flow) - f1).mean(-1)
            errors.append(err[moving].mean())
            zero_flow_errors.append(np.abs(f2.astype(float) - f1).mean(-1)[moving].mean())
    # Exact flow reconstructs frame t to a few grey levels on moving pixels (texture resampling and
    # the anti-aliased border), several times better than assuming no motion.
    assert np.mean(errors) < 4.0
    assert np.mean(errors) < 0.3 * np.mean(zero_flow_errors)


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    a = SyntheticVideos(_video_cfg(), "train", tmp_path / "a")
    b = SyntheticVideos(_video_cfg(), "train", tmp_path / "b")
    c = SyntheticVideos(_video_cfg(seed=1), "train", tmp_path / "c")
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.flow, b.flow)
    assert not np.array_equal(a.frames, c.frames)
    # the cache returns what was generated
    again = SyntheticVideos(_video_cfg(), "train", tmp_path / "a")
    assert np.array_equal(a.frames, again.frames)


def test_translation_flow_points_along_the_motion(tmp_path):
    videos = SyntheticVideos(_video_cfg(camera_jitter=0.0, exposure=0.0), "train", tmp_path)
    for sample in videos:
        motion = sample.meta["motion"]
        fx, fy = sample.flow_gt[0][0], sample.flow_gt[0][1]
        moving = np.hypot(fx, fy) > 0.05  # no camera jitter: only the actor moves
        if motion == "right":
            assert fx[moving].mean() > 1.0
        if motion == "left":
            assert fx[moving].mean() < -1.0
        if motion == "up":
            assert fy[moving].mean() < -1.0
        if motion == "zoom_in":  # flow points away from the actor's centre
            ys, xs = np.nonzero(moving)
            div = np.mean((xs - xs.mean()) * fx[moving] + (ys - ys.mean()) * fy[moving])
            assert div > 0


def test_motion_trail_is_a_single_frame_cue():
    """A translating actor rendered with a trail differs from the sharp one along its path."""
    fam, times = FAMILIES["voc"], np.array([0.0])
    trail, _ = render_clip(fam, "right", times, 48, Look(2.0, 0.15, 9), key=("x",), with_flow=False)
    sharp, _ = render_clip(fam, "right", times, 48, Look(0.0), key=("x",), with_flow=False)
    assert np.abs(trail[0].astype(int) - sharp[0]).max() > 20


@pytest.mark.parametrize("forward, backward", [("rotate_cw", "rotate_ccw"), ("zoom_in", "zoom_out")])
def test_the_fading_trail_shows_the_sign_of_rotation_and_zoom(forward, backward):
    """The same actor moving forward over [m - E, m] and backward over [m, m + E] passes the same
    poses in opposite order. A symmetric box blur renders both the same (the v2 defect: a still
    cannot tell clockwise from counter-clockwise); the fading trail tells them apart."""
    fam, mid, exposure = FAMILIES["a"], PATH_FRAMES / 2, 2.0

    def differing_pixels(trail: float) -> int:
        """Pixels whose colour differs by more than 10 grey levels between the two stills."""
        look = Look(exposure, trail, 9)
        a, _ = render_clip(fam, forward, np.array([mid]), 48, look, key=("s",), with_flow=False)
        b, _ = render_clip(fam, backward, np.array([mid + exposure]), 48, look, key=("s",), with_flow=False)
        return int((np.abs(a[0].astype(int) - b[0]).max(-1) > 10).sum())

    assert differing_pixels(1.0) == 0 and differing_pixels(0.15) > 30


def test_otsu_keeps_flow_entries_of_every_motion(tmp_path):
    """The paper's global OTSU threshold on the exact flow of all clips leaves entries in most flow
    maps of every motion (zooms of v2 kept none), so every motion has a pseudo-label signature."""
    videos = SyntheticVideos(_video_cfg(num_videos=45, key_frames=8, camera_jitter=0.6), "train", tmp_path)
    flow = videos.flow.astype(np.float32)
    histogram = MagnitudeHistogram(0.01, 512.0)
    histogram.add_flow(flow)
    kept = (np.hypot(flow[:, :, 0], flow[:, :, 1]) >= histogram.threshold()).any(axis=(2, 3))
    survival = {m: kept[videos.labels() == i].mean() for i, m in enumerate(videos.class_names)}
    assert min(survival.values()) > 0.5, survival


def test_image_classes_are_kind_times_motion(tmp_path):
    cfg = OmegaConf.create(dict(source="synthetic", generator=GENERATOR_VERSION, family="s40",
                                motions=["right", "down", "zoom_out"], num_kinds=2, train_per_class=3,
                                test_per_class=2, size=32, exposure=2.0, trail=0.15, subframes=9,
                                orientation_cue=True, seed=0))
    train = SyntheticImages(cfg, "train", tmp_path)
    test = SyntheticImages(cfg, "test", tmp_path)
    assert train.class_names == ["box_right", "box_down", "box_zoom_out", "cross_right", "cross_down", "cross_zoom_out"]
    assert len(train) == 18 and len(test) == 12
    assert np.bincount(train.labels()).tolist() == [3] * 6
    assert train[0].image.shape == (32, 32, 3) and train[0].image.dtype == np.uint8
    assert not np.array_equal(train.images[:12], test.images)


def test_unknown_motion_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="valid"):
        SyntheticVideos(_video_cfg(motions=["right", "moonwalk"]), "train", tmp_path)


def test_a_config_for_another_renderer_version_is_refused(tmp_path):
    with pytest.raises(ValueError, match="generator"):
        SyntheticVideos(_video_cfg(generator=GENERATOR_VERSION - 1), "train", tmp_path)


def test_the_figure_command_writes_a_png(tmp_path):
    from motionlab.data.synthetic_figure import main

    out = tmp_path / "synthetic.png"
    main(["--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > 200 and image.shape[1] > 200


def test_mixed_videos_split_the_class_between_colour_and_motion(tmp_path) -> None:
    """``num_looks``: class = look × motion. The motion is the class's motion; the look is the actor's
    hue band, visible in one frame: the actor's mean hue orders the looks and never overlaps."""
    motions = ["right", "rotate_cw", "zoom_in"]
    cfg = _video_cfg(family="motion", motions=motions, num_looks=3, num_videos=36, exposure=0.0,
                     orientation_cue=False, size=64, camera_jitter=0.0)
    videos = SyntheticVideos(cfg, "train", tmp_path)
    assert len(videos.class_names) == 9
    hues: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for i in range(len(videos)):
        sample = videos[i]
        look, motion = divmod(sample.label, len(motions))
        assert sample.meta["motion"] == motions[motion]
        actor = np.linalg.norm(sample.flow_gt[0], axis=0) > 0.5  # moving pixels: the actor
        hsv = cv2.cvtColor(sample.frames[0], cv2.COLOR_RGB2HSV)
        hues[look].append(float(np.median(hsv[..., 0][actor & (hsv[..., 1] > 100) & (hsv[..., 2] > 90)])))
    assert max(hues[0]) < min(hues[1]) and max(hues[1]) < min(hues[2]), hues
    plain = SyntheticVideos(_video_cfg(family="motion", motions=motions, num_videos=9), "train", tmp_path / "p")
    assert plain.class_names == motions  # without num_looks the class is the motion alone


def test_kind_hues_give_each_kind_its_own_disjoint_band_of_the_family_hues():
    """``kind_hues``: the kinds' actor hue bands tile the family's range without overlap."""
    from motionlab.data.synthetic import FAMILIES, _hue_bands

    family = FAMILIES["s40"]
    bands = [b.actor_hue for b in _hue_bands(family, 4)]
    assert bands[0][0] == family.actor_hue[0] and bands[-1][1] == family.actor_hue[1]
    assert all(low < high for low, high in bands)
    assert all(a[1] <= b[0] for a, b in zip(bands, bands[1:], strict=False))
