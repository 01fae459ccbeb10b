"""UF-TSN's real-data experiments start both streams from ImageNet weights through torchvision's
weights API (the paper's init); without network and without the file in the torch hub cache the
run fails at its start in one line naming the file and the from-scratch override. No test here
touches the network: the hub cache is an empty tmp dir and sockets refuse."""

from __future__ import annotations

import socket

import pytest
import torch
from helpers import run_cli

from motionlab.config.preflight import CONF_DIR, compose_config
from motionlab.core.errors import DataError
from motionlab.models.imagenet import hub_file
from motionlab.models.tsn import build_resnet

REAL = ["uftsn_hmdb51", "uftsn_ucf101"]
SYNTHETIC = sorted(p.stem for p in (CONF_DIR / "experiment").glob("uftsn_*.yaml") if p.stem not in REAL)
SCRATCH = ["pipeline.stages.spatial.params.weights=null", "pipeline.stages.motion.params.weights=null"]


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty torch hub cache and no network: every socket connection fails at once."""
    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return tmp_path / "torch"


def _streams(cfg) -> dict[str, object]:
    return {name: cfg.pipeline.stages[name].params.weights for name in ("spatial", "motion")}


@pytest.mark.parametrize("experiment", REAL)
@pytest.mark.parametrize("pipeline", [[], ["pipeline=uftsn_precomputed"]])  # and its TV-L1 baseline
def test_real_data_experiments_ask_for_imagenet_weights(experiment, pipeline):
    cfg = compose_config([f"experiment={experiment}", *pipeline])
    assert _streams(cfg) == {"spatial": "IMAGENET1K_V1", "motion": "IMAGENET1K_V1"}
    assert _streams(compose_config([f"experiment={experiment}", *pipeline, *SCRATCH])) == {"spatial": None,
                                                                                          "motion": None}


@pytest.mark.parametrize("experiment", SYNTHETIC)
def test_synthetic_experiments_train_from_scratch(experiment):
    cfg = compose_config([f"experiment={experiment}"])
    for name, stage in cfg.pipeline.stages.items():
        if stage.kind in ("tsn_spatial", "tsn_motion"):
            assert stage.params.weights is None, name


def test_missing_weights_without_network_are_one_line_with_file_and_override(offline):
    key = "pipeline.stages.motion.params.weights"
    with pytest.raises(DataError) as err:
        build_resnet(18, 4, in_channels=20, weights="IMAGENET1K_V1", key=key)
    message = str(err.value)
    assert "\n" not in message
    assert str(offline / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert f"{key}=null" in message and "network blocked by the test" in message
    assert not hub_file("resnet18", "IMAGENET1K_V1").exists()  # no half-written file left behind


def test_weights_in_the_hub_cache_load_without_network(offline):
    """What the weights API fetched once is read from the cache: RGB kernels as they are, the
    20-channel flow conv1 with them averaged (TSN's cross-modality init)."""
    torch.manual_seed(0)
    reference = build_resnet(18, 1000).state_dict()
    file = hub_file("resnet18", "IMAGENET1K_V1")
    file.parent.mkdir(parents=True)
    torch.save(reference, file)
    rgb = build_resnet(18, 4, weights="IMAGENET1K_V1")
    flow = build_resnet(18, 4, in_channels=20, weights="IMAGENET1K_V1")
    assert torch.equal(rgb.layer4[1].conv2.weight, reference["layer4.1.conv2.weight"])
    assert torch.allclose(flow.conv1.weight[:, 13], reference["conv1.weight"].mean(1))
    assert rgb.fc.out_features == 4  # the classifier head stays this task's, random
    with pytest.raises(DataError, match="neither a torchvision weights name of resnet18"):
        build_resnet(18, 4, weights="IMAGENET1K_V9")


def test_cli_without_cached_weights_fails_at_the_start_in_one_line(tmp_path):
    """The real entry point, offline (https through a proxy port that refuses): exit 2, one line
    naming both streams' files and overrides, before the flow stage has run."""
    refused = "http://127.0.0.1:9"
    env = {"TORCH_HOME": str(tmp_path / "torch"), "https_proxy": refused, "HTTPS_PROXY": refused,
           "http_proxy": refused, "HTTP_PROXY": refused, "no_proxy": "", "NO_PROXY": ""}
    (tmp_path / "ucf").mkdir()
    done = run_cli(["experiment=uftsn_ucf101", f"data.video.root={tmp_path / 'ucf'}", "debug=fast",
                    f"paths.output_root={tmp_path / 'out'}", "trainer.progress_bar=false"], env=env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("motionlab: data error:"), lines
    for file in ("resnet152-394f9c45.pth", "resnet18-f37072fd.pth"):
        assert file in lines[0]
    for override in SCRATCH:
        assert override in lines[0]
    assert not list((tmp_path / "out").rglob("flow_pretrain"))  # no stage ran
