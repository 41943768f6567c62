"""How close a DANCE map runs to the CPU's gradient throughput on EfficientNet-Lite (issue
26: can the pre-registered run go faster here, or is what is left hours of gradients?).

In one process, on one random 224² input (the cost does not depend on the pixels):

* raw: a ``tf.function`` gradient of one logit w.r.t. a batch of inputs, ms per gradient at
  batch 10 and 50, as built and with ``jit_compile=True`` (XLA);
* DANCE: ``dance_tf.explain`` second call (compiled) for the study's blocks' two costliest
  maps: SmoothGrad-10 over tiles m = 2000 (2n = 50, 500 gradients) and the gradient over
  tiles m = 500 (2n = 200, 200 gradients), in s and in ms per base-method gradient.

    python benchmarks/gradient_throughput.py [--variant lite0] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import tensorflow as tf

import dance_tf
from dance_tf.models import efficientnet_lite

TARGET = 5


def raw_ms(model, x, batch: int, jit: bool, total: int = 200) -> float:
    """ms per input gradient of logit TARGET, batches of ``batch``, after a warm-up."""
    @tf.function(jit_compile=jit)
    def grad(xb):
        with tf.GradientTape() as tape:
            tape.watch(xb)
            y = model(xb, training=False)[:, TARGET]
        return tape.gradient(y, xb)

    xb = tf.constant(np.repeat(x[None], batch, 0))
    grad(xb)
    start, n = time.perf_counter(), 0
    while n < total:
        grad(xb)
        n += batch
    return 1000 * (time.perf_counter() - start) / n


def dance_s(model, x, **kw) -> tuple[float, int]:
    """(seconds of the second, compiled call, number of decoys)."""
    dance_tf.explain(model, x, target=TARGET, value_range=(-1.0, 1.0), **kw)
    start = time.perf_counter()
    r = dance_tf.explain(model, x, target=TARGET, value_range=(-1.0, 1.0),
                         return_details=True, **kw)
    return time.perf_counter() - start, len(r.decoys)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variant", default="lite0", choices=("lite0", "lite1", "lite2"))
    p.add_argument("--out", default=None, help="JSON file to write (must not exist)")
    args = p.parse_args()
    model = efficientnet_lite.load(args.variant)
    side = int(model.input_shape[1])
    x = np.random.default_rng(0).uniform(-1, 1, (side, side, 3)).astype("float32")
    res = {"variant": args.variant, "side": side, "load_average_start": os.getloadavg()[0]}
    for batch in (10, 50):
        res[f"raw_ms_batch{batch}"] = raw_ms(model, x, batch, jit=False)
    res["raw_ms_batch10_xla"] = raw_ms(model, x, 10, jit=True, total=50)
    sg, n_sg = dance_s(model, x, method="smoothgrad",
                       method_options={"samples": 10, "noise": 0.15},
                       packing="tiles", patches_per_mask=2000)
    g, n_g = dance_s(model, x, method="gradient", packing="tiles", patches_per_mask=500)
    res.update({"dance_smoothgrad10_s": sg, "dance_smoothgrad10_decoys": n_sg,
                "dance_smoothgrad10_ms_per_gradient": 1000 * sg / (10 * n_sg),
                "dance_gradient_s": g, "dance_gradient_decoys": n_g,
                "dance_gradient_ms_per_gradient": 1000 * g / n_g,
                "load_average_end": os.getloadavg()[0]})
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        with open(args.out, "x", encoding="utf-8") as f:   # never over another file
            f.write(text + "\n")


if __name__ == "__main__":
    main()
