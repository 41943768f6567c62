"""The pre-registered study's runner (issue 26): a run on a small CNN against the metric
called by hand, no statistics while it runs, resumption, and the stop."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from dance_tf.evaluation.card_metrics import METRICS
from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_run
from tests.conftest import small_cnn

pytestmark = pytest.mark.filterwarnings("ignore::dance_tf.explanation.DecoyWarning")


class _Nets:
    """A stand-in for the ImageNet nets: one small CNN, five 8×8 images."""

    def __init__(self, ids):
        rng = np.random.default_rng(3)
        model = small_cnn(size=8, channels=3, classes=3)
        self.task = SimpleNamespace(
            model=model, explainer_options={"patch_size": 2, "stride": 1},
            value_range=(0.0, 1.0), constant=None)
        self.images = {i: rng.uniform(0, 1, (8, 8, 3)).astype(np.float32) for i in ids}
        self.loaded = 0

    def get(self, net):
        self.loaded += 1
        return self.task

    def inputs(self, ids):
        return np.stack([self.images[i] for i in ids])


@pytest.fixture
def small_plan(monkeypatch, tmp_path):
    block = plan.Block("gradient", "gradient", {}, {"patches_per_mask": 8}, ("matched",))
    monkeypatch.setattr(plan, "BLOCKS", {"gradient": block})
    ids = ["img_c", "img_a", "img_b", "img_e", "img_d"]
    images = tmp_path / "preregistered_images.json"
    images.write_text(json.dumps({"images": [{"id": i, "half": "second"} for i in ids]}))
    yield SimpleNamespace(ids=ids, images=images, root=tmp_path / "root")
    for name in plan.SF_K:
        METRICS.pop(name, None)


def test_run_rows_are_the_metrics_on_the_registered_images(small_plan, monkeypatch):
    """Two turns (3 then 5 images); the plain map's SF at K = 20 % and 40 % equal
    dance_tf.metrics.fidelity of the gradient of the predicted class, by hand; no
    statistic is computed while it runs (§4); a rerun runs nothing and loads no net."""
    from dance_tf.evaluation import card_result
    from dance_tf.metrics import fidelity, stats
    from dance_tf.saliency import get

    def looked(*args, **kwargs):
        raise AssertionError("a statistic was computed during the run")

    for module, name in ((card_result, "compare"), (stats, "paired_test"), (stats, "holm")):
        monkeypatch.setattr(module, name, looked)

    turns = [plan.Turn(1, "efficientnet_lite0", "gradient", 3),
             plan.Turn(1, "efficientnet_lite0", "gradient", 5)]
    nets = _Nets(small_plan.ids)
    ran = prereg_run.run(small_plan.root, images=small_plan.images, turns=turns, nets=nets,
                         log=lambda m: None)
    assert ran == 2
    out = plan.folder(small_plan.root, "efficientnet_lite0", "gradient")
    assert json.loads((out / "images.json").read_text())["ids"] == small_plan.ids
    assert not (out / "report.html").exists() and not (out / "report.md").exists()
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    variants = plan.BLOCKS["gradient"].variants
    assert len(rows) == 5 * len(variants) * len(plan.METRICS)
    x = nets.inputs(small_plan.ids)
    model = nets.task.model
    targets = np.argmax(model(x), axis=1)
    maps = np.asarray(get("gradient")(model, x, targets))
    for k, name in ((0.2, "sf_k20"), (0.4, "sf_k40")):
        want = fidelity(model, x, np.abs(maps).mean(axis=-1), targets, k=k, fill=0.0)
        got = {r["index"]: r["value"] for r in rows
               if r["variant"] == "none" and r["metric"] == name}
        np.testing.assert_allclose([got[i] for i in range(5)], want, rtol=1e-5, atol=1e-6)
    assert {r["target"] for r in rows if r["index"] == 0} == {int(targets[0])}
    assert all(r["n_decoys"] > 0 for r in rows if r["variant"] == "decoys")
    loaded = nets.loaded
    assert prereg_run.run(small_plan.root, images=small_plan.images, turns=turns, nets=nets,
                          log=lambda m: None) == 0
    assert nets.loaded == loaded
    log = [json.loads(line) for line in
           (small_plan.root / "preregistered" / "runs.jsonl").read_text().splitlines()]
    assert [r["turns_run"] for r in log] == [2, 0]
    assert all(r["status"] == "complete" for r in log)


def test_a_changed_registered_order_is_refused(small_plan):
    out = plan.folder(small_plan.root, "efficientnet_lite0", "gradient")
    out.mkdir(parents=True)
    (out / "images.json").write_text(json.dumps({"ids": ["img_a", "img_c"]}))
    with pytest.raises(ValueError, match="registered order"):
        prereg_run.run(small_plan.root, images=small_plan.images, nets=_Nets(small_plan.ids),
                       turns=[plan.Turn(1, "efficientnet_lite0", "gradient", 3)],
                       log=lambda m: None)


def test_stop_is_written_once_with_its_reason(tmp_path):
    from dance_tf.study.cli import main

    root = tmp_path / "root"
    report = tmp_path / "R.md"
    argv = ["--root", str(root), "--report", str(report), "--stop-preregistered"]
    assert main(argv + ["budget ended"]) == 2          # nothing has run
    (root / "preregistered" / "efficientnet_lite0" / "gradient").mkdir(parents=True)
    (root / "preregistered" / "efficientnet_lite0" / "gradient" / "images.json").write_text(
        json.dumps({"ids": ["a", "b"]}))
    assert main(argv + ["  "]) == 2                    # no reason
    assert main(argv + ["budget ended"]) == 0
    stop = json.loads((root / "preregistered" / "stopped.json").read_text())
    assert stop["reason"] == "budget ended"
    assert stop["images_reached"] == {"efficientnet_lite0/gradient": 2}
    assert main(argv + ["again"]) == 2                 # never undone or rewritten
    assert json.loads((root / "preregistered" / "stopped.json").read_text()) == stop
    assert not report.exists()
