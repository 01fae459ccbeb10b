# CGMU (Shen et al., ECCV 2020): context-guided motion upsampling vs bilinear vs convex (docs/cgmu.md).
CGMU_PROBE   := cgmu_bilinear,cgmu_convex,cgmu_cgmu,cgmu_gt_flow
CGMU_CEILING := cgmu_convex_supervised,cgmu_cgmu_supervised
CGMU_E2E     := cgmu_e2e_bilinear,cgmu_e2e_convex,cgmu_e2e_cgmu,cgmu_gt_flow
CGMU_REPORT  := $(BIN)/motionlab-report cgmu
# A multirun of experiments $(1) x seeds, then the CGMU table + figure into experiments/$(2)/.
define cgmu_multirun
	@start=$$(date +%s); dir=outputs/multirun/$(2)-$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/motionlab -m experiment=$(1) seed=$(SEEDS) hydra.sweep.dir=$$dir trainer.progress_bar=false \
	  && $(CGMU_REPORT) $$dir --out experiments/$(2) --command "make $@" --wall-time $$(( $$(date +%s) - start ))
endef

.PHONY: reproduce-cgmu reproduce-cgmu-ceiling reproduce-cgmu-e2e
reproduce-cgmu: install  ## CGMU vs bilinear vs convex on the same low-res motion + action accuracy, 3 seeds -> experiments/cgmu/
	$(call cgmu_multirun,$(CGMU_PROBE),cgmu)

reproduce-cgmu-ceiling: install  ## the same probe trained on ground truth: what each upsampler can do -> experiments/cgmu_ceiling/
	$(call cgmu_multirun,$(CGMU_CEILING),cgmu_ceiling)

reproduce-cgmu-e2e: install  ## the CGMU motion network end to end at CPU scale (slow), 3 upsamplers x 3 seeds -> experiments/cgmu_e2e/
	$(call cgmu_multirun,$(CGMU_E2E),cgmu_e2e)
