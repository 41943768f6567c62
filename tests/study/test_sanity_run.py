"""dance_tf.study.sanity_run: the S6 cascade rows, on a tiny CNN (the model is never touched)."""

from types import SimpleNamespace

import numpy as np

from dance_tf.study import sanity_run
from tests.conftest import small_cnn


def test_cascade_rows_leave_the_model_alone_and_a_rerun_computes_nothing(tmp_path):
    model = small_cnn()
    before = [w.copy() for w in model.get_weights()]
    rng = np.random.default_rng(1)
    task = SimpleNamespace(name="tiny", model=model, ids=["a", "b"], value_range=(0.0, 1.0),
                           inputs=list(rng.random((2, 12, 12, 1), dtype=np.float32)),
                           explainer_options={"patches_per_mask": 50})
    folder = sanity_run.run(task, tmp_path / "s6", log=lambda _: None)
    for w, w0 in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, w0)
    rows = sanity_run.load(folder)
    # small_cnn's weighted layers, top down: logits, conv2, conv1 (3 stages per variant)
    for variant in ("none", "decoys"):
        steps = sorted((r["stage"], r["layer"], r["id"]) for r in rows
                       if r["variant"] == variant and r["stage"] > 0)
        assert steps == [(s, lay, i) for s, lay in enumerate(["logits", "conv2", "conv1"], 1)
                         for i in ("a", "b")]
    floor = [r for r in rows if r["stage"] == 0]
    assert [r["variant"] for r in floor] == ["decoys", "decoys"]
    ssim = np.array([r["ssim"] for r in rows])
    assert np.all(np.isfinite(ssim)) and np.all(np.abs(ssim) <= 1 + 1e-6)
    # randomising a layer changes the gradient map: no stage reproduces it exactly
    assert max(r["ssim"] for r in rows if r["variant"] == "none") < 0.999
    packed = (folder / "results.jsonl.gz").read_bytes()
    said = []
    sanity_run.run(task, folder, log=said.append)
    assert (folder / "results.jsonl.gz").read_bytes() == packed
    assert said and "nothing to compute" in said[0]
