"""Miniature dataset trees in the official formats, written once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from data_formats.dataset_writers import (
    write_hmdb51,
    write_mmaction,
    write_stanford40,
    write_ucf101,
    write_voc2012,
)


@pytest.fixture(scope="module")
def ucf_tree(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("ucf")
    return root, write_ucf101(root)


@pytest.fixture(scope="module")
def hmdb_tree(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("hmdb")
    return root, write_hmdb51(root)


@pytest.fixture(scope="module")
def mmaction_tree(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("mmaction")
    return root, write_mmaction(root)


@pytest.fixture(scope="module")
def voc_tree(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("voc")
    return root, write_voc2012(root)


@pytest.fixture(scope="module")
def s40_tree(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("s40")
    return root, write_stanford40(root)
