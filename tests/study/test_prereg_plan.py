"""The pre-registered study's plan (issue 26): against the registration's own text, and
the schedule's order."""

import hashlib
import re
from pathlib import Path

from dance_tf.study import prereg_plan as plan
from dance_tf.study.verdicts import in_first_half

REPO = Path(__file__).resolve().parents[2]
PREREG = REPO / "reproduction" / "PREREGISTRATION.md"


def test_registered_n_is_the_table_of_the_registration():
    """§4's table, read from the Markdown: a transcription error in N would fail here."""
    text = PREREG.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (C\d) [^|]+\| (\d+) \([^|]+\| (\d+) \([^|]+\| (\d+) \(", text,
                      re.M)
    assert len(rows) == 5
    for claim, *ns in rows:
        assert [plan.N[net][claim] for net in plan.NETS] == [int(n) for n in ns]
    assert plan.FLOOR == {"efficientnet_lite0": 80, "efficientnet_lite1": 40,
                          "efficientnet_lite2": 40}


def test_claims_use_the_registered_metric_and_controls():
    """§2 (metric per claim) and §6 (controls per block: 6 / 4 / 4 / 5 / 5 comparisons)."""
    assert {c: (plan.CLAIMS[c].block, plan.CLAIMS[c].metric) for c in plan.CLAIMS} == {
        "C1": ("smoothgrad", "sf_k20"), "C2": ("integrated_gradients", "sf_k40"),
        "C3": ("expected_gradients", "sf_k20"), "C4": ("gradient", "sf_k20"),
        "C5": ("gradient", "fidelity_continuous")}
    controls = {c: len(plan.BLOCKS[plan.CLAIMS[c].block].variants) - 2 for c in plan.CLAIMS}
    assert controls == {"C1": 6, "C2": 4, "C3": 4, "C4": 5, "C5": 5}
    assert 3 * sum(controls.values()) == 72
    assert plan.BLOCKS["smoothgrad"].packing["patches_per_mask"] == 2000
    assert plan.BLOCKS["gradient"].packing["patches_per_mask"] == 500


def test_schedule_runs_every_image_once_in_the_registered_order():
    turns = plan.schedule()
    reached: dict = {}
    step1_end = max(i for i, t in enumerate(turns) if t.step == 1)
    for i, t in enumerate(turns):
        key = (t.net, t.block)
        before = reached.get(key, 0)
        assert before < t.upto <= before + plan.TURN, t
        reached[key] = t.upto
        if t.step == 1:
            assert t.upto <= plan.FLOOR[t.net]
        else:
            assert i > step1_end and before >= plan.FLOOR[t.net]
    assert reached == {(n, b): plan.block_n(n, b) for n in plan.NETS for b in plan.BLOCKS}
    # a turn's images run on every block of every net before the next turn's (step 1)
    ends = [-(-t.upto // plan.TURN) for t in turns[:step1_end + 1]]
    assert ends == sorted(ends)
    # C4-only gradient images on Lite1 / Lite2 come after every other turn
    late = [i for i, t in enumerate(turns) if t.block == "gradient" and t.net != plan.NETS[0]
            and t.upto > plan.C4_ONLY_FROM]
    others = [i for i, t in enumerate(turns) if i not in late]
    assert late and min(late) > max(others)


def test_registered_images_are_the_second_half_in_file_order():
    ids = plan.registered_images(REPO / "reproduction" / "preregistered_images.json")
    assert len(ids) == 103 == len(set(ids))
    assert not any(in_first_half(i) for i in ids)
    keys = [hashlib.sha256(f"issue26:{i}".encode()).hexdigest() for i in ids]
    assert keys == sorted(keys)
