"""Shared DataModule pieces: seeded few-shot sampling of the labeled images."""

from __future__ import annotations

import numpy as np
import pytest

from motionlab.data.datamodules import few_shot_indices


def test_few_shot_draws_that_many_per_class_by_seed():
    labels = np.array([0] * 5 + [1] * 2 + [2] * 9)
    picked = few_shot_indices(labels, 3, seed=4)
    assert np.bincount(labels[picked]).tolist() == [3, 2, 3]  # class 1 has only 2: all of them
    assert np.array_equal(picked, few_shot_indices(labels, 3, seed=4))
    assert not np.array_equal(picked, few_shot_indices(labels, 3, seed=5))


@pytest.mark.parametrize("shots", [0, -3])
def test_a_non_positive_shot_count_is_an_error_naming_the_key(shots):
    with pytest.raises(ValueError, match="data.image.shots_per_class must be >= 1"):
        few_shot_indices(np.array([0, 1]), shots, seed=0)


def test_a_resumed_epoch_skips_the_samples_already_trained_once():
    from motionlab.data.datamodules import EpochSeededSampler

    sampler = EpochSeededSampler(10, seed=3)
    sampler.set_epoch(1)
    full = list(sampler)
    sampler.resume_at = (1, 4)
    assert list(sampler) == full[4:]
    assert list(sampler) == full  # the next pass of the epoch is whole again
    sampler.resume_at = (0, 4)  # another epoch's position is ignored
    assert list(sampler) == full
