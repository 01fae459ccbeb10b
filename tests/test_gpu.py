"""The GPU paths. Tests marked ``gpu`` skip, with the reason, where no CUDA GPU is visible
(tests/conftest.py); ``make gpu-smoke`` runs the same paths at smoke size and stores the results."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import run_cli

from motionlab.bench import gpu_smoke


def test_gpu_smoke_without_a_gpu_says_so_in_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_smoke.main(["--out", str(tmp_path / "gpu")]) == gpu_smoke.NO_GPU_EXIT
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no CUDA GPU" in err
    assert not (tmp_path / "gpu").exists()


@pytest.mark.gpu
@pytest.mark.parametrize("experiment", sorted(gpu_smoke.PAPER_STAGES.values()))
def test_a_16_mixed_gpu_run_of_each_paper_finishes(tmp_path, experiment):
    proc = run_cli([f"experiment={experiment}", "debug=fast", "trainer=gpu", f"paths.output_root={tmp_path}"])
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.gpu
def test_faiss_gpu_kmeans_matches_faiss_cpu():
    pytest.importorskip("faiss")
    import faiss

    if faiss.get_num_gpus() == 0:
        pytest.skip("faiss has no GPU support here (make install FAISS=gpu)")
    result = gpu_smoke.kmeans_gpu_vs_cpu(20000, 8, 16)
    assert result["inertia_rel_diff"] < 0.01


@pytest.mark.gpu
def test_pwclite_on_cuda_matches_the_cpu():
    from motionlab.models.pwc_lite import build_pwclite

    torch.manual_seed(0)
    net = build_pwclite().eval()
    img1, img2 = torch.rand(2, 1, 3, 64, 96).unbind(0)
    with torch.inference_mode():
        cpu = net(img1, img2)[0]
        gpu = net.cuda()(img1.cuda(), img2.cuda())[0].cpu()
    np.testing.assert_allclose(gpu.numpy(), cpu.numpy(), atol=1e-3)
