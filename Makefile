# motionlab — every target that runs code installs first, so each is one command on a fresh clone.
SHELL := /bin/bash
PY    := .venv/bin/python
BIN   := .venv/bin
FAISS ?= cpu  # the faiss build: cpu, or gpu on a CUDA machine (pyproject.toml extras)
STAMP := .venv/.installed-$(shell sha1sum pyproject.toml 2>/dev/null | cut -c1-12)-$(strip $(FAISS))

SYNTHETIC_SETTINGS := synthetic_a_to_voc,synthetic_a_to_s40,synthetic_b_to_voc,synthetic_b_to_s40
SEEDS := 0,1,2,3,4
COMMA := ,
# Zhang et al. between two controls: UNREG trained as long as Ours trains each part (the control), the
# oracle MR (true motion given to the head), shuffled pseudo labels (the null); UNREG and Ours (w/o MRA) come free
MAIN_EXPERIMENTS := unreg$(COMMA)zhang_unreg_matched$(COMMA)zhang_oracle_mr$(COMMA)zhang_shuffled_pl$(COMMA)zhang_ours_wo_mra$(COMMA)zhang_ours
MAIN_METHODS := unreg,unreg_matched,oracle_mr,shuffled_pl,ours_wo_mra,ours
# paired-difference tables: against the step-matched control, and MRA on top of VRE
MAIN_BASELINES := unreg_matched,ours_wo_mra
# fraction of the oracle gap closed: (method - control) / (oracle - control)
MAIN_GAP := --oracle oracle_mr --control unreg_matched
# A multirun of $(1) (experiments), then its table into experiments/$(2)/ ($(3): extra overrides,
# $(4): title, $(5): extra report flags). experiments/$(2)/notes.md, the analysis, goes under the table.
define multirun_report
	@start=$$(date +%s); dir=outputs/multirun/$(2)-$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/motionlab -m experiment=$(1) $(3) hydra.sweep.dir=$$dir trainer.progress_bar=false \
	  && $(BIN)/motionlab-report $$dir --out experiments/$(2) --title "$(4)" --command "make $@" \
	     --wall-time $$(( $$(date +%s) - start )) $(5) \
	     $(if $(wildcard experiments/$(2)/notes.md),--notes experiments/$(2)/notes.md)
endef

.PHONY: help install test test-all reproduce bench lint synthetic-figure readme
help:  ## this list
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-28s %s\n", $$1, $$2}'

install: $(STAMP)  ## create .venv and install motionlab (near-instant when done; FAISS=gpu on a CUDA machine)
$(STAMP): pyproject.toml
	test -d .venv || python3 -m venv .venv
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip uninstall -q -y faiss-$(if $(filter gpu,$(strip $(FAISS))),cpu,gpu) 2>/dev/null || true  # not both
	$(BIN)/pip install -q -e '.[$(strip $(FAISS)),dev,launchers]'
	rm -f .venv/.installed-* && touch $@

test: install  ## the fast test suite (CPU, minutes)
	-@$(MAKE) --no-print-directory opencv-doc  # real sample footage; its tests skip (and say so) without it
	$(BIN)/pytest -m "not slow" -q

test-all: install  ## every test, the slow ones too
	$(BIN)/pytest -q

reproduce: install  ## main job: Ours between its controls on the four synthetic settings x 5 seeds -> experiments/main/
	$(call multirun_report,$(MAIN_EXPERIMENTS),main,setting=$(SYNTHETIC_SETTINGS) seed=$(SEEDS) $(ZHANG_PARALLEL),Main table: four synthetic video->image settings,--methods $(MAIN_METHODS) --paired $(MAIN_BASELINES) $(MAIN_GAP))
	$(BIN)/motionlab-report curves $$(ls -d outputs/multirun/main-* | tail -1) --methods ours --out experiments/main/curves.png

bench: install  ## speed/memory benchmarks -> experiments/benchmarks/
	$(PY) -m motionlab.bench

lint: install  ## ruff
	$(BIN)/ruff check motionlab tests

readme: install  ## the README's "What reproduces here" table from the results files (experiments/claims.yaml)
	$(BIN)/motionlab-report readme

synthetic-figure: install  ## figure of the synthetic benchmark -> docs/synthetic.png
	$(BIN)/motionlab-synth-figure --out docs/synthetic.png

-include mk/*.mk
