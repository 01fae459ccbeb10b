"""Encoders f(.) of Zhang et al.: every arch gives its feature_dim on 64 px images; the CPU-scale
variants refuse pretrained weights with a message that names the full-size model."""

import pytest
import torch
from omegaconf import OmegaConf

from motionlab.models.encoders import build_encoder


@pytest.mark.parametrize(("arch", "dim"), [("alexnet_small", 256), ("vgg16_small", 256), ("alexnet", 4096),
                                           ("vgg16", 4096)])
def test_feature_dim_on_small_images(arch, dim):
    encoder = build_encoder(OmegaConf.create({"arch": arch, "feature_dim": dim, "dropout": 0.5, "weights": None}))
    with torch.no_grad():
        assert encoder.eval()(torch.rand(2, 3, 64, 64)).shape == (2, dim)


def test_small_variants_have_no_pretrained_weights():
    cfg = OmegaConf.create({"arch": "vgg16_small", "feature_dim": 256, "dropout": 0.5, "weights": "w.pth"})
    with pytest.raises(ValueError, match="model=vgg16 for SUP-FT"):
        build_encoder(cfg)
