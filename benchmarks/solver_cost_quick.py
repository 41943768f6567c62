"""vgg_16 at 224² with tiles (2n = 200): the decoy part and the 2n base gradients, timed
separately (second calls): a short stand-in for ``solver_cost.py`` on a busy machine.

    python benchmarks/solver_cost_quick.py
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import common  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from solver_cost import zero_map  # noqa: E402

import dance_tf  # noqa: E402
from dance_tf import sizing  # noqa: E402
from dance_tf.saliency import gradient  # noqa: E402


def main() -> dict:
    warnings.simplefilter("ignore")
    model = common.vgg16()
    x, vr = common.vgg_input()
    ex0 = dance_tf.Explainer(model, method=zero_map, value_range=vr, layer="pool1",
                             packing="tiles", patches_per_mask=500)
    r = ex0.explain(x, return_details=True)
    t0 = time.perf_counter()
    ex0.explain(x)
    t_dec = time.perf_counter() - t0
    plan = ex0.plan(x.shape)
    logits = ex0.logits_model(x.shape)
    batch = min(sizing.evals_per_batch(ex0.memory_budget_mb, logits, x.shape),
                len(r.decoys))
    grad = tf.function(lambda a, b: gradient(logits, a, b))
    xs = tf.constant(np.repeat(x[None], batch, 0))
    ts = tf.fill([batch], r.target)
    grad(xs, ts).numpy()
    t0 = time.perf_counter()
    for _ in range(-(-len(r.decoys) // batch)):
        grad(xs, ts).numpy()
    t_g = time.perf_counter() - t0
    row = {"model": "vgg_16", "variant": "line_search + crops (decoy part measured; base = "
                                         "2n gradients measured separately)",
           "packing": "tiles (m=500)", "decoys_2n": len(r.decoys),
           "crop": None if plan.crop is None else list(plan.crop.size),
           "t_decoys_s": t_dec, "t_2n_grad_s": t_g,
           "ratio_estimate_1_plus_decoys_over_grads": 1 + t_dec / t_g, "batch": batch}
    with open(Path(__file__).parent / "results" / "solver_cost" / "rows.jsonl", "a") as fh:
        fh.write(json.dumps(row) + "\n")
    return row


if __name__ == "__main__":
    print(json.dumps(main()))
