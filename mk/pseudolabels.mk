# Pseudo motion labels (Zhang et al. ../shared/papers/000_a9c517bcca1fd7d4.txt, Supplementary 1):
# every flow backend x encoding through the pseudolabels stage on the synthetic videos -> NMI/ARI over
# seeds, EPE, time, per-motion OTSU survival (motionlab/eval/pseudolabel_table.py).
PSEUDOLABELS_DATA ?= synthetic_a
PSEUDOLABELS_SEEDS ?= 0,1,2
# OpenCV's sample frames (apt package opencv-doc), timed too when present
OPENCV_SAMPLES ?= /usr/share/doc/opencv-doc/examples/data
RUBBERWHALE := $(wildcard $(OPENCV_SAMPLES)/rubberwhale1.png $(OPENCV_SAMPLES)/rubberwhale2.png)

.PHONY: reproduce-pseudolabels bench-pseudolabels
reproduce-pseudolabels: install  ## pseudo labels per flow backend x encoding: NMI, ARI, EPE, time, OTSU survival -> experiments/pseudolabels/
	$(PY) -m motionlab.eval.pseudolabel_table --out experiments/pseudolabels --data $(PSEUDOLABELS_DATA) \
	  --seeds $(PSEUDOLABELS_SEEDS) --command "make $@"

bench-pseudolabels: install  ## flow backends: pairs/s at 256x340, TV-L1 on large motion, cache size -> experiments/benchmarks/flow_backends/
	$(PY) -m motionlab.bench.flow_backends --out experiments/benchmarks/flow_backends \
	  $(if $(word 2,$(RUBBERWHALE)),--frames $(RUBBERWHALE))
