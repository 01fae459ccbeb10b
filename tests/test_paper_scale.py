"""The paper-scale estimate plans every row of both tables from the real configs and counts a stage
shared between rows once (the measurements themselves run in ``make estimate-paper-scale``)."""

from __future__ import annotations

from collections import defaultdict

from motionlab.bench import paper_scale as ps


def test_both_tables_are_planned_with_shared_stages_counted_once():
    costs = defaultdict(lambda: 1.0)
    uftsn = {r: [*ps.UFTSN_COMMON, *o] for r, o in ps.UFTSN_ROWS.items()}
    works, per_row = ps.table_work(uftsn, seeds=1)
    kinds = [w.stage for w in works]
    assert kinds.count("tsn_spatial") == 1  # one spatial stream serves all five rows
    assert kinds.count("tsn_motion") == len(ps.UFTSN_ROWS)
    assert kinds.count("flow_pretrain") == 3  # ours and the two ablated nets; TV-L1/DIS have none
    assert all(w.hours(costs) > 0 for w in works if w.stage != "tsn_fusion")
    zhang = {r: [*ps.ZHANG_COMMON, f"experiment={e}"] for r, e in ps.ZHANG_ROWS.items()}
    works, _ = ps.table_work(zhang, seeds=2)
    assert [w.stage for w in works].count("pseudolabels") == 2  # seeded by the run seed: one per seed, shared by rows
