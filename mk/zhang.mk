# Zhang et al. (VRE + MRA) reproductions. Each is a Hydra multirun over settings x seeds, then
# motionlab-report into experiments/<name>/ (command, machine, commit and wall time at the top).
# Real data: add e.g. ZHANG_SETTINGS=ucf101_to_voc EXTRA="data.video.root=/d/UCF101 data.image.root=/d/VOCdevkit".
ZHANG_SETTINGS ?= $(SYNTHETIC_SETTINGS)
ZHANG_VOC_SETTINGS ?= synthetic_a_to_voc,synthetic_b_to_voc
ZHANG_SEEDS ?= $(SEEDS)
ZHANG_TABLE2 := unreg,zhang_unreg_matched,zhang_oracle_mr,zhang_unreg_motion,zhang_unreg_smooth1,zhang_unreg_smooth2,zhang_ours_wo_mra,zhang_only_mr,zhang_ours,zhang_ours_bow,zhang_oracle_pl,zhang_shuffled_pl,zhang_mra_random_gru,zhang_mra_feature_only
ZHANG_TABLE2_ROWS := unreg,unreg_matched,oracle_mr,unreg+motion,unreg+smooth1,unreg+smooth2,ours_wo_mra,only_mr,ours,ours_bow_labels,oracle_pl,shuffled_pl,mra_random_gru,mra_feature_only,sup_ft
# MRA against its controls: the same head trained as long on [random-init GRU(f(x)); f(x)] and on f(x) alone
ZHANG_TABLE2_BASELINES := unreg_matched,mra_random_gru,mra_feature_only
# labeled images per class for Figure 4: up to the pool's 60 less the 20 held out for validation
ZHANG_SHOTS ?= 3,10,30,40
# Table S1 encoder: the VGG16 layout at CPU scale; on real data ZHANG_S1_MODEL=vgg16
ZHANG_S1_MODEL ?= vgg16_small
# ->VOC at 3 seeds is within seed noise (experiments/zhang-table1/): ten seeds to tell a small effect from none
ZHANG_MANY_SEEDS ?= 0,1,2,3,4,5,6,7,8,9
EXTRA ?=
# one single-threaded job per core (the small nets scale badly over 2 threads: 4.6x slower wall under
# load, measured on unreg a_to_s40). Inside a launcher worker the pseudo-label flow runs in that process
# (a nested process pool hung there). ZHANG_PARALLEL= runs the jobs one after another.
ZHANG_PARALLEL ?= hydra/launcher=parallel trainer.threads=1

.PHONY: reproduce-zhang-table1 reproduce-zhang-table2 reproduce-zhang-fig4 reproduce-zhang-tableS1 reproduce-zhang-voc-seeds reproduce-zhang-instrument reproduce-zhang-long-vre
# Can the benchmark see motion knowledge at all? The oracle MR against the step-matched control
# (image-only stages: a fraction of `make reproduce`, whose first jobs these are), plus the plateau curves.
reproduce-zhang-instrument: install  ## oracle MR vs UNREG-matched, four settings x 5 seeds, + training curves -> experiments/zhang-instrument/
	$(call multirun_report,zhang_unreg_matched$(COMMA)zhang_oracle_mr,zhang-instrument,setting=$(ZHANG_SETTINGS) seed=$(ZHANG_SEEDS) $(ZHANG_PARALLEL) $(EXTRA),Oracle MR vs the step-matched control,--methods unreg_matched$(COMMA)oracle_mr --paired unreg_matched)
	$(BIN)/motionlab-report curves $$(ls -d outputs/multirun/zhang-instrument-* | tail -1) --out experiments/zhang-instrument/curves.png

reproduce-zhang-table1: install  ## Zhang Table 1: Ours between its controls, four settings x 5 seeds -> experiments/zhang-table1/
	$(call multirun_report,$(MAIN_EXPERIMENTS),zhang-table1,setting=$(ZHANG_SETTINGS) seed=$(ZHANG_SEEDS) $(ZHANG_PARALLEL) $(EXTRA),Zhang et al. Table 1: UNREG vs Ours,--methods $(MAIN_METHODS) --paired $(MAIN_BASELINES) $(MAIN_GAP))

reproduce-zhang-table2: install  ## Zhang Table 2: every ablation and control, the two ->VOC settings x 5 seeds (SUP-FT: SUPFT_WEIGHTS=path)
	@start=$$(date +%s); dir=outputs/multirun/zhang-table2-$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/motionlab -m experiment=$(ZHANG_TABLE2) setting=$(ZHANG_VOC_SETTINGS) seed=$(ZHANG_SEEDS) $(ZHANG_PARALLEL) $(EXTRA) \
	  hydra.sweep.dir=$$dir/ablations trainer.progress_bar=false \
	&& if [ -n "$(SUPFT_WEIGHTS)" ]; then $(BIN)/motionlab -m experiment=zhang_sup_ft setting=$(ZHANG_VOC_SETTINGS) \
	  seed=$(ZHANG_SEEDS) model.weights=$(SUPFT_WEIGHTS) $(ZHANG_PARALLEL) $(EXTRA) hydra.sweep.dir=$$dir/sup_ft trainer.progress_bar=false; \
	  else echo "SUP-FT skipped: it needs ImageNet weights, give SUPFT_WEIGHTS=/path/to/alexnet.pth"; fi \
	&& $(BIN)/motionlab-report $$dir --out experiments/zhang-table2 --title "Zhang et al. Table 2: ablations" \
	  --command "make $@" --wall-time $$(( $$(date +%s) - start )) --methods $(ZHANG_TABLE2_ROWS) --paired $(ZHANG_TABLE2_BASELINES) $(MAIN_GAP) \
	  $(if $(wildcard experiments/zhang-table2/notes.md),--notes experiments/zhang-table2/notes.md)

reproduce-zhang-fig4: install  ## Zhang Figure 4: accuracy vs labeled images per class (plot) -> experiments/zhang-fig4/
	$(call multirun_report,$(MAIN_EXPERIMENTS),zhang-fig4,setting=synthetic_a_to_voc seed=$(ZHANG_SEEDS) data.image.shots_per_class=$(ZHANG_SHOTS) $(ZHANG_PARALLEL) $(EXTRA),Zhang et al. Figure 4: accuracy vs labeled images per class,--column data.image.shots_per_class --plot --methods $(MAIN_METHODS) --paired $(MAIN_BASELINES) $(MAIN_GAP))

reproduce-zhang-tableS1: install  ## Zhang Table S1: VGG16 encoder, the two ->VOC settings -> experiments/zhang-tableS1/
	$(call multirun_report,zhang_unreg_vgg16$(COMMA)zhang_unreg_matched_vgg16$(COMMA)zhang_vgg16,zhang-tableS1,setting=$(ZHANG_VOC_SETTINGS) seed=$(ZHANG_SEEDS) model=$(ZHANG_S1_MODEL) $(ZHANG_PARALLEL) $(EXTRA),Zhang et al. Table S1: VGG16 encoder ($(ZHANG_S1_MODEL)),--methods unreg_vgg16$(COMMA)unreg_matched_vgg16$(COMMA)ours_vgg16 --paired unreg_vgg16$(COMMA)unreg_matched_vgg16)

reproduce-zhang-voc-seeds: install  ## Table 1 methods on the two ->VOC settings x 10 seeds -> experiments/zhang-voc-seeds/
	$(call multirun_report,$(MAIN_EXPERIMENTS),zhang-voc-seeds,setting=$(ZHANG_VOC_SETTINGS) seed=$(ZHANG_MANY_SEEDS) $(ZHANG_PARALLEL) $(EXTRA),Zhang et al. Table 1 methods on ->VOC: 10 seeds,--methods $(MAIN_METHODS) --paired $(MAIN_BASELINES) $(MAIN_GAP))

# VRE (step 2) is still rising at its 300 steps (experiments/main/curves.png): the same chain with 600,
# against a control matched to the longer chain (its other jobs are make reproduce's, found in the store)
ZHANG_LONG_VRE := zhang_unreg_matched$(COMMA)zhang_ours$(COMMA)zhang_unreg_matched_long_vre$(COMMA)zhang_ours_long_vre
reproduce-zhang-long-vre: install  ## Ours with VRE at 300 vs 600 steps, each against its step-matched control, ->VOC x 5 seeds -> experiments/zhang-long-vre/
	$(call multirun_report,$(ZHANG_LONG_VRE),zhang-long-vre,setting=$(ZHANG_VOC_SETTINGS) seed=$(ZHANG_SEEDS) $(ZHANG_PARALLEL) $(EXTRA),Zhang et al.: VRE at 300 vs 600 steps,--methods unreg_matched$(COMMA)ours$(COMMA)unreg_matched_long_vre$(COMMA)ours_long_vre --paired unreg_matched$(COMMA)unreg_matched_long_vre)
	$(BIN)/motionlab-report curves $$(ls -d outputs/multirun/zhang-long-vre-* | tail -1) --methods ours_long_vre --out experiments/zhang-long-vre/curves.png
