"""Stage ``pseudolabels``: pseudo motion labels of unlabeled clips (Zhang et al., Supplementary 1).

Flow between consecutive key frames (any registered backend; TV-L1 by default, standing in for
Ce Liu's Coarse2Fine) -> a global OTSU threshold on the flow magnitudes -> a 128-word K-means
codebook of the (dx, dy) entries above it -> VLAD of every flow map (256-d) -> per clip the key
frames' VLADs concatenated -> K-means with K=16 over clips -> one label per clip.

Flow goes through the store's flow cache (float16, keyed by backend config and ``data.video``),
so a killed run resumes at the first clip without flow, and other stages and seeds share it.
``shard="I/N"`` only fills the cache with shard I's clips and leaves a marker; the run without a
shard then needs every marker of some N (it names the missing shards otherwise).

``source`` picks where the labels come from: ``flow`` (the pipeline above; the paper),
``oracle`` (the videos' true motion programs, ``VideoSample.meta["motion"]``: the most that perfect
pseudo labels can give; no flow is computed) or ``shuffled`` (the flow labels permuted over the
clips with the run seed: same cluster sizes, no link to the clip's motion; the null control).
The run seed seeds the codebook sample, K-means and the permutation, so label noise enters the
spread over seeds; source and seed are part of the stage key.

Artifacts: ``labels.npy`` (int64 per source clip, -1 = skipped), ``codebook.npy`` [128, 2],
``vlad.npy`` [used clips, pairs, 256] (128 with ``encoding=bow``), ``clip_indices.npy`` (source
index of each vlad row), ``manifest.json`` (clips used and skipped with reasons, backend and
params, timings, NMI/ARI and EPE where the source has true labels / flow).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from motionlab.core.errors import ConfigError, DataError
from motionlab.core.io import atomic_save_npy, atomic_write_text
from motionlab.data.sources import build_video_source
from motionlab.flow.cache import FlowCache, cache_key, size_ratio
from motionlab.pipeline import Stage, StageContext, plain, register_stage
from motionlab.pseudolabel.cluster import clip_features, cluster_clips, clustering_scores, require_clips
from motionlab.pseudolabel.codebook import build_codebook, encode_clips
from motionlab.pseudolabel.controls import oracle_labels, shuffle_labels
from motionlab.pseudolabel.kmeans import use_gpu
from motionlab.pseudolabel.otsu import MagnitudeHistogram
from motionlab.pseudolabel.passes import (
    ClipPool,
    ClipRecord,
    PassConfig,
    collect_flow_records,
    describe_backend,
    flow_task,
    mean_epe,
    split_records,
)
from motionlab.pseudolabel.shards import missing_shards, parse_shard, shard_indices, write_marker
from motionlab.pseudolabel.vlad import ENCODINGS, NORMALIZATIONS
from motionlab.training import cache_dir


@dataclass
class PseudoLabelsParams:
    source: str = "flow"  # flow (paper) | oracle (true motions) | shuffled (flow labels permuted: the null)
    backend: str = "tvl1"  # any registered flow backend (motionlab-flow --list), or ground_truth
    backend_params: dict[str, Any] = field(default_factory=dict)
    split: str = "train"
    otsu_bin_width: float = 0.01  # px; histogram bins of the global OTSU threshold
    otsu_max_magnitude: float = 512.0  # px; larger magnitudes share the last bin
    codebook_size: int = 128  # paper: 128 words
    codebook_sample: int = 262144  # entries above the threshold sampled for the codebook K-means
    codebook_iters: int = 25
    encoding: str = "vlad"  # vlad (paper) | bow (word counts); see motionlab/pseudolabel/vlad.py
    vlad_normalization: str = "power_l2"  # see motionlab/pseudolabel/vlad.py
    clusters: int = 16  # paper: K = 16
    cluster_iters: int = 50
    cluster_restarts: int = 10
    workers: int = 2  # flow processes; 0 = in this process
    shard: str = ""  # "I/N": only compute shard I of N into the flow cache, then stop


SOURCES = ("flow", "oracle", "shuffled")


def _check(p: Any) -> None:
    if p.source not in SOURCES:
        raise ConfigError(f"pseudolabels.source: {p.source!r}; valid: {list(SOURCES)}")
    if p.encoding not in ENCODINGS:
        raise ConfigError(f"pseudolabels.encoding: {p.encoding!r}; valid: {list(ENCODINGS)}")
    if p.vlad_normalization not in NORMALIZATIONS:
        raise ConfigError(f"pseudolabels.vlad_normalization: {p.vlad_normalization!r}; valid: {list(NORMALIZATIONS)}")
    if p.workers < 0 or p.codebook_size < 1 or p.clusters < 2 or p.codebook_sample < p.codebook_size:
        raise ConfigError("pseudolabels: need workers >= 0, codebook_size >= 1, clusters >= 2 and "
                          f"codebook_sample >= codebook_size; got {p.workers}, {p.codebook_size}, {p.clusters}, "
                          f"{p.codebook_sample}")


@register_stage
class PseudoLabelsStage(Stage):
    kind = "pseudolabels"
    Params = PseudoLabelsParams
    uses = ("data.video",)
    unkeyed = ("workers",)

    def run(self, ctx: StageContext) -> dict[str, Any]:
        p = ctx.params
        _check(p)
        if p.source == "oracle":
            return self._oracle(ctx)
        seed = int(ctx.cfg.seed)
        shard = parse_shard(p.shard)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        backend_params = plain(p.backend_params) or {}
        backend = describe_backend(p.backend, backend_params)
        cache = FlowCache(cache_dir(ctx.cfg) / "flow", cache_key(backend["estimator_hash"], plain(ctx.cfg.data.video)))
        strict = False  # shards computed the flow: a clip without it is an error, not work for this run
        if shard is None:
            strict, absent = missing_shards(cache.dir)
            if absent:
                raise DataError(f"{cache.dir / 'shards'}: flow shard(s) {absent} missing; run this stage with "
                                "shard=I/N for each of them, or delete that folder to compute their flow here")
        source = build_video_source(ctx.cfg.data.video, p.split, cache_dir(ctx.cfg))
        timings["source_s"] = time.perf_counter() - start
        config = PassConfig(p.backend, backend_params, str(cache.dir.parent), cache.key, p.otsu_bin_width,
                            p.otsu_max_magnitude, compute_missing=not strict)
        progress = bool(OmegaConf.select(ctx.cfg, "trainer.progress_bar", default=True))
        info = {**backend, "flow_cache": str(cache.dir), "split": p.split,
                "source_skipped": getattr(source, "skip_records", list)()}
        where = OmegaConf.select(ctx.cfg, "data.video.root", default=None) or ctx.cfg.data.video.source
        setting = f"pipeline.stages.{ctx.name}.params.clusters"
        if shard is None:  # fail before the flow pass
            require_clips(len(source), p.clusters, info["source_skipped"], [], where, setting)

        with ClipPool(p.workers, source, config, progress) as pool:
            tick = time.perf_counter()
            histogram = MagnitudeHistogram(p.otsu_bin_width, p.otsu_max_magnitude)
            records = collect_flow_records(pool.map(flow_task, shard_indices(len(source), shard),
                                                    f"flow ({p.backend})"), histogram)
            timings.update(flow_pass_s=time.perf_counter() - tick, read_s_sum=sum(r.read_s for r in records),
                           flow_s_sum=sum(r.flow_s for r in records if not r.cached))
            used, skipped = self._check_flow(records, cache, info, ctx)
            if shard is not None:
                return self._finish_shard(ctx, cache, shard, used, skipped, info, timings, start)
            require_clips(len(used), p.clusters, info["source_skipped"], skipped, where, setting)
            ids = [r.video_id for r in used]
            codebook = build_codebook(pool, ids, histogram, size=p.codebook_size, sample_size=p.codebook_sample,
                                      iters=p.codebook_iters, seed=seed, backend=p.backend, timings=timings)
            tick = time.perf_counter()
            vlads = encode_clips(pool, ids, codebook, p.encoding, p.vlad_normalization)
            timings["vlad_s"] = time.perf_counter() - tick

        tick = time.perf_counter()
        clusters = cluster_clips(clip_features(vlads), p.clusters, seed, p.cluster_iters, p.cluster_restarts)
        timings["cluster_s"] = time.perf_counter() - tick
        labels = np.full(len(source), -1, np.int64)
        indices = np.array([r.index for r in used], np.int64)
        labels[indices] = clusters.labels
        if p.source == "shuffled":
            labels = shuffle_labels(labels, seed)
        scores = clustering_scores(np.array([r.label for r in used], np.int64), labels[indices])
        for name, array in (("labels", labels), ("codebook", codebook.centroids), ("vlad", vlads),
                            ("clip_indices", indices)):
            atomic_save_npy(ctx.work_dir / f"{name}.npy", array)
        timings["total_s"] = time.perf_counter() - start
        sizes = np.bincount(clusters.labels, minlength=p.clusters)
        metrics = {
            **scores, "source": p.source, "epe": mean_epe(used), "otsu_threshold": codebook.threshold,
            "clips_used": len(used),
            "clips_skipped": len(skipped) + len(info["source_skipped"]), "flow_computed": info["flow_computed"],
            "flow_cached": info["flow_cached"], "cluster_sizes_max": int(sizes.max()),
            "flow_pass_s": timings["flow_pass_s"], "total_s": timings["total_s"],
        }
        manifest = {
            **info, "params": plain(p), "metrics": metrics, "timings": timings, "faiss_gpu": use_gpu(),
            "codebook": codebook.summary, "clusters": {"k": p.clusters, "inertia": clusters.inertia,
                                                       "sizes": sizes.tolist()},
            "used": [{"index": r.index, "video_id": r.video_id, "label": r.label, "pseudo_label": int(lab),
                      "cached": r.cached, "epe": r.epe} for r, lab in zip(used, labels[indices], strict=True)],
            "skipped": skipped,
        }
        atomic_write_text(ctx.work_dir / "manifest.json", json.dumps(manifest, indent=1, default=float))
        return metrics

    @staticmethod
    def _oracle(ctx: StageContext) -> dict[str, Any]:
        """``source=oracle``: the true motions as labels, without flow."""
        source = build_video_source(ctx.cfg.data.video, ctx.params.split, cache_dir(ctx.cfg))
        labels, names, true = oracle_labels(source)
        atomic_save_npy(ctx.work_dir / "labels.npy", labels)
        metrics = {**clustering_scores(true, labels), "source": "oracle", "clips_used": len(labels),
                   "clips_skipped": 0, "motions": len(names)}
        manifest = {"params": plain(ctx.params), "metrics": metrics, "motions": names,
                    "sizes": np.bincount(labels, minlength=len(names)).tolist()}
        atomic_write_text(ctx.work_dir / "manifest.json", json.dumps(manifest, indent=1, default=float))
        return metrics

    @staticmethod
    def _check_flow(records: list[ClipRecord], cache: FlowCache, info: dict[str, Any], ctx: StageContext
                    ) -> tuple[list[ClipRecord], list[dict[str, Any]]]:
        """After the flow pass: fail on clips whose shard left no flow, split used from skipped,
        and describe the cache in its ``cache.json``."""
        missing = [r.video_id for r in records if r.missing]
        if missing:
            raise DataError(f"{cache.dir}: every shard marker is there but {len(missing)} clip(s) have no "
                            f"cached flow, e.g. {missing[:10]}; rerun their shards or delete "
                            f"{cache.dir / 'shards'} to compute them here")
        used, skipped = split_records(records)
        info.update(flow_computed=sum(not r.cached for r in used), flow_cached=sum(r.cached for r in used))
        if used:
            shape = (used[0].pairs, 2, *used[0].shape)
            cache.write_info({k: info[k] for k in ("backend", "backend_params", "estimator_hash")}
                             | {"frames": plain(ctx.cfg.data.video), "size_ratio_vs_float32": size_ratio(shape)})
        return used, skipped

    @staticmethod
    def _finish_shard(ctx: StageContext, cache: FlowCache, shard: tuple[int, int], used: list[ClipRecord],
                      skipped: list[dict[str, Any]], info: dict[str, Any], timings: dict[str, float],
                      start: float) -> dict[str, Any]:
        """A shard run ends after its flow: marker in the shared cache, manifest here."""
        timings["total_s"] = time.perf_counter() - start
        summary = {**info, "clips": [r.video_id for r in used], "skipped": skipped, "timings": timings}
        marker = write_marker(cache.dir, shard, summary)
        atomic_write_text(Path(ctx.work_dir) / "manifest.json",
                          json.dumps({**summary, "marker": str(marker)}, indent=1, default=float))
        return {"shard": f"{shard[0]}/{shard[1]}", "clips_used": len(used), "clips_skipped": len(skipped),
                "flow_computed": info["flow_computed"], "flow_cached": info["flow_cached"],
                "epe": mean_epe(used), "total_s": timings["total_s"]}
