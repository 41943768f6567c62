"""What one DANCE-gradient explanation costs against its own 2n base gradients (issue 11).

Target: a 224² explanation with tiles (2n = 200) costs ≤ 2× the 2n input gradients it
needs anyway. Measured on vgg_16 (random weights, ℓ = pool1) and, when its weights are
installed, the trained EfficientNet-Lite0 (ℓ = block2a_project_bn), with the default
line-search solver, with and without crops, and with the paper's Adam schedule.

The split: ``t_decoys`` is the same explainer with a base method that returns zeros (masks,
line search, certificates, aggregation); ``t_base = t_total − t_decoys``; ``t_2n_grad``
is ``dance_tf.saliency.gradient`` on the 2n inputs in batches of the explainer's own base
batch, compiled. Times are medians of ``--rounds`` interleaved calls after one warm-up.

    python benchmarks/solver_cost.py [--model vgg_16|efficientnet_lite0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import common  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from dance_tf import sizing  # noqa: E402


def zero_map(model, inputs, targets):
    """A graph-safe base method that costs nothing: isolates the decoy part."""
    return tf.zeros_like(inputs)


def load(name: str):
    if name == "vgg_16":
        x, vr = common.vgg_input()
        return common.vgg16(), x, vr, "pool1"
    from dance_tf.data import imagenet
    from dance_tf.models import efficientnet_lite

    model = efficientnet_lite.load()
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    path = sorted((shared / "imagenet" / "images").glob("*.JPEG"))[0]
    x = np.asarray(imagenet.load_image(str(path), mode=model), np.float32)
    x = x[0] if x.ndim == 4 else x
    return model, x, (-127 / 128, 128 / 128), efficientnet_lite.DEFAULT_LAYER


def measure(name: str, rounds: int, packing: str, m: int, only=None) -> list[dict]:
    import dance_tf
    from dance_tf.saliency import gradient

    model, x, vr, layer = load(name)
    kw = {"value_range": vr, "layer": layer, "packing": packing, "patches_per_mask": m}
    variants = {"line_search + crops": {}, "line_search, no crops": {"use_crops": False},
                "adam (S1.2, max_steps 20)": {"solver": "adam"}}
    if only:
        variants = {k: v for k, v in variants.items() if k.split()[0].strip(",") in only}
    rows = []
    for label, extra in variants.items():
        ex = dance_tf.Explainer(model, **kw, **extra)
        ex0 = dance_tf.Explainer(model, method=zero_map, **kw, **extra)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = ex.explain(x, return_details=True)
        plan = ex.plan(x.shape)
        n2 = len(r.decoys)
        budget, logits = ex.memory_budget_mb, ex.logits_model(x.shape)
        batch = min(sizing.evals_per_batch(budget, logits, x.shape), n2)
        xs = tf.constant(np.repeat(x[None], batch, axis=0))
        ts = tf.fill([batch], r.target)
        logits = ex.logits_model(x.shape)
        grad = tf.function(lambda a, b, logits=logits: gradient(logits, a, b))
        reps = -(-n2 // batch)

        def grads(grad=grad, xs=xs, ts=ts, reps=reps):
            for _ in range(reps):
                grad(xs, ts).numpy()

        per = common.interleaved({"total": lambda ex=ex: ex.explain(x),
                                  "decoys": lambda ex0=ex0: ex0.explain(x),
                                  "grads": grads}, rounds=rounds)
        t_total, t_dec, t_g = per.median("total"), per.median("decoys"), per.median("grads")
        rows.append({"model": name, "variant": label, "packing": f"{packing} (m={m})",
                     "decoys_2n": n2, "crop": None if plan.crop is None else
                     list(plan.crop.size), "certified": float(r.certified.mean()),
                     "active_or_pinned": float(np.mean((r.max_deviation >= 0.9 * r.epsilon)
                                                       | r.pinned)),
                     "t_total_s": t_total, "t_decoys_s": t_dec,
                     "t_base_s": t_total - t_dec, "t_2n_grad_s": t_g,
                     "ratio_total_to_2n_grad": t_total / t_g})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="vgg_16", choices=("vgg_16", "efficientnet_lite0"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--packing", default="tiles")
    p.add_argument("--m", type=int, default=500)
    p.add_argument("--solvers", default="line_search,adam",
                   help="comma-separated: line_search (with and without crops), adam")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    rows = measure(args.model, args.rounds, args.packing, args.m, args.solvers.split(","))
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
