# Pseudo motion labels (Zhang et al. ../shared/papers/000_a9c517bcca1fd7d4.txt, Supplementary 1):
# every flow backend through the pseudolabels stage on the synthetic videos -> NMI/ARI/EPE/time.
PSEUDOLABELS_DATA ?= synthetic_a
PSEUDOLABELS_SEEDS ?= 0,1,2

.PHONY: reproduce-pseudolabels bench-pseudolabels
reproduce-pseudolabels: install  ## pseudo labels per flow backend: NMI, ARI, EPE, time -> experiments/pseudolabels/
	$(PY) -m motionlab.pseudolabel.report --out experiments/pseudolabels --data $(PSEUDOLABELS_DATA) \
	  --seeds $(PSEUDOLABELS_SEEDS) --command "make $@"

bench-pseudolabels: install  ## flow backends pairs/s at 256x340, cache size float16/float32 -> experiments/benchmarks/
	$(PY) -m motionlab.bench.flow_backends --out experiments/benchmarks
