"""Scaling: time and peak memory as the input size (32² → 224²), the number of decoys 2n and
the integrated-gradients steps grow.

Peak memory is the peak of TensorFlow's allocator above the bytes in use before the call
(``tf.config.experimental.get_memory_info``), measured on a warm (already compiled) call.
Decoys are processed in chunks with a running max / min (§3.4), so with a fixed chunk size
peak memory must stay flat in 2n while time grows linearly. Models: the digits CNN
architecture (random weights at other sizes; the trained one at 32²), the default (line
search) solver.
"""

from __future__ import annotations

import common
import numpy as np


def _measure(ex, x) -> tuple[float, float, int]:
    d = ex.explain(x, return_details=True)  # compile both variants of the pipeline
    ex.explain(x)
    base = common.reset_peak()
    t = common.timeit(lambda: ex.explain(x), repeat=1, warmup=0)
    return t, common.peak_since(base), int(d.steps.size)


def run(quick: bool = False, vgg: bool = True) -> dict:
    rows = []
    rng = np.random.default_rng(0)
    sizes = (32, 64, 128) if quick else (32, 64, 128, 224)
    for size in sizes:
        model = common.digits_like(size)
        x = rng.random((size, size, 1)).astype(np.float32)
        ex = common.explainer(model, (0.0, 1.0), layer="pool1", patch_size=3,
                              patches_per_mask=100, decoy_batch_size=64)
        t, mem, n2 = _measure(ex, x)
        rows.append({"sweep": "input size", "size": f"{size}×{size}", "decoys_2n": n2,
                     "chunk": 64, "t_s": t, "peak_mb": mem})
    model, xs, vr = common.digits_model(1)
    for m in (100, 50, 20, 10) if quick else (100, 50, 20, 10, 5):
        ex = common.explainer(model, vr, layer="pool1", patch_size=3, patches_per_mask=m,
                              decoy_batch_size=18)
        t, mem, n2 = _measure(ex, xs[0])
        rows.append({"sweep": "2n (chunk 18)", "size": "32×32", "decoys_2n": n2, "chunk": 18,
                     "t_s": t, "peak_mb": mem, "t_per_decoy_ms": 1e3 * t / n2})
    for steps in (10, 25, 50) if quick else (10, 25, 50, 100, 200):
        ex = common.explainer(model, vr, method="integrated_gradients", steps=steps,
                              layer="pool1", patch_size=3, patches_per_mask=100)
        t, mem, n2 = _measure(ex, xs[0])
        rows.append({"sweep": "IG steps", "size": "32×32", "decoys_2n": n2, "ig_steps": steps,
                     "t_s": t, "peak_mb": mem})
    dec = [r for r in rows if r["sweep"].startswith("2n")]
    growth = dec[-1]["peak_mb"] - dec[0]["peak_mb"]
    summary = [{"ratio": f"peak memory growth from 2n={dec[0]['decoys_2n']} to "
                         f"2n={dec[-1]['decoys_2n']} (MB, fixed chunk)",
                "value": round(growth, 1), "target": "flat (≈ 0)", "pass": abs(growth) < 20},
               {"ratio": f"time ratio 2n={dec[-1]['decoys_2n']} ÷ 2n={dec[0]['decoys_2n']}",
                "value": dec[-1]["t_s"] / dec[0]["t_s"],
                "target": f"≈ {dec[-1]['decoys_2n'] / dec[0]['decoys_2n']:.0f} (linear)",
                "pass": None}]
    return {"name": "Scaling", "rows": rows, "summary": summary}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=1, default=float))
