"""XLA (``jit_compile``) and mixed precision: do they help, and do results stay in tolerance?

* digits (32×32, 2n = 18): the explainer's compiled pipeline (maps only) re-wrapped with
  ``tf.function(jit_compile=True)`` vs as built; time, map difference, fidelity.
* vgg_16 224×224, ℓ = pool1: one forward + backward through layers 1..ℓ on a chunk of 8
  decoys (the decoy optimiser's inner step, ~all of its cost), as built / with XLA / in
  bfloat16 (weights and activations cast; CPUs with AVX512-BF16 run bf16 convolutions in
  oneDNN) / float16; time and the layer-ℓ error against float32 relative to ε (5% of
  max|F_ℓ|). The decoy certificate (‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≤ ε) must stay in float32.
* the explainer's own ``precision="bfloat16"`` (the decoy loop on a bfloat16 copy of F_ℓ
  aiming at 0.8 ε, certificates in float32), whole explanations: digits (8 inputs) and
  vgg_16 224² (2n = 16, max_steps 4, as in R1): time, fraction certified, map difference.
"""

from __future__ import annotations

import common
import numpy as np
import tensorflow as tf


def _pipelines(plan):
    """(the compiled map-only pipeline as built, the same Python function with XLA)."""
    compiled = getattr(plan, "compiled", None)
    if compiled:  # one tf.function per variant, taking the corner table last
        fn = compiled[False]
        xla = tf.function(fn.python_function, jit_compile=True,
                          input_signature=fn.input_signature)
        return (lambda *a: fn(*a, plan.corners)), (lambda *a: xla(*a, plan.corners))
    return plan.run, tf.function(plan.run.python_function, jit_compile=True)


def _digits() -> list[dict]:
    from r1_no_waste import run_args

    from dance_tf.metrics.fidelity import fidelity

    model, xs, vr = common.digits_model(8)
    ex = common.explainer(model, vr, layer="pool1", patch_size=3, patches_per_mask=100)
    plan = ex.plan(xs[0].shape)
    plain, xla = _pipelines(plan)
    maps = {"as built": [], "XLA": []}
    targets, args0 = [], None
    for x in xs:
        d = ex.explain(x, return_details=True)
        args = run_args(ex, x, d)
        args0 = args0 or args
        targets.append(d.target)
        maps["as built"].append(plain(*args)[0].numpy())
        maps["XLA"].append(xla(*args)[0].numpy())
    per = common.interleaved({"as built": lambda: plain(*args0)[0].numpy(),
                              "XLA": lambda: xla(*args0)[0].numpy()}, rounds=9)
    rows = []
    for name, m in maps.items():
        m = np.stack(m)
        sf = fidelity(model, xs, np.abs(m).mean(-1), np.array(targets), k=0.2)
        ref = np.stack(maps["as built"])
        rows.append({"model": "digits 32×32, whole pipeline", "variant": name,
                     "t_s": per.median(name), "speedup": per.ratio("as built", name),
                     "map_rel_diff": float(np.linalg.norm(m - ref) / np.linalg.norm(ref)),
                     "fidelity_SF": float(sf.mean())})
    return rows


def _vgg() -> list[dict]:
    from dance_tf.layers import layer_model, walk

    model = common.vgg16()
    x, vr = common.vgg_input()
    f_l, _ = layer_model(model, "pool1", x.shape)
    kernels = [(lay.kernel, lay.bias) for _, lay in walk(f_l) if hasattr(lay, "kernel")]
    assert len(kernels) == 2, "vgg_16 up to pool1 has conv1_1 and conv1_2"
    batch = common.batch_like(x, 8)

    def prefix(dtype):
        ws = [(tf.cast(k, dtype), tf.cast(b, dtype)) for k, b in kernels]

        def fwd(h):
            h = tf.cast(h, dtype)
            for k, b in ws:
                h = tf.nn.relu(tf.nn.conv2d(h, k, 1, "SAME") + b)
            return tf.nn.max_pool2d(h, 2, 2, "VALID")

        def step(h):
            with tf.GradientTape() as tape:
                tape.watch(h)
                y = fwd(h)
                s = tf.reduce_sum(tf.square(tf.cast(y, tf.float32)))
            return tape.gradient(s, h), y

        return step

    ref_feat = f_l(batch[:1], training=False).numpy()
    eps = 0.05 * float(np.abs(ref_feat).max())
    variants = {"float32 (as built)": tf.function(prefix(tf.float32)),
                "float32 + XLA": tf.function(prefix(tf.float32), jit_compile=True),
                "bfloat16": tf.function(prefix(tf.bfloat16)),
                "float16": tf.function(prefix(tf.float16))}
    base = variants["float32 (as built)"](batch)[1].numpy()
    per = common.interleaved({k: (lambda f=f: f(batch)[0].numpy()) for k, f in
                              variants.items()}, rounds=2)
    rows = []
    for name, fn in variants.items():
        feat = tf.cast(fn(batch)[1], tf.float32).numpy()
        rows.append({"model": "vgg_16 224×224, layers 1..ℓ=pool1, fwd+bwd, batch 8",
                     "variant": name, "t_s": per.median(name),
                     "speedup": per.ratio("float32 (as built)", name),
                     "layer_l_max_err_over_eps": float(np.abs(feat - base).max() / eps)})
    return rows


def _precision(model, xs, vr, label, rounds, **options) -> list[dict]:
    """Whole explanations with the float32 and the bfloat16 decoy loop."""
    from dance_tf.metrics.fidelity import fidelity

    out, maps = {}, {}
    for prec in ("float32", "bfloat16"):
        ex = common.explainer(model, vr, layer="pool1", precision=prec, **options)
        det = [ex.explain(x, return_details=True) for x in xs]
        maps[prec] = np.stack([d.saliency for d in det])
        sf = fidelity(model, xs, np.abs(maps[prec]).mean(-1), np.array([d.target for d in det]),
                      k=0.2)
        out[prec] = {"ex": ex, "cert": float(np.mean([d.certified.mean() for d in det])),
                     "sf": float(sf.mean())}
    per = common.interleaved({p: (lambda e=o["ex"]: e.explain(xs[0])) for p, o in out.items()},
                             rounds=rounds)
    ref = maps["float32"]
    return [{"model": label, "variant": f"explainer, {p} decoy loop" +
             (" (as built)" if p == "float32" else ""),
             "t_s": per.median(p), "speedup": per.ratio("float32", p),
             "map_rel_diff": float(np.linalg.norm(maps[p] - ref) / np.linalg.norm(ref)),
             "fidelity_SF": o["sf"], "fraction_certified": o["cert"]}
            for p, o in out.items()]


def run(quick: bool = False, vgg: bool = True) -> dict:
    rows = _digits()
    model, xs, vr = common.digits_model(8)
    rows += _precision(model, xs, vr, "digits 32×32, DANCE-gradient", rounds=9)
    if vgg:
        rows += _vgg()
        x, vr = common.vgg_input()
        rows += _precision(common.vgg16(), x[None], vr, "vgg_16 224×224, DANCE-gradient "
                           "(2n=16, max_steps 4)", rounds=1 if quick else 2, patch_size=3,
                           patches_per_mask=6200, max_steps=4, decoy_batch_size=16)
    summary = [{"ratio": f"{r['model'].split(',')[0]}: {r['variant']} speed-up",
                "value": r["speedup"], "target": "> 1 to turn on", "pass": None}
               for r in rows if "as built" not in r["variant"]]
    return {"name": "XLA and mixed precision", "rows": rows, "summary": summary}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(vgg="--no-vgg" not in sys.argv), indent=1, default=float))
