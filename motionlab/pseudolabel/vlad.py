"""VLAD (Jegou et al. 2012) of one filtered flow map on the flow codebook: per codeword, the sum of
the residuals (entry - codeword) of the entries assigned to it; 128 words x (dx, dy) = 256-d.

Normalisation (``power_l2``, the default): signed square root of every component, then L2 over
the whole vector, as in Jegou et al. 2012, the VLAD paper the method cites. Why this one:
- L2 over the whole vector: clips are compared by the Euclidean distance of their concatenated
  frame VLADs, so each key frame must weigh the same whatever the number of moving pixels
  (actor size, camera shake) — unnormalised, the frames with the most motion decide the cluster.
- the square root damps "bursts": one large region moving uniformly (a background pan) piles its
  residuals onto a few words and would otherwise swamp the actor's motion in the other words.
- not intra-normalisation (L2 per codeword, Arandjelovic & Zisserman 2013): with 2-d descriptors
  it turns each word's residual into a unit direction, erasing how much of the map fell into that
  word, which is the motion statistic we want; it is kept as an option for comparison.
A map with no entry above the threshold gives the zero vector.

``encoding="bow"`` (not the paper's; an option) keeps only the count of entries per word, with
the same normalisation (signed sqrt + L2 = the Hellinger embedding). Why offer it: with 2-d
entries and 128 words the Voronoi cells are tiny and the codewords sit on the data's modes, so a
VLAD residual sum is close to zero and clips that use different words — two translations at
1.8 and 2.4 px/frame — come out orthogonal, as far apart as opposite motions; word counts keep
the "which motion" signal. Measured in experiments/pseudolabels/README.md.
"""

from __future__ import annotations

import numpy as np

from motionlab.pseudolabel.kmeans import nearest_centroid
from motionlab.pseudolabel.otsu import flow_magnitude

NORMALIZATIONS = ("power_l2", "l2", "intra_l2", "none")
ENCODINGS = ("vlad", "bow")
_EPS = 1e-12


def filtered_entries(flow: np.ndarray, threshold: float) -> np.ndarray:
    """The (dx, dy) entries [n, 2] of flow [2, H, W] whose magnitude is at least ``threshold``."""
    keep = flow_magnitude(flow) >= threshold
    return np.stack([flow[0][keep], flow[1][keep]], axis=1).astype(np.float32)


def vlad_residuals(entries: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Unnormalised VLAD [k, d]: sum over entries assigned to word j of (entry - codebook[j])."""
    codebook = np.asarray(codebook, np.float32)
    k, d = codebook.shape
    out = np.zeros((k, d), np.float64)
    if len(entries) == 0:
        return out
    words = nearest_centroid(entries, codebook)
    for dim in range(d):
        out[:, dim] = np.bincount(words, weights=entries[:, dim] - codebook[words, dim], minlength=k)
    return out


def normalize_vlad(residuals: np.ndarray, method: str = "power_l2") -> np.ndarray:
    """[k, d] residual sums -> flat normalised float32 [k*d]; ``method`` in NORMALIZATIONS."""
    if method not in NORMALIZATIONS:
        raise ValueError(f"unknown VLAD normalisation {method!r}; valid: {list(NORMALIZATIONS)}")
    v = np.asarray(residuals, np.float64)
    if method == "power_l2":
        v = np.sign(v) * np.sqrt(np.abs(v))
    if method == "intra_l2":
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), _EPS)
    if method != "none":
        v = v / max(float(np.linalg.norm(v)), _EPS)
    return v.reshape(-1).astype(np.float32)


def word_counts(entries: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Entries per codeword [k, 1] (the bag-of-words encoding before normalisation)."""
    words = nearest_centroid(entries, codebook)
    return np.bincount(words, minlength=len(codebook)).astype(np.float64)[:, None]


def encode_flow_map(flow: np.ndarray, codebook: np.ndarray, threshold: float, encoding: str = "vlad",
                    normalization: str = "power_l2") -> np.ndarray:
    """Encoding of one flow map [2, H, W] after discarding entries below the OTSU threshold: VLAD
    [k*2] (the paper) or word counts [k] (``bow``), normalised by ``normalization``."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown flow-map encoding {encoding!r}; valid: {list(ENCODINGS)}")
    entries = filtered_entries(flow, threshold)
    raw = vlad_residuals(entries, codebook) if encoding == "vlad" else word_counts(entries, codebook)
    return normalize_vlad(raw, normalization)
