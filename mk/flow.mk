# Learned flow on real footage (issue 14): PWC-lite pretrained on a folder of videos, measured on
# real photos with exact ground truth, and timed against OpenCV's backends and published fast nets.
FLOW_VIDEOS ?= /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data
FLOW_TRAIN := $(BIN)/motionlab trainer.progress_bar=false
# Training steps (the experiments' own values by default; lower them on a loaded machine, e.g.
# `make flow-gt-bench FLOW_REAL_STEPS=50`: the benchmarks then read those checkpoints)
FLOW_REAL_STEPS ?= 2400
FLOW_FAST_STEPS ?= 7200
FLOW_SYNTH_STEPS ?= 2000
# a separate venv for ptlflow (its pins are not the project's)
BENCH_ENV ?= /work/benchenv
STEPS = pipeline.stages.flow.params.max_steps
FLOW_NETS := --net "PWC-lite synthetic-trained=flow_synthetic:$(FLOW_SYNTH_STEPS)" \
  --net "PWC-lite real-trained=flow_real:$(FLOW_REAL_STEPS)" --net "PWC-lite fast real-trained=flow_real_fast:$(FLOW_FAST_STEPS)"

.PHONY: flow-real flow-real-fast flow-synthetic flow-checkpoints flow-gt-bench bench-flow
flow-real: install  ## PWC-lite pretrained unsupervised on real footage (default: opencv-doc videos) -> artifact store
	-@$(MAKE) --no-print-directory opencv-doc
	$(FLOW_TRAIN) experiment=flow_real data.video.root=$(FLOW_VIDEOS) $(STEPS)=$(FLOW_REAL_STEPS)

flow-real-fast: install  ## the fast PWC-lite variant, pretrained as flow-real -> artifact store
	-@$(MAKE) --no-print-directory opencv-doc
	$(FLOW_TRAIN) experiment=flow_real_fast data.video.root=$(FLOW_VIDEOS) $(STEPS)=$(FLOW_FAST_STEPS)

flow-synthetic: install  ## PWC-lite pretrained on the synthetic motion videos (UF-TSN's CPU flow stage) -> artifact store
	$(FLOW_TRAIN) experiment=flow_synthetic $(STEPS)=$(FLOW_SYNTH_STEPS)

flow-checkpoints: flow-real flow-real-fast flow-synthetic  ## all three (a finished one is found in the store, not retrained)

flow-gt-bench: flow-checkpoints  ## EPE of every flow backend on opencv-doc photos with exact ground truth -> experiments/flow_real_gt/
	$(PY) -m motionlab.bench.flow_gt --out experiments/flow_real_gt $(FLOW_NETS) \
	  --command "make $@ FLOW_REAL_STEPS=$(FLOW_REAL_STEPS) FLOW_FAST_STEPS=$(FLOW_FAST_STEPS) FLOW_SYNTH_STEPS=$(FLOW_SYNTH_STEPS)"

bench-flow: install  ## pairs/s of every OpenCV backend, PWC-lite variant (eager and ONNX Runtime) and ptlflow net, same frames and threads -> experiments/benchmarks/flow/
	-@$(MAKE) --no-print-directory opencv-doc
	test -x $(BENCH_ENV)/bin/python || (python3 -m venv $(BENCH_ENV) && $(BENCH_ENV)/bin/pip install -q ptlflow) || true
	OMP_WAIT_POLICY=PASSIVE MOTIONLAB_BENCH_PYTHON=$(BENCH_ENV)/bin/python $(PY) -m motionlab.bench.flow --out experiments/benchmarks/flow --command "make $@"
