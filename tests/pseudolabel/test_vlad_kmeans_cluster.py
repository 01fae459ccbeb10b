import numpy as np
import pytest

from motionlab.pseudolabel.cluster import clip_features, clustering_scores
from motionlab.pseudolabel.kmeans import kmeans, nearest_centroid
from motionlab.pseudolabel.vlad import encode_flow_map, filtered_entries, normalize_vlad, vlad_residuals


def direct_vlad(entries: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """The defining sum, one entry at a time."""
    out = np.zeros_like(codebook, dtype=np.float64)
    for x in entries:
        j = int(np.argmin([np.sum((x - c) ** 2) for c in codebook]))
        out[j] += x - codebook[j]
    return out


def test_vlad_tiny_example_by_hand():
    codebook = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]], np.float32)
    # flow [2, H=1, W=4]: (1.5, 0.5) and (0.5, -0.5) -> word 0, (0, 3) -> word 1, (0.1, 0) is filtered out
    flow = np.array([[[1.5, 0.5, 0.0, 0.1]], [[0.5, -0.5, 3.0, 0.0]]], np.float32)
    entries = filtered_entries(flow, threshold=0.5)
    assert entries.shape == (3, 2)
    residuals = vlad_residuals(entries, codebook)
    np.testing.assert_allclose(residuals, [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(residuals, direct_vlad(entries, codebook), atol=1e-6)
    v = encode_flow_map(flow, codebook, threshold=0.5)
    assert v.shape == (6,) and v.dtype == np.float32
    np.testing.assert_allclose(v, [0, 0, 0, 1, 0, 0], atol=1e-6)


def test_vlad_matches_direct_formula_and_normalisations():
    rng = np.random.default_rng(0)
    codebook = rng.normal(size=(8, 2)).astype(np.float32)
    entries = rng.normal(size=(200, 2)).astype(np.float32)
    r = vlad_residuals(entries, codebook)
    np.testing.assert_allclose(r, direct_vlad(entries, codebook), atol=1e-4)
    p = np.sign(r) * np.sqrt(np.abs(r))
    np.testing.assert_allclose(normalize_vlad(r, "power_l2"), (p / np.linalg.norm(p)).ravel(), rtol=1e-5)
    np.testing.assert_allclose(normalize_vlad(r, "l2"), (r / np.linalg.norm(r)).ravel(), rtol=1e-5)
    intra = r / np.linalg.norm(r, axis=1, keepdims=True)
    np.testing.assert_allclose(normalize_vlad(r, "intra_l2"), (intra / np.linalg.norm(intra)).ravel(), rtol=1e-5)
    np.testing.assert_allclose(normalize_vlad(np.zeros((8, 2))), np.zeros(16))  # nothing moved: zeros
    with pytest.raises(ValueError, match="valid"):
        normalize_vlad(r, "l1")


def test_nearest_centroid_matches_brute_force_across_chunks():
    rng = np.random.default_rng(2)
    x, c = rng.normal(size=(1000, 2)), rng.normal(size=(16, 2))
    brute = np.argmin(((x[:, None] - c[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(nearest_centroid(x, c, chunk=64), brute)


def test_kmeans_is_seeded_and_finds_separated_blobs():
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float32)
    truth = np.repeat(np.arange(4), 50)
    x = centres[truth] + rng.normal(scale=0.5, size=(200, 2)).astype(np.float32)
    a, b = kmeans(x, 4, seed=7, nredo=3), kmeans(x, 4, seed=7, nredo=3)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    assert clustering_scores(truth, a.labels) == {"nmi": pytest.approx(1.0), "ari": pytest.approx(1.0)}
    inertia = ((x - a.centroids[a.labels]) ** 2).sum()
    assert a.inertia == pytest.approx(inertia, rel=1e-4)
    with pytest.raises(ValueError, match="at least k rows"):
        kmeans(x[:3], 4, seed=0)


def test_kmeans_from_given_centroids_follows_lloyd_iterations():
    """With ``init`` the result is plain Lloyd from those centroids (the bench compares it with
    scikit-learn this way): overlapping blobs, so the centroids move over several iterations."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 2)).astype(np.float32) + np.repeat(np.array([[0, 0], [2, 0], [1, 2]]), 100, 0)
    init = x[[0, 1, 2]].copy()
    centroids = init.astype(np.float64)
    for _ in range(6):
        assign = ((x[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
        centroids = np.stack([x[assign == j].mean(0) for j in range(3)])
    result = kmeans(x, 3, seed=0, niter=6, init=init)
    assert not np.allclose(centroids, init, atol=0.1)
    np.testing.assert_allclose(result.centroids, centroids, atol=1e-4)


def _entropy(labels: np.ndarray) -> float:
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_nmi_ari_hand_computed():
    true = np.array([0, 0, 0, 1, 1, 1])
    pred = np.array([0, 0, 1, 1, 2, 2])
    # ARI: contingency [[2,1,0],[0,1,2]]; sum C(n_ij,2)=2, rows 3+3=6, cols 1+1+1=3, C(6,2)=15
    # expected = 6*3/15 = 1.2, max = (6+3)/2 = 4.5 -> (2-1.2)/(4.5-1.2) = 0.2424...
    joint = true * 3 + pred
    mi = _entropy(true) + _entropy(pred) - _entropy(joint)
    nmi = mi / ((_entropy(true) + _entropy(pred)) / 2)
    scores = clustering_scores(true, pred)
    assert scores["ari"] == pytest.approx(0.8 / 3.3)
    assert scores["nmi"] == pytest.approx(nmi)
    unknown = clustering_scores(np.array([0, 0, -1, 1, 1, -1]), np.array([3, 3, 0, 5, 5, 1]))
    assert unknown == {"nmi": pytest.approx(1.0), "ari": pytest.approx(1.0)}  # -1 (no label) left out
    assert clustering_scores(np.full(4, -1), np.arange(4)) == {}


def test_clip_features_concatenate_pairs_in_order():
    v = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    np.testing.assert_array_equal(clip_features(v)[1], np.arange(12, 24))


def test_bow_encoding_counts_words_by_hand():
    codebook = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]], np.float32)
    flow = np.array([[[1.5, 0.5, 0.0, 0.1]], [[0.5, -0.5, 3.0, 0.0]]], np.float32)  # words 0, 0, 1 (+ one filtered)
    np.testing.assert_allclose(encode_flow_map(flow, codebook, 0.5, "bow", "none"), [2, 1, 0])
    # signed sqrt + L2 of (2, 1, 0): (sqrt 2, 1, 0) / sqrt 3
    np.testing.assert_allclose(encode_flow_map(flow, codebook, 0.5, "bow"), [np.sqrt(2 / 3), np.sqrt(1 / 3), 0],
                               rtol=1e-6)
    np.testing.assert_allclose(encode_flow_map(flow, codebook, 0.5), flow_vlad_reference(flow, codebook, 0.5))
    with pytest.raises(ValueError, match="valid"):
        encode_flow_map(flow, codebook, 0.5, "fisher")


def flow_vlad_reference(flow: np.ndarray, codebook: np.ndarray, threshold: float) -> np.ndarray:
    entries = np.array([f for f in flow.reshape(2, -1).T if np.hypot(*f) >= threshold])
    r = direct_vlad(entries, codebook)
    p = np.sign(r) * np.sqrt(np.abs(r))
    return (p / np.linalg.norm(p)).ravel()
