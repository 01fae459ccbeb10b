"""The embedded synthetic benchmark (generator version 3): videos with exact ground-truth flow, and
still action images whose appearance carries motion cues. Measured cues: docs/benchmark.md.

How appearance is tied to motion (the reason unlabeled video can help a still-image classifier):
every frame shows a **fading motion trail**: the actor's poses over the last ``exposure`` frames,
``subframes`` of them, blended with weights that fall from 1 (now) to ``trail`` (the oldest). The
trail is asymmetric in time, so one frame shows the direction of every motion: the sharp copy
leads and the faint ones lag — along the path for translations, around the centre with the sign
of the rotation for rotations, inside (zoom in) or outside (zoom out) the sharp outline for zooms.
(A symmetric box blur, version 2, made a clockwise still the same as a counter-clockwise one.)
Translating actors also **face their direction of travel** (body rotated to the heading with
noise, a bright "head" at the front).

One phase: a clip's actor passes its mid-path pose (near the frame centre) at t = ``PATH_FRAMES`` / 2
(key frames are at t = 0, 1·interval, ...), and an image is the t = 0 frame of such a clip, so a video's first frame
and an image share the distribution of position, size and trail (version 2 drew images later on
paths placed for the videos, which reversed the position cue between the domains).

Magnitudes (``SPEEDS``) are large enough that the paper's global OTSU threshold on the flow
magnitude keeps entries of every motion (zooms of version 2 left nothing above it). Sprites and
translation speeds scale with the frame size (``REFERENCE_FRAME`` = 64 px); the Zhang settings use
32 px frames (CPU budget), the motion-only CGMU data 64 px and UF-TSN's 32 px (``conf/setting``).

Domain shift: each video source (``family`` "a" ≈ UCF101, "b" ≈ HMDB51) and each image target
("voc" ≈ PASCAL VOC, "s40" ≈ Stanford40) has its own actor shapes, textures and background
palette. An image class is an actor kind doing a motion (kind × motion), so several classes share
a motion and the motion alone never gives the label away.

Video classes (UF-TSN / CGMU): the motion alone (``synthetic_motion``: appearance says nothing), or,
with ``num_looks``, look × motion (``synthetic_mixed``: a look is a band of actor hues, seen by the
RGB stream and not by flow), so that each stream carries part of the class and fusion can help.

Exact flow: the background is one world texture seen by a jittering camera (bilinear sampling),
the actor a sprite under an affine map A_t (sprite → screen). Forward flow from key frame t1 to t2
is ``A_t2 A_t1^{-1} x - x`` on the actor (its sharp mask at t1) and the camera shift ``c_t1 - c_t2``
elsewhere. Everything is a pure function of (config, split, index): deterministic per seed.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from omegaconf import DictConfig, OmegaConf

from motionlab.core.io import atomic_path
from motionlab.data.sources import register_image_source, register_video_source
from motionlab.data.types import ImageSample, VideoSample

log = logging.getLogger(__name__)

MOTIONS = ("right", "left", "up", "down", "rotate_cw", "rotate_ccw", "zoom_in", "zoom_out", "oscillate")
_HEADING = {"right": 0.0, "left": math.pi, "up": -math.pi / 2, "down": math.pi / 2}

# Ranges drawn per clip: px/frame in a 64 px frame (translation; oscillation amplitude / 4),
# degrees/frame (rotation), scale factor - 1 per frame (zoom). Large enough that the paper's global
# OTSU threshold keeps flow entries of every motion (experiments/pseudolabels/).
SPEEDS = {"translate": (1.6, 2.6), "rotate": (12.0, 20.0), "zoom": (0.12, 0.18), "oscillate": (0.8, 1.2)}

SHAPES = ("ellipse", "box", "diamond", "triangle", "cross", "blob", "pentagon", "star")
TEXTURES = ("stripes", "checker", "dots", "noise")


@dataclass(frozen=True)
class Family:
    """The look of one data source: which actors, which textures, which background palette."""

    shapes: tuple[str, ...]
    textures: tuple[str, ...]
    background_hue: tuple[float, float]  # HSV hue range in [0, 180)
    actor_hue: tuple[float, float]


FAMILIES: dict[str, Family] = {
    "a": Family(("ellipse", "box", "blob"), ("stripes", "noise"), (90, 130), (0, 40)),
    "b": Family(("diamond", "pentagon", "star"), ("checker", "dots"), (10, 40), (100, 160)),
    "voc": Family(("ellipse", "triangle"), ("dots", "checker"), (40, 80), (140, 179)),
    "s40": Family(("box", "cross", "triangle", "diamond"), ("stripes", "dots"), (130, 170), (20, 70)),
    "motion": Family(SHAPES, TEXTURES, (0, 179), (0, 179)),
}

# Bump when the renderer changes: data configs must name this version (``generator:``), so every
# cached array and every stage result computed from older pictures gets a new key.
GENERATOR_VERSION = 3

SPRITE = 48  # sprite canvas (pixels); drawn at 2x the on-screen size for anti-aliasing
SPRITE_SCALE = 0.7  # on-screen pixels per sprite pixel in a 64 px frame (scaled with the frame size)
REFERENCE_FRAME = 64  # px: sizes and speeds below are for this frame size and scale with it
PATH_FRAMES = 6.0  # every actor passes its mid-path pose (``Actor.middle``) at t = PATH_FRAMES / 2


@dataclass(frozen=True)
class Look:
    """How a frame is exposed: the trail of the last ``exposure`` frames (``subframes`` samples
    whose weight fades to ``trail`` for the oldest: 1 = a symmetric box blur), camera shake, and
    whether translating actors face their heading."""

    exposure: float = 1.0
    trail: float = 1.0
    subframes: int = 5
    camera_jitter: float = 0.0
    orientation_cue: bool = True

    @classmethod
    def of(cls, cfg: DictConfig, camera_jitter: float | None = None) -> Look:
        jitter = float(cfg.get("camera_jitter", 0.0)) if camera_jitter is None else camera_jitter
        return cls(float(cfg.exposure), float(cfg.get("trail", 1.0)), int(cfg.get("subframes", 5)), jitter,
                   bool(cfg.orientation_cue))

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(age in frames, normalised weight) of every sub-frame, oldest first."""
        if self.exposure <= 0:
            return np.zeros(1), np.ones(1)
        age = np.linspace(self.exposure, 0.0, max(self.subframes, 2))
        w = self.trail ** (age / self.exposure)
        return age, w / w.sum()


# ---------------------------------------------------------------------------------- rendering
def _rng(*keys: object) -> np.random.Generator:
    digest = hashlib.sha256(repr(keys).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _hsv_color(rng: np.random.Generator, hue: tuple[float, float], sat=(120, 255), val=(90, 255)) -> np.ndarray:
    hsv = np.array([[[rng.uniform(*hue), rng.uniform(*sat), rng.uniform(*val)]]], np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _background(rng: np.random.Generator, family: Family, size: int) -> np.ndarray:
    """A smooth two-colour texture larger than the frame (the camera moves over it)."""
    noise = np.zeros((size, size), np.float32)
    for sigma, weight in ((size / 6, 1.0), (size / 20, 0.6), (1.5, 0.25)):
        layer = cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), sigma)
        noise += weight * layer / (layer.std() + 1e-6)
    t = (noise - noise.min()) / (np.ptp(noise) + 1e-6)
    c1, c2 = _hsv_color(rng, family.background_hue, (60, 200)), _hsv_color(rng, family.background_hue, (60, 200))
    return (c1 * (1 - t[..., None]) + c2 * t[..., None]).astype(np.float32)


def _shape_mask(shape: str, rng: np.random.Generator) -> np.ndarray:
    """Binary mask of an actor, pointing along +x (its front)."""
    m = np.zeros((SPRITE, SPRITE), np.uint8)
    c, r = SPRITE // 2, SPRITE * 0.36
    aspect = rng.uniform(0.5, 0.7)  # elongated along its heading: orientation is visible

    def poly(points: list[tuple[float, float]]) -> None:
        pts = np.array([[c + x * r, c + y * r * aspect] for x, y in points], np.int32)
        cv2.fillPoly(m, [pts], 1, lineType=cv2.LINE_8)

    if shape == "ellipse":
        cv2.ellipse(m, (c, c), (int(r), int(r * aspect)), 0, 0, 360, 1, -1)
    elif shape == "box":
        poly([(-1, -1), (1, -1), (1, 1), (-1, 1)])
    elif shape == "diamond":
        poly([(-1, 0), (0, -1), (1, 0), (0, 1)])
    elif shape == "triangle":
        poly([(1, 0), (-1, -1), (-1, 1)])
    elif shape == "cross":
        poly([(-1, -0.3), (1, -0.3), (1, 0.3), (-1, 0.3)])
        poly([(-0.3, -1), (0.3, -1), (0.3, 1), (-0.3, 1)])
    elif shape == "pentagon":
        poly([(math.cos(a), math.sin(a)) for a in np.linspace(0, 2 * math.pi, 6)[:-1]])
    elif shape == "star":
        pts = [(math.cos(a) * (1 if i % 2 == 0 else 0.45), math.sin(a) * (1 if i % 2 == 0 else 0.45))
               for i, a in enumerate(np.linspace(0, 2 * math.pi, 11)[:-1])]
        poly(pts)
    elif shape == "blob":
        angles = np.linspace(0, 2 * math.pi, 13)[:-1]
        radii = rng.uniform(0.65, 1.0, size=angles.size)
        poly([(math.cos(a) * q, math.sin(a) * q) for a, q in zip(angles, radii, strict=True)])
    else:
        raise ValueError(f"unknown shape {shape!r}; valid: {SHAPES}")
    return m


def _texture(kind: str, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:SPRITE, 0:SPRITE].astype(np.float32)
    if kind == "stripes":
        f, a = rng.uniform(0.25, 0.5), rng.uniform(0, math.pi)
        t = 0.5 + 0.5 * np.sin(f * (xx * math.cos(a) + yy * math.sin(a)))
    elif kind == "checker":
        p = int(rng.integers(4, 8))
        t = (((xx // p) + (yy // p)) % 2).astype(np.float32)
    elif kind == "dots":
        p = rng.uniform(5, 8)
        t = ((np.sin(xx * math.pi / p) * np.sin(yy * math.pi / p)) > 0.4).astype(np.float32)
    elif kind == "noise":
        t = cv2.GaussianBlur(rng.random((SPRITE, SPRITE)).astype(np.float32), (0, 0), 1.5)
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
    else:
        raise ValueError(f"unknown texture {kind!r}; valid: {TEXTURES}")
    return t


@dataclass
class Actor:
    """A textured sprite (premultiplied RGB + alpha, with the head marker) and its motion program."""

    rgba: np.ndarray  # float32 [S, S, 4], RGB premultiplied by alpha
    motion: str
    middle: np.ndarray  # screen position at t = PATH_FRAMES / 2 (world coordinates)
    orientation: float  # radians; the body's rotation at t = PATH_FRAMES / 2
    scale: float
    speed: float  # px/frame (translation, oscillation amplitude/period use it too), rad/frame, or zoom rate
    phase: float

    def pose(self, t: float) -> tuple[np.ndarray, float, float]:
        """(centre, rotation, scale) at time t (frames); ``middle``, ``orientation`` and ``scale``
        are the pose at the path's middle, t = PATH_FRAMES / 2."""
        pos, rot, scale = self.middle.copy(), self.orientation, self.scale
        t = t - PATH_FRAMES / 2
        if self.motion in _HEADING:
            h = _HEADING[self.motion]
            pos = pos + self.speed * t * np.array([math.cos(h), math.sin(h)])
        elif self.motion == "rotate_cw":
            rot = rot + self.speed * t
        elif self.motion == "rotate_ccw":
            rot = rot - self.speed * t
        elif self.motion == "zoom_in":
            scale = scale * (1 + self.speed) ** t
        elif self.motion == "zoom_out":
            scale = scale * (1 + self.speed) ** (-t)
        elif self.motion == "oscillate":
            amp, omega = 4.0 * self.speed, 2 * math.pi / 8.0
            pos = pos + np.array([amp * math.sin(omega * t + self.phase), 0.0])
        return pos, rot, scale

    def affine(self, t: float, camera: np.ndarray, frame: int) -> np.ndarray:
        """2x3 map from sprite pixels to screen pixels at time t."""
        pos, rot, scale = self.pose(t)
        s = scale * SPRITE_SCALE * frame / REFERENCE_FRAME
        c, si = math.cos(rot) * s, math.sin(rot) * s
        centre = (SPRITE - 1) / 2
        lin = np.array([[c, -si], [si, c]])
        offset = pos - camera - lin @ np.array([centre, centre])
        return np.hstack([lin, offset[:, None]]).astype(np.float64)


def _make_actor(rng: np.random.Generator, family: Family, motion: str, frame: int, orientation_cue: bool) -> Actor:
    shape = family.shapes[int(rng.integers(len(family.shapes)))]
    mask = _shape_mask(shape, rng).astype(np.float32)
    mask = cv2.GaussianBlur(mask, (3, 3), 0.7)
    tex = _texture(family.textures[int(rng.integers(len(family.textures)))], rng)
    c1, c2 = _hsv_color(rng, family.actor_hue), _hsv_color(rng, family.actor_hue, val=(30, 140))
    rgb = c1 * tex[..., None] + c2 * (1 - tex[..., None])
    head = np.zeros((SPRITE, SPRITE), np.float32)
    cv2.circle(head, (int(SPRITE * 0.80), SPRITE // 2), 3, 1.0, -1)
    rgb = rgb * (1 - head[..., None]) + 255.0 * head[..., None]
    rgba = np.concatenate([rgb * mask[..., None], mask[..., None]], axis=-1).astype(np.float32)

    px = frame / REFERENCE_FRAME  # translation speeds are in pixels: they scale with the frame
    if motion in _HEADING:
        speed = rng.uniform(*SPEEDS["translate"]) * px
    elif motion.startswith("rotate"):
        speed = math.radians(rng.uniform(*SPEEDS["rotate"]))
    elif motion.startswith("zoom"):
        speed = rng.uniform(*SPEEDS["zoom"])
    else:
        speed = rng.uniform(*SPEEDS["oscillate"]) * px
    scale = rng.uniform(0.9, 1.15)
    centre = np.array([frame / 2, frame / 2]) + rng.uniform(-frame / 10, frame / 10, size=2)
    if motion in _HEADING and orientation_cue:
        orientation = _HEADING[motion] + rng.normal(0, math.radians(20))
    else:
        orientation = rng.uniform(0, 2 * math.pi)
    return Actor(rgba, motion, centre, orientation, scale, speed, rng.uniform(0, 2 * math.pi))


def _camera(rng: np.random.Generator, jitter: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.uniform(0.5, 1.0, 2) * jitter, rng.uniform(0.3, 0.8, 2), rng.uniform(0, 2 * math.pi, 2)


def _camera_at(cam: tuple[np.ndarray, np.ndarray, np.ndarray], t: float) -> np.ndarray:
    amp, omega, phase = cam
    return amp * np.sin(omega * t + phase)


def _render(background: np.ndarray, pad: int, actor: Actor, camera: np.ndarray, t: float, frame: int,
            look: Look) -> np.ndarray:
    """One frame: the camera's view of the background, with the actor's poses over the exposure
    window [t - exposure, t] blended with weights fading into the past (a motion trail)."""
    m = np.array([[1, 0, camera[0] + pad], [0, 1, camera[1] + pad]], np.float64)
    bg = cv2.warpAffine(background, m, (frame, frame), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                        borderMode=cv2.BORDER_REFLECT)
    acc = np.zeros((frame, frame, 4), np.float32)
    for age, weight in zip(*look.weights(), strict=True):
        acc += weight * cv2.warpAffine(actor.rgba, actor.affine(t - age, camera, frame), (frame, frame),
                                       flags=cv2.INTER_LINEAR)
    out = bg * (1 - acc[..., 3:]) + acc[..., :3]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _flow(actor: Actor, cam1: np.ndarray, cam2: np.ndarray, t1: float, t2: float, frame: int) -> np.ndarray:
    """Exact forward flow [2, H, W] from time t1 to t2."""
    yy, xx = np.mgrid[0:frame, 0:frame].astype(np.float64)
    flow = np.empty((2, frame, frame), np.float32)
    flow[0], flow[1] = cam1[0] - cam2[0], cam1[1] - cam2[1]
    a1 = actor.affine(t1, cam1, frame)
    alpha = cv2.warpAffine(actor.rgba[..., 3], a1, (frame, frame), flags=cv2.INTER_LINEAR)
    on_actor = alpha > 0.5
    inv = cv2.invertAffineTransform(a1)
    a2 = actor.affine(t2, cam2, frame)
    pts = np.stack([xx[on_actor], yy[on_actor], np.ones(on_actor.sum())])
    local = inv @ pts
    target = a2 @ np.vstack([local, np.ones(local.shape[1])])
    flow[0][on_actor] = target[0] - xx[on_actor]
    flow[1][on_actor] = target[1] - yy[on_actor]
    return flow


def render_clip(family: Family, motion: str, times: np.ndarray, frame: int, look: Look, key: tuple,
                with_flow: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Frames uint8 [T,H,W,3] at ``times`` and, if asked, flow float32 [T-1,2,H,W] between them."""
    rng = _rng(*key)
    pad = frame // 4
    background = _background(rng, family, frame + 2 * pad)
    actor = _make_actor(rng, family, motion, frame, look.orientation_cue)
    cam = _camera(rng, look.camera_jitter)
    cams = [_camera_at(cam, t) for t in times]
    frames = np.stack([_render(background, pad, actor, c, t, frame, look) for c, t in zip(cams, times, strict=True)])
    flow = None
    if with_flow:
        flow = np.stack([_flow(actor, cams[i], cams[i + 1], times[i], times[i + 1], frame)
                         for i in range(len(times) - 1)])
    return frames, flow


# ------------------------------------------------------------------------------------ sources
def _motions(cfg: DictConfig) -> list[str]:
    motions = list(cfg.motions)
    bad = [m for m in motions if m not in MOTIONS]
    if bad:
        raise ValueError(f"unknown motion programs {bad}; valid: {list(MOTIONS)}")
    return motions


def _hue_bands(family: Family, count: int) -> list[Family]:
    """``family`` with its actor hue range cut into ``count`` equal bands, one family per band."""
    low, high = family.actor_hue
    edges = np.linspace(low, high, int(count) + 1)
    return [Family(family.shapes, family.textures, family.background_hue, (float(edges[i]), float(edges[i + 1])))
            for i in range(int(count))]


def _looks(family: Family, num_looks: int | None) -> list[tuple[str, Family]]:
    """``num_looks`` appearance classes for videos whose class is look × motion (the mixed UF-TSN
    setting): one band of the family's actor hues per look. Colour is seen by the RGB stream and not
    by flow, so some classes differ only in look and some only in motion. None: the class is the
    motion alone."""
    if not num_looks:
        return []
    return [(f"hue{i}", band) for i, band in enumerate(_hue_bands(family, num_looks))]


def _family(name: str) -> Family:
    if name not in FAMILIES:
        raise ValueError(f"unknown synthetic family {name!r}; valid: {sorted(FAMILIES)}")
    return FAMILIES[name]


def _check_version(cfg: DictConfig) -> None:
    if int(cfg.get("generator", 0)) != GENERATOR_VERSION:
        raise ValueError(f"synthetic data config says generator={cfg.get('generator')}, but this renderer is "
                         f"version {GENERATOR_VERSION}: set `generator: {GENERATOR_VERSION}` in the data config")


def _cached_arrays(cache_dir: Path, tag: str, cfg: dict, build) -> dict[str, np.ndarray]:
    """Generate once per config into ``cache_dir`` (shared by every stage and job), atomically."""
    digest = hashlib.sha256(repr(sorted(cfg.items())).encode()).hexdigest()[:16]
    path = Path(cache_dir) / "synthetic" / f"{tag}-{digest}.npz"
    if path.exists():
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)
    return arrays


class SyntheticVideos:
    """Unlabeled videos (``label`` = the true motion program, for NMI and the motion-only variant; with
    ``num_looks``, the class is look × motion, see ``_looks``)."""

    def __init__(self, cfg: DictConfig, split: str, cache_dir: Path) -> None:
        _check_version(cfg)
        self.family = _family(cfg.family)
        self.motions = _motions(cfg)
        looks = _looks(self.family, cfg.get("num_looks"))
        self.class_names = ([f"{name}_{m}" for name, _ in looks for m in self.motions] if looks
                            else list(self.motions))
        self.split = split
        count = int(cfg.num_videos if split == "train" else cfg.num_test_videos)
        times = np.arange(int(cfg.key_frames), dtype=np.float64) * float(cfg.key_interval)
        settings = OmegaConf.to_container(cfg, resolve=True)
        settings.update(split=split)
        look = Look.of(cfg)

        def build() -> dict[str, np.ndarray]:
            frames, flows, labels = [], [], []
            for i in range(count):
                label = i % len(self.class_names)
                appearance, motion = divmod(label, len(self.motions))
                family = looks[appearance][1] if looks else self.family
                f, fl = render_clip(family, self.motions[motion], times, int(cfg.size), look,
                                    key=(cfg.family, split, int(cfg.seed), i))
                frames.append(f)
                flows.append(fl.astype(np.float16))
                labels.append(label)
            return {"frames": np.stack(frames), "flow": np.stack(flows), "labels": np.array(labels)}

        data = _cached_arrays(cache_dir, f"videos-{cfg.family}-{split}", settings, build)
        self.frames, self.flow, self._labels = data["frames"], data["flow"], data["labels"]

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> VideoSample:
        return VideoSample(
            frames=self.frames[index],
            video_id=f"synthetic-{self.split}-{index:05d}",
            label=int(self._labels[index]),
            flow_gt=self.flow[index].astype(np.float32),
            meta={"motion": self.motions[int(self._labels[index]) % len(self.motions)]},
        )

    def labels(self) -> np.ndarray:
        return self._labels.astype(np.int64)


class SyntheticImages:
    """Still action images: class = (actor kind, motion); each image is one frame of an imaginary
    video, rendered with the same blur/orientation cues as the videos but another family's look."""

    def __init__(self, cfg: DictConfig, split: str, cache_dir: Path) -> None:
        _check_version(cfg)
        self.family = _family(cfg.family)
        motions = _motions(cfg)
        kinds = list(self.family.shapes[: int(cfg.num_kinds)])
        self.class_names = [f"{k}_{m}" for k in kinds for m in motions]
        self.motions = motions
        per_class = int(cfg.train_per_class if split == "train" else cfg.test_per_class)
        settings = OmegaConf.to_container(cfg, resolve=True)
        settings.update(split=split)
        # kind_hues: each kind also gets its own band of actor hues, so the kind is easy to tell from
        # a few shots and what separates classes is mostly the motion (docs/benchmark.md, version 4)
        hues = ([band.actor_hue for band in _hue_bands(self.family, len(kinds))] if cfg.get("kind_hues")
                else [self.family.actor_hue] * len(kinds))
        kind_family = [Family((k,), self.family.textures, self.family.background_hue, hue)
                       for k, hue in zip(kinds, hues, strict=True)]
        look = Look.of(cfg, camera_jitter=0.0)

        def build() -> dict[str, np.ndarray]:
            images, labels = [], []
            for i in range(per_class * len(self.class_names)):
                label = i % len(self.class_names)
                kind, motion = divmod(label, len(motions))
                frames, _ = render_clip(kind_family[kind], motions[motion], np.zeros(1), int(cfg.size), look,
                                        key=(cfg.family, split, int(cfg.seed), i), with_flow=False)
                images.append(frames[0])
                labels.append(label)
            return {"images": np.stack(images), "labels": np.array(labels)}

        data = _cached_arrays(cache_dir, f"images-{cfg.family}-{split}", settings, build)
        self.images, self._labels = data["images"], data["labels"]
        self.split = split

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> ImageSample:
        label = int(self._labels[index])
        return ImageSample(self.images[index], label, f"synthetic-{self.split}-{index:05d}",
                           meta={"motion": self.motion_of(label)})

    def motion_of(self, label: int) -> str:
        """The true motion of image class `label`, for the oracle controls (classes are kind × motion)."""
        return self.motions[label % len(self.motions)]

    def labels(self) -> np.ndarray:
        return self._labels.astype(np.int64)


@register_video_source("synthetic")
def synthetic_videos(cfg: DictConfig, split: str, cache_dir: Path) -> SyntheticVideos:
    return SyntheticVideos(cfg, split, cache_dir)


@register_image_source("synthetic")
def synthetic_images(cfg: DictConfig, split: str, cache_dir: Path) -> SyntheticImages:
    return SyntheticImages(cfg, split, cache_dir)
