"""Decoy quality and cost per solver on the paper's tasks (issue 11).

For every decoy: its objective ‖((x̃ − x)·s)⁺ ∘ M‖₁ divided by that of the best uniform
feasible shift x + a·s·M (a on a 201-point grid over the value range, brute force, F_ℓ
recomputed here with the explainer's layer-ℓ sub-model), whether its constraint is active
(‖F_ℓ(x̃) − F_ℓ(x)‖∞ ≥ 0.9 ε) or it is pinned at the value range, the share of its
features that moved against s, its solver steps, and the time per input (median of 3
calls after compilation). Solvers: ``adam`` (S1.2, one-sided start) and ``line_search``
with 0 and 2 refinement rounds.

    python benchmarks/decoy_solver.py --task digits --count 8
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

GRID = 201
VARIANTS = {"adam": {"solver": "adam"}, "line_search": {"solver": "line_search"},
            "line_search+refine2": {"solver": "line_search", "refine_steps": 2}}


def uniform_floor(f_l, x, mask, s, lo, hi, eps) -> float:
    """Objective of the best feasible uniform shift clip(x + a·s·M) over a 201-point grid."""
    m = (mask > 0) & (hi > lo)
    a = np.linspace(0.0, float(np.max(hi - lo)), GRID, dtype=np.float32)
    pts = np.clip(x[None] + a.reshape((-1,) + (1,) * x.ndim) * s * m[None], lo, hi)
    ref = np.asarray(f_l(x[None], training=False))
    dev = np.concatenate([np.abs(np.asarray(f_l(pts[i:i + 67], training=False)) - ref)
                          .reshape(len(pts[i:i + 67]), -1).max(axis=1)
                          for i in range(0, GRID, 67)])
    obj = (np.maximum((pts - x[None]) * s, 0.0) * m[None]).reshape(GRID, -1).sum(axis=1)
    return float(obj[dev <= eps].max())


def measure(task, variant: str, options: dict, count: int) -> dict:
    import dance_tf

    opts = dict(task.explainer_options)
    opts.update(options)
    ex = dance_tf.Explainer(task.model, value_range=task.value_range, **opts)
    ratios, active, against, steps, times = [], [], [], [], []
    for x in task.inputs[:count]:
        x = np.asarray(x, np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = ex.explain(x, return_details=True)
            t = []
            for _ in range(3):
                t0 = time.perf_counter()
                ex.explain(x)
                t.append(time.perf_counter() - t0)
        times.append(float(np.median(t)))
        plan = ex.plan(x.shape)
        lo, hi = (np.broadcast_to(np.asarray(v, np.float32), x.shape) for v in
                  task.value_range)
        n = len(r.masks)
        for i in range(2 * n):
            s = 1.0 if i < n else -1.0
            floor = uniform_floor(plan.f_l, x, r.masks[i % n], s, lo, hi, r.epsilon)
            ratios.append(r.objective[i] / floor if floor > 0 else np.nan)
        active += list((r.max_deviation >= 0.9 * r.epsilon) | r.pinned)
        against += list(r.against)
        steps += list(r.steps)
    ratios = np.asarray(ratios)
    return {"variant": variant, "inputs": min(count, len(task.inputs)),
            "decoys": len(active),
            "ratio_mean": float(np.nanmean(ratios)),
            "ratio_p10": float(np.nanpercentile(ratios, 10)),
            "ratio_median": float(np.nanmedian(ratios)),
            "ratio_min": float(np.nanmin(ratios)),
            "no_floor": int(np.isnan(ratios).sum()),
            "active": float(np.mean(active)), "against": float(np.mean(against)),
            "steps_mean": float(np.mean(steps)), "s_per_input": float(np.median(times))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="digits", choices=("digits", "sst", "ids"))
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--out", default=None, help="append JSON lines here")
    args = p.parse_args(argv)
    from dance_tf.tasks.base import build_task

    task = build_task(args.task, {"count": args.count, "log": lambda *_: None})
    for name, options in VARIANTS.items():
        row = {"task": args.task, **measure(task, name, options, args.count)}
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
