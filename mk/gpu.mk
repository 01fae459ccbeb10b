# GPU paths (issue 16): trainer=gpu 16-mixed on one stage of each paper, faiss-gpu vs faiss-cpu
# K-means, trainer=ddp on all visible GPUs, PWC-lite pairs/s. Without a GPU: one line, exit code 2.
.PHONY: gpu-smoke
gpu-smoke: install  ## GPU smoke test (16-mixed, ddp, faiss-gpu, PWC-lite pairs/s) -> experiments/benchmarks/gpu/
	$(PY) -m motionlab.bench.gpu_smoke --out experiments/benchmarks/gpu
