"""Issue 15: the cost of the one-line API and of a batch call.

A. ``dance_tf.explain`` in a loop (10 calls on one model, after the first) ÷ 10 calls of a
   reused ``Explainer``: target ≤ 1.2 (the explainer is cached per model and settings, so
   the loop does not rebuild or recompile).
B. ``explainer(batch of 8)`` ÷ 8 single ``explainer(x)`` calls, per input: target < 1
   (the batch runs through one compiled call of ``dance_tf.pipeline_batch``).

Both on the digits-shaped CNN (32×32×3, ℓ = pool1, m = 100) and the embedded digits model,
calls interleaved in rounds; the median of the per-round ratios is reported (the CPU is
shared). ``--uncached`` adds the old behaviour (a new Explainer per call) for reference.

Usage: python benchmarks/api_calls.py [--rounds 5] [--repeats 5]
       [--out benchmarks/results/api_calls.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import common
import numpy as np

import dance_tf
from dance_tf import explainer as explainer_module


def cnn32():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, name="logits")], name="cnn32")


def digits():
    from dance_tf.data import digits as digits_data
    from dance_tf.models import digits as digits_model

    model = digits_model.load(progress=lambda *_: None)
    _, _, x, _ = digits_data.load(seed=0)
    return model, x[:8].astype(np.float32), digits_data.VALUE_RANGE


def clock(fn, repeats: int = 1) -> float:
    """Seconds of ``repeats`` back-to-back calls of fn (one call of the 10-call loop lasts
    ~0.1 s, shorter than this shared CPU's noise)."""
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return time.perf_counter() - t


def measure(name, model, xs, value_range, rounds: int, uncached: bool,
            repeats: int = 5) -> dict:
    opts = {"value_range": value_range}
    reused = dance_tf.Explainer(model, **opts)
    reused(xs[0])
    reused(xs)
    dance_tf.explain(model, xs[0], **opts)       # first call: builds and compiles
    loop_r, batch_r, rows = [], [], []
    for _ in range(rounds):
        t_loop = clock(lambda: [dance_tf.explain(model, x, **opts) for x in xs[:10]], repeats)
        t_reused = clock(lambda: [reused(x) for x in xs[:10]], repeats)
        t_batch = clock(lambda: reused(xs[:8]), repeats)
        t_single = clock(lambda: [reused(x) for x in xs[:8]], repeats)
        row = {"explain_loop_s": t_loop, "reused_loop_s": t_reused,
               "batch8_s": t_batch, "single8_s": t_single}
        if uncached:
            def fresh():
                for x in xs[:10]:
                    explainer_module.EXPLAINERS.clear()
                    dance_tf.explain(model, x, **opts)
            row["uncached_loop_s"] = clock(fresh)     # one loop (reused: ``repeats``)
        rows.append(row)
        loop_r.append(t_loop / t_reused)
        batch_r.append(t_batch / t_single)
    out = {"model": name, "calls": min(10, len(xs)), "repeats": repeats, "rounds": rows,
           "A_explain_loop_over_reused": statistics.median(loop_r),
           "B_batch8_over_8_singles": statistics.median(batch_r)}
    if uncached:
        out["uncached_over_reused"] = statistics.median(
            r["uncached_loop_s"] / (r["reused_loop_s"] / repeats) for r in rows)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=5,
                   help="back-to-back loops per timing [5]")
    p.add_argument("--uncached", action="store_true")
    p.add_argument("--out", default="benchmarks/results/api_calls.json")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    results = {"environment": common.environment(), "targets": {"A": 1.2, "B": 1.0},
               "runs": []}
    x32 = rng.random((10, 32, 32, 3), dtype=np.float32)
    results["runs"].append(measure("cnn32 (32x32x3)", cnn32(), x32, (0.0, 1.0), args.rounds,
                                   args.uncached, args.repeats))
    model, xd, vr = digits()
    xd = np.concatenate([xd, xd[:2]])
    results["runs"].append(measure("digits (embedded)", model, xd, vr, args.rounds,
                                   args.uncached, args.repeats))
    for r in results["runs"]:
        line = (f"{r['model']}: A = {r['A_explain_loop_over_reused']:.2f} (≤ 1.2), "
                f"B = {r['B_batch8_over_8_singles']:.2f} (< 1)")
        if "uncached_over_reused" in r:
            line += f", old uncached loop ÷ reused = {r['uncached_over_reused']:.2f}"
        print(line)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
