"""Naive baseline: what compilation and batching buy.

Three ways to compute the same DANCE-gradient map of one digit (32×32, 2n = 18):

* ``eager per decoy``: a Python loop over the 2n decoys; each decoy is optimised alone by
  running ``dance_tf.decoys.solve.optimise`` eagerly (its ``tf.while_loop`` becomes a Python
  loop of eager steps), then its gradient is taken eagerly; max − min in numpy;
* ``compiled per decoy``: the same loop over decoys, each decoy optimised by a compiled
  function on a batch of one (batching removed, compilation kept);
* ``dance_tf``: ``Explainer.explain`` (one compiled graph, decoys batched).

Same seeds per decoy (the optimiser draws decoy i's start from its own seed), so all three
give the same map up to float round-off; the table reports the maximum difference.
"""

from __future__ import annotations

import common
import numpy as np
import tensorflow as tf


def _per_decoy(ex, x, details, optimise_fn, grad_fn):
    from dance_tf.decoys.solve import optimise  # noqa: F401 - documented path

    plan = ex.plan(x.shape)
    n = len(plan.masks)
    lo, hi = (tf.constant(np.broadcast_to(np.asarray(v, np.float32), x.shape))
              for v in ex.value_range)
    xt = tf.constant(x)
    eps = tf.constant(details.epsilon, tf.float32)
    maps = []
    for i in range(2 * n):
        mk = tf.constant(plan.masks[i % n][None])
        sg = tf.constant([1.0 if i < n else -1.0])
        seeds = tf.constant([[ex.seed, i]], tf.int32)
        decoy = optimise_fn(plan.f_l, xt, mk, sg, lo, hi, eps, seeds)
        maps.append(grad_fn(decoy, tf.constant([details.target]))[0].numpy())
    maps = np.stack(maps)
    return maps.max(axis=0) - maps.min(axis=0)


def run(quick: bool = False, vgg: bool = True) -> dict:
    from dance_tf.decoys.solve import optimise
    from dance_tf.saliency._core import logit_gradients

    model, xs, vr = common.digits_model(1)
    x = xs[0]
    ex = common.explainer(model, vr, layer="pool1", patch_size=3, patches_per_mask=100)
    details = ex.explain(x, return_details=True)
    logits = ex.logits_model(x.shape)
    settings = ex.settings

    def eager_opt(f_l, *args):
        return optimise(f_l, *args, settings)["decoys"]

    def eager_grad(d, t):
        return logit_gradients(logits, d, t)

    f_l = ex.plan(x.shape).f_l
    spec = [tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec((None,) + x.shape, tf.float32),
            tf.TensorSpec([None], tf.float32), tf.TensorSpec(x.shape, tf.float32),
            tf.TensorSpec(x.shape, tf.float32), tf.TensorSpec([], tf.float32),
            tf.TensorSpec([None, 2], tf.int32)]
    compiled_opt_inner = tf.function(lambda *a: optimise(f_l, *a, settings)["decoys"],
                                     input_signature=spec)
    compiled_grad = tf.function(eager_grad)

    def compiled_opt(f_l, *args):
        return compiled_opt_inner(*args)

    variants = {
        "eager per decoy": lambda: _per_decoy(ex, x, details, eager_opt, eager_grad),
        "compiled per decoy": lambda: _per_decoy(ex, x, details, compiled_opt, compiled_grad),
        "dance_tf (batched, one graph)": lambda: ex.explain(x),
    }
    ref = ex.explain(x)
    rows = []
    for name, fn in variants.items():
        out = fn()
        t = common.timeit(fn, repeat=1 if name.startswith("eager") else 3, warmup=0)
        rows.append({"variant": name, "decoys_2n": int(details.steps.size),
                     "k_max": int(details.steps.max()), "t_s": t,
                     "max_abs_diff_vs_dance_tf": float(np.abs(out - ref).max()),
                     "map_max": float(np.abs(ref).max())})
    t_ours = rows[-1]["t_s"]
    for r in rows:
        r["slowdown_vs_dance_tf"] = r["t_s"] / t_ours
    summary = [{"ratio": "naive eager per-decoy loop ÷ dance_tf", "value":
                rows[0]["slowdown_vs_dance_tf"], "target": "≫ 1 (what compiling and "
                "batching buy)", "pass": None},
               {"ratio": "compiled per-decoy loop ÷ dance_tf", "value":
                rows[1]["slowdown_vs_dance_tf"], "target": "> 1 (what batching buys)",
                "pass": None}]
    return {"name": "Naive baseline", "rows": rows, "summary": summary}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1, default=float))
