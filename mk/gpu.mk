# GPU paths (issue 16): trainer=gpu 16-mixed on one stage of each paper, faiss-gpu vs faiss-cpu
# K-means, trainer=ddp on all visible GPUs, PWC-lite pairs/s. Without a GPU: one line, exit code 2.
.PHONY: gpu-smoke
gpu-smoke: install  ## GPU smoke test (16-mixed, ddp, faiss-gpu, PWC-lite pairs/s) -> experiments/benchmarks/gpu/
	$(PY) -m motionlab.bench.gpu_smoke --out experiments/benchmarks/gpu

# Time to a paper table at paper scale: per-sample costs measured here x the configs' step counts.
.PHONY: estimate-paper-scale
estimate-paper-scale: install  ## hours per table (Zhang T1 UCF101->VOC, UF-TSN T2 UCF101 s1) -> experiments/benchmarks/paper_scale/ + README
	$(PY) -m motionlab.bench.paper_scale --out experiments/benchmarks/paper_scale --readme README.md
