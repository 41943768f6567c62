"""EfficientNet-Lite0 at 224²: one forward pass, and one DANCE-gradient explanation with the
paper's packing and with tiles (issue 12's closing numbers).

Model: ``dance_tf.models.efficientnet_lite.load()`` (trained ImageNet weights), ℓ =
``DEFAULT_LAYER`` (block2a_project_bn, 56×56×24), a real image (the tench of the test
fixtures, bicubic 0.875 crop, (x − 127) / 128). DANCE settings of Table S1 (P = 3,
stride 1, λ₀ = 1e4, τ₀ = 1) with the package's default solver and step budget:

* ``paper``: m = 100 windows per mask in raster order (S1.1): 222² windows → n = 493, 2n = 986;
* ``tiles``: m = 500, one compact block per mask: 10 × 10 tiles, 2n = 200.

Timing: the forward pass is the minimum over repeats after a warm-up (batch 1 and the
per-image time at batch 32); each explanation is timed on its first call (graph building
and compilation included) and, with ``--repeat`` ≥ 1, the minimum of further calls. Decoy
counts, fraction certified and steps come from the explanation's diagnostics.

    python benchmarks/efficientnet.py [--quick] [--repeat N] [--out DIR]

``--quick`` is a smoke run (stride 6, no repeats): 2n = 28 (paper) and 2n = 8
(tiles); its times say nothing about the full setting.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

IMAGE = ROOT / "tests" / "fixtures" / "imagenet" / "n01440764_tench.jpg"
PACKINGS = {"paper": 100, "tiles": 500}


def forward_times(model, x: np.ndarray, repeat: int) -> dict:
    """Compiled forward pass (``tf.function``; an eager Keras call adds per-layer
    dispatch): seconds at batch 1 and per image at batch 32."""
    import common
    import tensorflow as tf

    fwd = tf.function(lambda t: model(t, training=False))
    one = tf.constant(x[None])
    batch = tf.constant(np.repeat(x[None], 32, axis=0))
    t1 = common.timeit(lambda: fwd(one).numpy(), repeat=repeat)
    t32 = common.timeit(lambda: fwd(batch).numpy(), repeat=max(1, repeat // 2))
    return {"forward_batch1_s": t1, "forward_batch32_per_image_s": t32 / 32}


def explain_times(model, x, value_range, packing: str, m: int, options: dict,
                  repeat: int) -> dict:
    import dance_tf
    from dance_tf.models.efficientnet_lite import DEFAULT_LAYER

    explainer = dance_tf.Explainer(model, layer=DEFAULT_LAYER, value_range=value_range,
                                   packing=packing, patches_per_mask=m, **options)
    t0 = time.perf_counter()
    res = explainer.explain(x, return_details=True)
    first = time.perf_counter() - t0
    again = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        explainer.explain(x)
        again.append(time.perf_counter() - t0)
    return {"packing": packing, "m": m, "decoys_2n": int(len(res.certified)),
            "fraction_certified": res.fraction_certified,
            "steps_mean": float(np.mean(res.steps)), "steps_max": int(np.max(res.steps)),
            "epsilon": float(res.epsilon), "target": int(res.target),
            "first_call_s": first, "repeat_min_s": min(again) if again else None,
            "options": options}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: stride 6")
    p.add_argument("--repeat", type=int, default=1,
                   help="timed calls of each explanation after the first (≥ 0)")
    p.add_argument("--only", default="paper,tiles", help="packings to run: paper,tiles")
    p.add_argument("--out", default=None, help="output folder [benchmarks/results/"
                                               "efficientnet, or …/efficientnet_quick]")
    args = p.parse_args(argv)
    if args.repeat < 0:
        p.error(f"--repeat: expected ≥ 0, got {args.repeat}")
    packings = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(packings) - set(PACKINGS))
    if unknown or not packings:
        p.error(f"--only: expected a subset of {sorted(PACKINGS)}, got {args.only!r}")
    import common

    from dance_tf.data.imagenet import load_image, value_range
    from dance_tf.models import efficientnet_lite

    model = efficientnet_lite.load()
    x = load_image(IMAGE, mode=model)
    vr = value_range(model)
    options = {"stride": 6} if args.quick else {}
    repeat = 0 if args.quick else args.repeat
    env = common.environment()
    rows = {"environment": env, "quick": args.quick, "layer": efficientnet_lite.DEFAULT_LAYER,
            "parameters": int(model.count_params())}
    rows.update(forward_times(model, x, 2 if args.quick else 10))
    print(f"EfficientNet-Lite0, {rows['parameters']:,} parameters; forward 224²: "
          f"{rows['forward_batch1_s'] * 1e3:.1f} ms (batch 1), "
          f"{rows['forward_batch32_per_image_s'] * 1e3:.1f} ms/image (batch 32)", flush=True)
    rows["explanations"] = []
    for packing in packings:
        r = explain_times(model, x, vr, packing, PACKINGS[packing], options, repeat)
        rows["explanations"].append(r)
        again = "" if r["repeat_min_s"] is None else f", again {r['repeat_min_s']:.1f} s"
        print(f"DANCE-gradient, {packing} packing (m = {r['m']}): 2n = {r['decoys_2n']}, "
              f"certified {r['fraction_certified']:.0%}, steps mean {r['steps_mean']:.1f}; "
              f"first call {r['first_call_s']:.1f} s{again}", flush=True)
    out = Path(args.out or HERE / "results" / ("efficientnet_quick" if args.quick
                                               else "efficientnet"))
    os.makedirs(out, exist_ok=True)
    with open(out / "results.json", "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=1)
    lines = [f"EfficientNet-Lite0 224², ℓ = {rows['layer']}; {env['date_utc']}, code "
             f"{env['code']}, {env['machine']}, load {env['load_average_1min']}"
             + (" (quick smoke run)" if args.quick else ""), "",
             f"forward pass: {rows['forward_batch1_s'] * 1e3:.1f} ms at batch 1, "
             f"{rows['forward_batch32_per_image_s'] * 1e3:.1f} ms per image at batch 32", "",
             "| packing | m | 2n | certified | steps mean / max | first call | again |",
             "|---|---|---|---|---|---|---|"]
    for r in rows["explanations"]:
        again = "–" if r["repeat_min_s"] is None else f"{r['repeat_min_s']:.1f} s"
        lines.append(f"| {r['packing']} | {r['m']} | {r['decoys_2n']} | "
                     f"{r['fraction_certified']:.0%} | {r['steps_mean']:.1f} / {r['steps_max']} "
                     f"| {r['first_call_s']:.1f} s | {again} |")
    (out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}/results.json, results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
