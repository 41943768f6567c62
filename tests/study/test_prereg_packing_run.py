"""Running the packing choice and its confirmation (issue 26; dance_tf.study.prereg_packing_run):
a run on a small CNN against the metric called by hand, and §8's order of steps."""

import json

import numpy as np
import pytest

from dance_tf.evaluation.card_metrics import METRICS
from dance_tf.study import prereg_packing as pk
from dance_tf.study import prereg_packing_run as prr
from dance_tf.study import prereg_plan as plan

pytestmark = pytest.mark.filterwarnings("ignore::dance_tf.explanation.DecoyWarning")


# --- a run on a small CNN -------------------------------------------------------------

def test_run_on_a_small_cnn(tmp_path, monkeypatch):
    """Step 2 on three first-half images with three small packings, then step 3 from the
    choice: the plain map's SF top 20 % equals dance_tf.metrics.fidelity of the gradient
    by hand; each packing gives its own decoy count (paper > tiles8 > tiles16, the same in
    both steps); the confirmation's folders are the choice's; no confirmation statistic
    is computed during the run; a rerun runs nothing and loads no net."""
    from dance_tf.metrics import fidelity
    from dance_tf.metrics import stats as dstats
    from dance_tf.saliency import get
    from tests.study.test_prereg_run import _Nets

    def looked(*args, **kwargs):
        raise AssertionError("a confirmation statistic was computed during the run")

    monkeypatch.setattr(pk, "confirm", looked)
    monkeypatch.setattr(dstats, "holm", looked)
    monkeypatch.setattr(pk, "PACKINGS", {
        "paper": {"packing": "paper", "patches_per_mask": 4},
        "tiles8": {"packing": "tiles", "patches_per_mask": 8},
        "tiles16": {"packing": "tiles", "patches_per_mask": 16}})
    monkeypatch.setattr(pk, "DECOYS", {"paper": 3, "tiles8": 2, "tiles16": 1})
    monkeypatch.setattr(pk, "CHOICE_IMAGES", 3)
    monkeypatch.setattr(pk, "CAP", {"gradient": 2, "smoothgrad": 2})
    first, second = ["f_b", "f_a", "f_c", "f_d"], ["s_b", "s_a"]
    images = tmp_path / "preregistered_images.json"
    images.write_text(json.dumps({"images": [{"id": i, "half": "first"} for i in first]
                                  + [{"id": i, "half": "second"} for i in second]}))
    nets, root = _Nets(first + second), tmp_path / "root"
    try:  # register_metrics adds the study's SF cut-offs: removed at the end
        ran = prr.run_packing(root, images=images, nets=nets, log=lambda m: None)
        choice = pk.choose(pk.load(root, pk.CHOICE))
        confirmed = {m: c for m, c in choice.items() if c["chosen"] != "paper"}
        assert confirmed   # on these images the small CNN's choice is not the paper's
        assert ran == 6 + 2 * len(confirmed)
        model = nets.task.model
        x = nets.inputs(first[:3])
        targets = np.argmax(model(x), axis=1)
        maps = np.asarray(get("gradient")(model, x, targets))
        want = fidelity(model, x, np.abs(maps).mean(axis=-1), targets, k=0.2, fill=0.0)
        decoys = {}
        for part in (pk.CHOICE, pk.CONFIRM):
            for f in sorted((root / "preregistered" / part).glob("*-*")):
                rows = [json.loads(line) for line in (f / "rows.jsonl").read_text().splitlines()]
                method, packing = pk.split(f.name)
                decoys.setdefault(packing, set()).update(
                    r["n_decoys"] for r in rows if r["variant"] == "decoys")
                assert {r["metric"] for r in rows} == {"sf_k20"}
                assert not (f / "report.md").exists() and not (f / "report.html").exists()
                if part == pk.CHOICE:
                    assert json.loads((f / "images.json").read_text())["ids"] == first[:3]
                    assert len(rows) == 3 * 2
                if part == pk.CHOICE and method == "gradient":
                    got = {r["index"]: r["value"] for r in rows if r["variant"] == "none"}
                    np.testing.assert_allclose([got[i] for i in range(3)], want,
                                               rtol=1e-5, atol=1e-6)
        assert all(len(v) == 1 for v in decoys.values())
        assert decoys["paper"].pop() > decoys["tiles8"].pop() > decoys["tiles16"].pop()
        got = {f.name for f in (root / "preregistered" / pk.CONFIRM).glob("*")}
        assert got == {pk.name(m, p) for m, c in confirmed.items()
                       for p in (c["chosen"], "paper")}
        for m, c in confirmed.items():
            f = pk.folder(root, pk.CONFIRM, m, c["chosen"])
            assert json.loads((f / "images.json").read_text())["ids"] == \
                second[:c["n_confirm"]]
        loaded = nets.loaded
        assert prr.run_packing(root, images=images, nets=nets, log=lambda m: None) == 0
        assert nets.loaded == loaded
        log = [json.loads(line) for line in
               (root / "preregistered" / pk.RUNS).read_text().splitlines()]
        assert [r["turns_run"] for r in log] == [ran, 0]
        assert log[0]["choice"]["gradient"]["chosen"] == choice["gradient"]["chosen"]
    finally:
        for name in plan.SF_K:
            METRICS.pop(name, None)


def test_reproduce_runs_section_8s_steps_in_order(monkeypatch, tmp_path):
    """condition_run: step 1 of the claims, then the packing (steps 2 and 3), then step 4."""
    from dance_tf.study import condition_run, conditions, prereg_run

    calls = []
    monkeypatch.setattr(prereg_run, "Nets", lambda log: "nets")
    monkeypatch.setattr(prereg_run, "run", lambda root, seed, log, nets, turns: calls.append(
        ("claims", {t.step for t in turns}, len(turns), nets)))
    monkeypatch.setattr(prr, "run_packing", lambda root, seed, log, nets: calls.append(
        ("packing", nets)))
    cond = next(c for c in conditions.conditions() if c.group == "prereg")
    condition_run.run(cond, tmp_path, log=lambda m: None)
    steps = [t.step for t in plan.schedule()]
    assert calls == [("claims", {1}, steps.count(1), "nets"), ("packing", "nets"),
                     ("claims", {4}, steps.count(4), "nets")]
