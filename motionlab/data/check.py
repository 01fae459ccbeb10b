"""``motionlab-check-data``: validate the dataset trees a setting points at, before any run.

    motionlab-check-data setting=ucf101_to_voc data.video.root=/data/UCF101 data.image.root=/data/VOCdevkit
    motionlab-check-data --video hmdb51 --video-root /data/HMDB51 --image stanford40 --image-root /data/S40

Builds each split exactly as a run would (same config tree, same cache: the selected clips are
decoded into the run's clip cache, so the first run starts warm), decodes every labeled image, and
prints per-class counts, split sizes, and every skipped or suspicious file with the reason.
Exit status 1 when a tree cannot be used (wrong layout, missing list, an undecodable image, an
empty split), 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from motionlab.core.errors import ConfigError, DataError
from motionlab.data.sources import build_image_source, build_video_source

SPLITS = ("train", "test")


@dataclass
class Report:
    """Lines to print and whether the tree is usable."""

    lines: list[str] = field(default_factory=list)
    usable: bool = True

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def fail(self, line: str) -> None:
        self.usable = False
        self.add(f"  ERROR: {line}")


def _class_table(names: list[str], columns: dict[str, Counter]) -> list[str]:
    """One row per class: the name and a count per column."""
    width = max((len(n) for n in names), default=5)
    header = "    " + "class".ljust(width) + "".join(f"{c:>10}" for c in columns)
    rows = ["    " + name.ljust(width) + "".join(f"{counts.get(i, 0):>10}" for counts in columns.values())
            for i, name in enumerate(names)]
    return [header, *rows]


def _files(title: str, items: list) -> list[str]:
    """A titled list of (path, reason) records; nothing when there are none."""
    if not items:
        return []
    return [f"  {title} ({len(items)}):"] + [f"    {item.path}: {item.reason}" for item in items]


def check_video(cfg: DictConfig, cache_dir: Path, report: Report) -> None:
    """Build each split (decoding the selected clips into the cache) and report what was found."""
    report.add(f"== data.video: {cfg.source} (root {cfg.get('root', '?')}) ==")
    for split in SPLITS:
        try:
            source = build_video_source(cfg, split, cache_dir)
        except (DataError, ConfigError) as err:
            report.fail(f"{split}: {err}")
            continue
        listed = Counter(e.label for e in source.entries)
        selected = Counter(source.labels().tolist())
        report.add(f"  {split}: {source.num_listed} listed, {len(source.entries)} found, "
                   f"{len(source)} selected, {len(source.skipped)} skipped")
        if source.class_names:
            report.lines += _class_table(source.class_names, {"found": listed, "selected": selected})
        empty = [n for i, n in enumerate(source.class_names) if not listed.get(i)]
        if empty:
            report.add(f"  suspicious: {len(empty)} classes without any video in {split}: {', '.join(empty)}")
        report.lines += _files(f"skipped in {split}", source.skipped)
        report.lines += _files(f"notes on {split}", source.notes)
        if len(source) == 0:
            report.fail(f"{split}: no usable video")


def _decode_all(source, workers: int) -> tuple[list[tuple[int, str]], list[tuple[int, dict]]]:
    """(index, error) of samples that fail, (index, meta) of the others."""

    def one(i: int):
        try:
            return i, None, source[i].meta
        except DataError as err:
            return i, str(err), None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, range(len(source))))
    return [(i, e) for i, e, _ in results if e], [(i, m) for i, e, m in results if not e]


def check_image(cfg: DictConfig, cache_dir: Path, report: Report, decode: bool, workers: int) -> None:
    """Build each split, decode every image (unless ``decode`` is off) and report."""
    report.add(f"== data.image: {cfg.source} (root {cfg.get('root', '?')}) ==")
    for split in SPLITS:
        try:
            source = build_image_source(cfg, split, cache_dir)
        except (DataError, ConfigError) as err:
            report.fail(f"{split}: {err}")
            continue
        counts = Counter(source.labels().tolist())
        report.add(f"  {split}: {len(source)} labeled images")
        report.lines += _class_table(source.class_names, {"images": counts})
        shots = int(cfg.get("shots_per_class") or 0)
        short = [n for i, n in enumerate(source.class_names) if counts.get(i, 0) < shots]
        if split == "train" and short:
            report.add(f"  suspicious: fewer than shots_per_class={shots} images in: {', '.join(short)}")
        limit = cfg.get("test_limit")
        if split == "test" and limit and len(source) < int(limit):
            report.add(f"  suspicious: test_limit={limit} but only {len(source)} test images")
        report.lines += _files(f"left out of {split}", getattr(source, "skipped", []))
        report.lines += _files(f"notes on {split}", getattr(source, "notes", []))
        if decode:
            failures, metas = _decode_all(source, workers)
            names = [source.class_names[label] for label in source.labels()]
            odd = [f"    {m['path']}: {m['converted']}" for _, m in metas if m.get("converted")]
            mismatched = [f"    {m['path']}: lists say {names[i]!r}, XML says {m['xml_actions']}"
                          for i, m in metas if m.get("xml_actions") and names[i] not in m["xml_actions"]]
            for title, lines in (("converted images", odd), ("labels disagreeing with the XML", mismatched)):
                if lines:
                    report.lines += [f"  {title} ({len(lines)}):", *lines]
            for _, error in failures:
                report.fail(error)
        if len(source) == 0:
            report.fail(f"{split}: no labeled image")


def _overrides(args: argparse.Namespace) -> list[str]:
    """Hydra overrides from the free arguments and the short flags (``data.video=x`` is accepted
    for the group syntax ``data/video=x``)."""
    out = []
    for item in args.overrides:
        key, _, value = item.partition("=")
        out.append(f"{key.replace('.', '/')}={value}" if key in ("data.video", "data.image") else item)
    for flag, template in (("video", "data/video={}"), ("video_root", "data.video.root={}"),
                           ("image", "data/image={}"), ("image_root", "data.image.root={}")):
        value = getattr(args, flag)
        if value is not None:
            out.append(template.format(Path(value).expanduser() if flag.endswith("root") else value))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motionlab-check-data", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. setting=ucf101_to_voc "
                        "data.video.root=/data/UCF101 data.image.root=/data/VOCdevkit")
    parser.add_argument("--video", help="video dataset config (conf/data/video/<name>.yaml)")
    parser.add_argument("--video-root", help="= data.video.root")
    parser.add_argument("--image", help="image dataset config (conf/data/image/<name>.yaml)")
    parser.add_argument("--image-root", help="= data.image.root")
    parser.add_argument("--only", choices=["video", "image"], help="check one side only")
    parser.add_argument("--all-videos", action="store_true",
                        help="decode every listed video, not only the Nv selected (slow on full datasets)")
    parser.add_argument("--no-decode", action="store_true",
                        help="images: check lists and files, decode nothing")
    parser.add_argument("--cache-dir", help="clip cache (default: the runs' cache under paths.store_dir)")
    parser.add_argument("--workers", type=int, default=4, help="threads decoding images")
    return parser


def _compose(overrides: list[str]) -> DictConfig:
    from motionlab.config.preflight import compose_config, explain

    try:
        return compose_config(overrides)
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(explain(overrides, err)) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg = _compose(_overrides(args))
    except ConfigError as err:
        print(f"motionlab-check-data: config error: {err}", file=sys.stderr)
        return 2
    cache_dir = Path(args.cache_dir) if args.cache_dir else Path(cfg.paths.store_dir) / "cache"
    decode = not args.no_decode
    checks: list[tuple[str, Callable[[DictConfig, Report], None]]] = [
        ("video", lambda node, report: check_video(node, cache_dir, report)),
        ("image", lambda node, report: check_image(node, cache_dir, report, decode, args.workers)),
    ]
    report = Report()
    for side, check in checks:
        if args.only not in (None, side):
            continue
        node = cfg.data[side]
        if node.source == "synthetic":
            report.add(f"== data.{side}: synthetic (generated, nothing to check) ==")
            continue
        if side == "video" and args.all_videos:
            node = OmegaConf.merge(node, {"num_videos": None, "num_test_videos": None})
        check(node, report)
    report.add("OK: the trees can be used" if report.usable else "FAILED: fix the errors above")
    print("\n".join(report.lines))
    return 0 if report.usable else 1


if __name__ == "__main__":
    sys.exit(main())
