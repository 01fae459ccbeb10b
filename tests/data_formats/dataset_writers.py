"""Writers of miniature dataset trees in the exact official on-disk formats (real encoded .avi and
.jpg files), quirks included. Every video frame carries its own index as an 8-bit code of black
and white bars along the top, so a test can read back which frames were decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np
from PIL import Image

CODE_BITS = 8
BAR = 8  # px per code bit; frames are at least CODE_BITS * BAR wide


# ------------------------------------------------------------------------------------- frames
def coded_frame(index: int, height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """RGB uint8 frame: a smooth seeded background, frame index coded in the top 16 rows."""
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 6.28, size=3)
    frame = np.stack([96 + 60 * np.sin(x / 9 + y / 13 + p + index / 5) for p in phase], axis=-1)
    frame = frame.astype(np.uint8)
    for bit in range(CODE_BITS):
        frame[:16, bit * BAR:(bit + 1) * BAR] = 255 if (index >> bit) & 1 else 0
    return frame


def read_code(frame: np.ndarray) -> int:
    """The index coded by ``coded_frame`` (frame at its native size)."""
    return sum(int(frame[2:14, b * BAR + 2:(b + 1) * BAR - 2].mean() > 127) << b for b in range(CODE_BITS))


def write_video(path: Path, num_frames: int, height: int = 48, width: int = 64, codec: str = "mpeg4",
                fps: int = 25, gop: int = 12, seed: int = 0) -> Path:
    """An .avi of coded frames: ``mpeg4`` (like UCF101's XviD, with inter frames) or ``mjpeg``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {"qscale": "2"} if codec == "mpeg4" else {}
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(coded_frame(i, height, width, seed), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def corrupt_file(path: Path) -> None:
    """Overwrite with bytes that are no video at all."""
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())


def truncate_file(path: Path, keep: float = 0.3) -> None:
    """Keep the first ``keep`` of the bytes, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def write_jpeg(path: Path, height: int = 48, width: int = 64, seed: int = 0, mode: str = "RGB",
               fmt: str = "JPEG") -> Path:
    """A small image; ``mode`` L/CMYK/RGBA and ``fmt`` PNG (saved under a .jpg name) give the odd
    files real datasets contain."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(coded_frame(seed, height, width, seed))
    if mode == "L":
        image = image.convert("L")
    elif mode == "CMYK":
        image = image.convert("CMYK")
    elif mode == "RGBA":
        image = image.convert("RGBA")
    image.save(path, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return path


def _write_text(path: Path, lines: Iterable[str], newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(f"{line}{newline}" for line in lines).encode())
    return path


# ------------------------------------------------------------------------------------- UCF101
UCF_CLASSES = ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]
UCF_GROUPS = [1, 8, 15, 22]  # test group of split 1, 2, 3 and a group that is always train


def ucf_file_stem(class_name: str, group: int, clip: int = 1) -> str:
    """``v_<Class>_gXX_cYY``; the HandstandPushups files are named HandStandPushups (UCF101 quirk)."""
    name = "HandStandPushups" if class_name == "HandstandPushups" else class_name
    return f"v_{name}_g{group:02d}_c{clip:02d}"


def write_ucf101(root: Path, num_frames: int = 40, classes: list[str] = UCF_CLASSES,
                 list_case_quirk: bool = True, crlf: bool = True) -> dict:
    """``root/UCF-101/<Class>/v_*.avi`` + ``root/ucfTrainTestlist``. Split k tests group
    UCF_GROUPS[k-1]. With ``list_case_quirk`` the lists spell the folder ``HandStandPushups`` while
    the folder is ``HandstandPushups``. Returns {split_id: {"train": [...], "test": [...]}} of
    (relative path, label) in list order."""
    newline = "\r\n" if crlf else "\n"
    for label, class_name in enumerate(classes):
        for group in UCF_GROUPS:
            stem = ucf_file_stem(class_name, group)
            write_video(root / "UCF-101" / class_name / f"{stem}.avi", num_frames, seed=label * 100 + group)
    lists = root / "ucfTrainTestlist"
    _write_text(lists / "classInd.txt", [f"{i + 1} {c}" for i, c in enumerate(classes)], newline)
    expected = {}
    for split_id, test_group in enumerate(UCF_GROUPS[:3], start=1):
        train, test = [], []
        for label, class_name in enumerate(classes):
            quirk = list_case_quirk and class_name == "HandstandPushups"
            folder = "HandStandPushups" if quirk else class_name
            for group in UCF_GROUPS:
                rel = f"{folder}/{ucf_file_stem(class_name, group)}.avi"
                (test if group == test_group else train).append((rel, label))
        _write_text(lists / f"trainlist0{split_id}.txt", [f"{rel} {lab + 1}" for rel, lab in train], newline)
        _write_text(lists / f"testlist0{split_id}.txt", [rel for rel, _ in test], newline)
        expected[split_id] = {"train": train, "test": test}
    return expected


# ------------------------------------------------------------------------------------- HMDB51
HMDB_VIDEOS = {  # class -> video names (real naming style, odd characters included)
    "brush_hair": ["April_09_brush_hair_u_nm_np1_ba_goo_0",
                   "Brushing_Hair_with_Beth_brush_hair_h_nm_np1_le_goo_0",
                   "Aussie_Brush_hair_brush_hair_u_nm_np2_ri_med_1"],
    "climb_stairs": ["Stair_Climbing_(!)_climb_stairs_f_cm_np1_fr_med_0",
                     "stairs&more_climb_stairs_u_cm_np1_ba_bad_1",
                     "Run_up_the_stairs_climb_stairs_f_nm_np1_ba_goo_2"],
    "climb": ["Wall_Climb_#1_climb_f_cm_np1_ba_med_0", "Rock_climbing_climb_f_cm_np1_le_goo_1",
              "boulder_climb_u_nm_np1_ri_bad_2"],
}


def hmdb_tags(video_index: int, split_id: int) -> int:
    """Tag of video ``video_index`` in split ``split_id``: 1 train, 2 test, 0 unused (rotating)."""
    return (1, 2, 0)[(video_index + split_id) % 3]


def write_hmdb51(root: Path, num_frames: int = 25, video_dir: str = ".") -> dict:
    """``root/<video_dir>/<class>/<video>.avi`` + ``root/testTrainMulti_7030_splits``; lines end in a
    trailing blank as in the official files. Returns {split_id: {tag: [(class, video)]}}."""
    expected: dict[int, dict[int, list]] = {s: {0: [], 1: [], 2: []} for s in (1, 2, 3)}
    for c, (class_name, videos) in enumerate(HMDB_VIDEOS.items()):
        for v, video in enumerate(videos):
            write_video(root / video_dir / class_name / f"{video}.avi", num_frames, seed=c * 10 + v)
        for split_id in (1, 2, 3):
            lines = []
            for v, video in enumerate(videos):
                tag = hmdb_tags(v, split_id)
                lines.append(f"{video}.avi {tag} ")
                expected[split_id][tag].append((class_name, video))
            _write_text(root / "testTrainMulti_7030_splits" / f"{class_name}_test_split{split_id}.txt", lines)
    return expected


# ----------------------------------------------------------------------------------- MMAction2
def write_mmaction(root: Path, num_frames: int = 40, classes: list[str] = UCF_CLASSES) -> dict:
    """``root/videos/<Class>/<video>.avi`` + ``root/rawframes/<Class>/<video>/img_00001.jpg...`` and the
    four list files of split 1 (0-based labels). The first train rawframe folder lists one frame
    more than it holds (a common extraction glitch)."""
    train_videos, test_videos, train_frames, test_frames = [], [], [], []
    for label, class_name in enumerate(classes):
        for group in (1, 2):
            stem = ucf_file_stem(class_name, group)
            write_video(root / "videos" / class_name / f"{stem}.avi", num_frames, seed=label * 100 + group)
            frame_dir = root / "rawframes" / class_name / stem
            frame_dir.mkdir(parents=True, exist_ok=True)
            for i in range(num_frames):
                image = Image.fromarray(coded_frame(i, seed=label * 100 + group))
                image.save(frame_dir / f"img_{i + 1:05d}.jpg", quality=95)
            (test_videos if group == 1 else train_videos).append(f"{class_name}/{stem}.avi {label}")
            (test_frames if group == 1 else train_frames).append(f"{class_name}/{stem} {num_frames} {label}")
    _write_text(root / "ucf101_train_split_1_videos.txt", train_videos)
    _write_text(root / "ucf101_test_split_1_videos.txt", test_videos)
    _write_text(root / "ucf101_train_split_1_rawframes.txt", train_frames)
    _write_text(root / "ucf101_test_split_1_rawframes.txt", test_frames)
    return {"train_videos": train_videos, "test_videos": test_videos, "train_frames": train_frames}


# ------------------------------------------------------------------------------------ VOC 2012
VOC_ACTIONS = ["jumping", "phoning", "playinginstrument", "reading", "ridingbike", "ridinghorse", "running",
               "takingphoto", "usingcomputer", "walking"]


def voc_object_xml(actions: set[str], box: tuple[int, int, int, int], point: bool) -> str:
    xmin, ymin, xmax, ymax = box
    flags = "".join(f"\t\t\t<{a}>{int(a in actions)}</{a}>\n" for a in sorted(VOC_ACTIONS + ["other"]))
    point_xml = (f"\t\t<point>\n\t\t\t<x>{(xmin + xmax) // 2}</x>\n\t\t\t<y>{ymin + 2}</y>\n\t\t</point>\n"
                 if point else "")
    return (f"\t<object>\n\t\t<actions>\n{flags}\t\t</actions>\n\t\t<bndbox>\n\t\t\t<xmax>{xmax}</xmax>\n"
            f"\t\t\t<xmin>{xmin}</xmin>\n\t\t\t<ymax>{ymax}</ymax>\n\t\t\t<ymin>{ymin}</ymin>\n\t\t</bndbox>\n"
            f"\t\t<name>person</name>\n{point_xml}\t\t<pose>Unspecified</pose>\n\t</object>\n")


def write_voc2012(root: Path, odd_images: bool = True) -> dict:
    """``root/VOCdevkit/VOC2012/...`` with Action image sets for train and val. Train: per action two
    single-person images and, in one two-person image, persons of two actions; plus one person with
    none of the actions (other) and one with two actions. Val: one person per action. With
    ``odd_images`` some files are grayscale, CMYK, or PNG data under a .jpg name.
    Returns {split: {(image id, objidx): action or None}} and the boxes."""
    voc = root / "VOCdevkit" / "VOC2012"
    people: dict[str, dict[tuple[str, int], set[str]]] = {"train": {}, "val": {}}
    boxes: dict[tuple[str, int], tuple[int, int, int, int]] = {}
    images: dict[str, list[tuple[set[str], tuple[int, int, int, int]]]] = {}
    counter = iter(range(1, 1000))

    def add_image(split: str, persons: list[set[str]]) -> str:
        image_id = f"2010_{next(counter):06d}"
        images[image_id] = []
        for obj, actions in enumerate(persons, start=1):
            # 1-based inclusive; the second person's box touches the image edge
            box = (11, 6, 30, 25) if obj == 1 else (35, 10, 64, 48)
            images[image_id].append((actions, box))
            people[split][(image_id, obj)] = actions
            boxes[(image_id, obj)] = box
        return image_id

    for action in VOC_ACTIONS:
        add_image("train", [{action}])
        add_image("train", [{action}])
        add_image("val", [{action}])
    two_person = add_image("train", [{"phoning"}, {"walking"}])
    other = add_image("train", [{"other"}])
    multi = add_image("train", [{"reading", "usingcomputer"}])
    odd = {}
    for i, image_id in enumerate(images):
        modes = {1: ("L", "JPEG"), 2: ("CMYK", "JPEG"), 3: ("RGB", "PNG"), 4: ("RGBA", "PNG")}
        mode, fmt = modes.get(i, ("RGB", "JPEG")) if odd_images else ("RGB", "JPEG")
        if (mode, fmt) != ("RGB", "JPEG"):
            odd[image_id] = (mode, fmt)
        write_jpeg(voc / "JPEGImages" / f"{image_id}.jpg", seed=i, mode=mode, fmt=fmt)
        objects = "".join(voc_object_xml(actions, box, point=j == 0)
                          for j, (actions, box) in enumerate(images[image_id]))
        (voc / "Annotations").mkdir(parents=True, exist_ok=True)
        (voc / "Annotations" / f"{image_id}.xml").write_text(
            f"<annotation>\n\t<filename>{image_id}.jpg</filename>\n\t<folder>VOC2012</folder>\n{objects}"
            "\t<segmented>0</segmented>\n\t<size>\n\t\t<depth>3</depth>\n\t\t<height>48</height>\n"
            "\t\t<width>64</width>\n\t</size>\n\t<source>\n\t\t<annotation>PASCAL VOC2010</annotation>\n"
            "\t\t<database>The VOC2010 Database</database>\n\t\t<image>flickr</image>\n\t</source>\n"
            "</annotation>\n")
    sets = voc / "ImageSets" / "Action"
    for split in ("train", "val"):
        members = list(people[split])
        _write_text(sets / f"{split}.txt", [f"{image_id} {obj}" for image_id, obj in members])
        for action in VOC_ACTIONS:  # the devkit prints "%s %d % d": a positive label gets two blanks
            _write_text(sets / f"{action}_{split}.txt",
                        [f"{image_id} {obj} {1 if action in people[split][(image_id, obj)] else -1: d}"
                         for image_id, obj in members])
    return {"people": people, "boxes": boxes, "voc": voc, "two_person": two_person, "other": other,
            "multi": multi, "odd": odd}


# ---------------------------------------------------------------------------------- Stanford40
S40_ACTIONS = ["applauding", "reading", "phoning", "waving_hands"]  # file order, not alphabetical
S40_COUNTS = {"train": 3, "test": 2}


def write_stanford40(root: Path) -> dict:
    """``root/{JPEGImages,XMLAnnotations,ImageSplits}``: actions.txt with its header line and tab
    rows (CRLF), per-action and combined split files. Returns {split: [(file name, label)]}."""
    expected: dict[str, list[tuple[str, int]]] = {"train": [], "test": []}
    splits = root / "ImageSplits"
    rows = ["action_name\tnumber_of_images"]
    for label, action in enumerate(S40_ACTIONS):
        number = iter(range(1, 100))
        rows.append(f"{action}\t{sum(S40_COUNTS.values())}")
        for split, count in S40_COUNTS.items():
            names = [f"{action}_{next(number):03d}.jpg" for _ in range(count)]
            _write_text(splits / f"{action}_{split}.txt", names)
            for name in names:
                stem = Path(name).stem
                write_jpeg(root / "JPEGImages" / name, seed=label * 10 + int(stem[-3:]))
                (root / "XMLAnnotations").mkdir(parents=True, exist_ok=True)
                (root / "XMLAnnotations" / f"{stem}.xml").write_text(
                    f"<annotation>\n  <filename>{name}</filename>\n  <object>\n"
                    f"    <action>{action}</action>\n    <bndbox>\n      <xmax>50</xmax>\n"
                    "      <xmin>5</xmin>\n"
                    "      <ymax>40</ymax>\n      <ymin>3</ymin>\n    </bndbox>\n    <name>person</name>\n"
                    "  </object>\n  <size>\n    <depth>3</depth>\n    <height>48</height>\n"
                    "    <width>64</width>\n  </size>\n</annotation>\n")
                expected[split].append((name, label))
    _write_text(splits / "actions.txt", rows, "\r\n")
    for split in S40_COUNTS:
        _write_text(splits / f"{split}.txt", [name for name, _ in expected[split]])
    return expected
