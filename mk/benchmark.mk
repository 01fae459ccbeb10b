# The synthetic benchmark (motionlab/data/synthetic.py, docs/benchmark.md): how much motion one
# still frame shows, in-domain and across the domain shift.
.PHONY: reproduce-cues
reproduce-cues: install  ## cue table: HOG probe trained on video first frames -> held-out videos, target images -> experiments/benchmark-cues/
	$(PY) -m motionlab.eval.cue_table --out experiments/benchmark-cues --command "make $@"
