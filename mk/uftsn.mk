# UF-TSN (../shared/papers/002_58104909d332fb15.txt): Tables 1-3 on the motion-only synthetic videos.
# One sweep (experiments x seeds) feeds all three tables; the shared artifact store means a second
# target reuses the jobs the first one finished (spatial stream, flow pretraining, TV-L1 flow cache).
UFTSN_SEEDS ?= 0,1,2
# one single-threaded job per core, as ZHANG_PARALLEL (jobs sharing the spatial stream or a flow cache
# wait on the artifact store's lock); UFTSN_PARALLEL= runs them one after another
UFTSN_PARALLEL ?= hydra/launcher=parallel trainer.threads=1
UFTSN_TABLE1 := uftsn_ours,uftsn_mixed  # the mixed setting: appearance and motion each carry part of the class
UFTSN_TABLE2 := uftsn_ours,uftsn_no_e2e,uftsn_fast,uftsn_tvl1,uftsn_dis,uftsn_no_cv_ms,uftsn_no_ms,uftsn_no_cv_ms_fixed_loss,uftsn_no_ms_fixed_loss,uftsn_gt
UFTSN_TABLE3 := uftsn_ours,uftsn_fast,uftsn_no_ms,uftsn_no_cv_ms,uftsn_cgmu_upsampler,uftsn_convex_upsampler
UFTSN_REPORT := $(BIN)/motionlab-report uftsn
UFTSN_T1_COLS := --column "RGB stream top-1 (%)=spatial/top1" --column "motion stream top-1 (%)=motion/top1" \
  --column "fusion top-1 (%)=fusion/top1" --column "flow EPE (px)=motion/flow_epe"
UFTSN_T2_COLS := --column "motion top-1 (%)=motion/top1" --column "fusion top-1 (%)=fusion/top1" \
  --column "moving EPE after pretraining (px)=flow/epe_moving" \
  --column "flow EPE (px)=motion/flow_epe"
UFTSN_T3_COLS := --column "flow params=flow/params" --column "EPE ours (px)=flow/epe" \
  --column "EPE TV-L1 (px)=flow/epe_tvl1" --column "EPE DIS (px)=flow/epe_dis" \
  --column "EPE zero flow (px)=flow/epe_zero" --column "moving EPE ours (px)=flow/epe_moving" \
  --column "moving EPE TV-L1 (px)=flow/epe_moving_tvl1" --column "moving EPE DIS (px)=flow/epe_moving_dis" \
  --column "moving EPE zero (px)=flow/epe_moving_zero" \
  --column "moving EPE, its low-res flow upsampled bilinearly (px)=flow/epe_moving_lowres_bilinear" \
  --column "moving EPE, ideal low-res flow upsampled bilinearly, the oracle bound (px)=flow/epe_moving_ideal_bilinear" \
  --column "moving EPE, ideal low-res flow, its upsampler (px)=flow/epe_moving_ideal" \
  --column "EPE after fine-tuning (px)=motion/flow_epe"
UFTSN_METHODS_T2 := UF-TSN,without end-to-end fine-tuning,UF-TSN fast,TV-L1,DIS,without cost volume + multi-scale,without multi-scale,without cost volume + multi-scale (loss fixed),without multi-scale (loss fixed),ground-truth flow

# $(1): experiments, $(2): shell variable receiving the sweep dir
define uftsn_sweep
	start=$$(date +%s); $(2)=outputs/multirun/uftsn-$$(date +%Y%m%d-%H%M%S); \
	$(BIN)/motionlab -m experiment=$(1) seed=$(UFTSN_SEEDS) $(UFTSN_PARALLEL) hydra.sweep.dir=$$$(2) trainer.progress_bar=false
endef

# Each table's report from a finished sweep: $(1) sweep dir, $(2) wall time (s). The recorded command is
# always the reproduce target's, which made the runs (report-uftsn-tableN only rewrites the report).
define uftsn_report_table1
	$(UFTSN_REPORT) $(1) --out experiments/uftsn/table1 --command "make reproduce-uftsn-table1" --wall-time $(2) \
	  --title "UF-TSN Table 1 analogue: RGB and motion streams and their fusion, motion-only and mixed synthetic videos" $(UFTSN_T1_COLS) \
	  --contrast "fusion top-1 (%)" "motion stream top-1 (%)" --contrast "fusion top-1 (%)" "RGB stream top-1 (%)" \
	  --notes experiments/uftsn/notes_table1.md
endef
define uftsn_report_table2
	$(UFTSN_REPORT) $(1) --out experiments/uftsn/table2 --command "make reproduce-uftsn-table2" --wall-time $(2) \
	  --title "UF-TSN Table 2 analogue: flow sources and ablations" $(UFTSN_T2_COLS) \
	  --methods "$(UFTSN_METHODS_T2)" --paired UF-TSN --notes experiments/uftsn/notes_table2.md
endef
define uftsn_report_table3
	$(UFTSN_REPORT) $(1) --out experiments/uftsn/table3 --command "make reproduce-uftsn-table3" --wall-time $(2) \
	  --title "UF-TSN Table 3 analogue (flow quality): EPE on synthetic ground truth, ours vs TV-L1 vs DIS" \
	  $(UFTSN_T3_COLS) --methods "UF-TSN,UF-TSN fast,without multi-scale,without cost volume + multi-scale,PWC-lite + CGMU upsampler,PWC-lite + convex upsampler" \
	  --paired UF-TSN --notes experiments/uftsn/notes_table3.md
endef

.PHONY: reproduce-uftsn reproduce-uftsn-table1 reproduce-uftsn-table2 reproduce-uftsn-table3 bench-uftsn
reproduce-uftsn: reproduce-uftsn-table1 reproduce-uftsn-table2 reproduce-uftsn-table3  ## UF-TSN Tables 1-3 (synthetic, 3 seeds) -> experiments/uftsn/

reproduce-uftsn-table1: install  ## UF-TSN Table 1: RGB, motion, fusion top-1 -> experiments/uftsn/table1/
	@$(call uftsn_sweep,$(UFTSN_TABLE1),dir) && \
	$(call uftsn_report_table1,$$dir,$$(( $$(date +%s) - start )))

reproduce-uftsn-table2: install  ## UF-TSN Table 2: flow sources and ablations -> experiments/uftsn/table2/
	@$(call uftsn_sweep,$(UFTSN_TABLE2),dir) && \
	$(call uftsn_report_table2,$$dir,$$(( $$(date +%s) - start )))

reproduce-uftsn-table3: install  ## UF-TSN Table 3: params, frames/s vs TV-L1 (bench) + EPE -> experiments/uftsn/table3/
	@$(call uftsn_sweep,$(UFTSN_TABLE3),dir) && \
	$(call uftsn_report_table3,$$dir,$$(( $$(date +%s) - start )))
	$(PY) -m motionlab.bench.uftsn --out experiments/uftsn/table3/speed

# Rewrite a table's report from a finished sweep, e.g. after editing its notes:
#   make report-uftsn-table2 SWEEP=outputs/multirun/uftsn-... WALL=<the sweep's wall time, s>
define uftsn_rereport
	@test -n "$(SWEEP)" -a -n "$(WALL)" || { echo "usage: make $@ SWEEP=<sweep dir of reproduce-uftsn-table$(1)> WALL=<its wall time, s>"; exit 2; }
	$(call uftsn_report_table$(1),$(SWEEP),$(WALL))
endef
.PHONY: report-uftsn-table1 report-uftsn-table2 report-uftsn-table3
report-uftsn-table1: install  ## UF-TSN Table 1's report from a finished sweep (SWEEP=dir WALL=s)
	$(call uftsn_rereport,1)
report-uftsn-table2: install  ## UF-TSN Table 2's report from a finished sweep (SWEEP=dir WALL=s)
	$(call uftsn_rereport,2)
report-uftsn-table3: install  ## UF-TSN Table 3's report from a finished sweep (SWEEP=dir WALL=s)
	$(call uftsn_rereport,3)

bench-uftsn: install  ## UF-TSN speed only: PWC-lite vs TV-L1 at 256x340 -> experiments/benchmarks/uftsn/
	$(PY) -m motionlab.bench.uftsn --out experiments/benchmarks/uftsn

.PHONY: bench-uftsn-memory
bench-uftsn-memory: install  ## UF-TSN whole-video data path: peak memory at 100/300/1000 real-format clips -> experiments/benchmarks/uftsn_memory/
	$(PY) -m motionlab.bench.uftsn_memory --out experiments/benchmarks/uftsn_memory
