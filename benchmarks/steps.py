"""Steps: how many optimisation steps decoys need, and fidelity as a function of the budget.

Each decoy stops on its own once τ stops shrinking (``patience`` consecutive steps with a
non-zero penalty after it has met the bound; patience = 1 is the paper's literal rule,
S1.2); a chunk's loop runs until all its decoys stopped, so the chunk pays max(k). The
budget sweep caps ``max_steps`` and reports, over held-out digits, the fidelity SF of the
top-20% DANCE-gradient map (Eq. 6, lower is better), the fraction of certified decoys and
the time per input, and how far the maps are from the max_steps = 100 maps (mean
relative L2 distance).
"""

from __future__ import annotations

import common
import numpy as np

from dance_tf.decoys.settings import DecoySettings

BUDGETS = (3, 5, 10, 20, 50, 100)


def _fidelity(model, xs, maps, targets) -> tuple[float, float]:
    from dance_tf.metrics.fidelity import fidelity

    sf = fidelity(model, xs, np.abs(maps).mean(axis=-1), targets, k=0.2, fill=0.0)
    return float(sf.mean()), float(sf.std(ddof=1) / np.sqrt(len(sf)))


def run(quick: bool = False, vgg: bool = True) -> dict:
    model, xs, vr = common.digits_model(4 if quick else 16)
    rows, steps_all, all_maps = [], [], []
    default = DecoySettings().patience
    configs = [(b, default) for b in BUDGETS] + [(100, 1)]
    for budget, patience in configs:
        ex = common.explainer(model, vr, layer="pool1", patch_size=3, patches_per_mask=100,
                              solver="adam", max_steps=budget, patience=patience)
        details = [ex.explain(x, return_details=True) for x in xs]
        t = float(np.median([common.timeit(lambda x=x, ex=ex: ex.explain(x), repeat=3)
                             for x in xs[:4]]))
        steps = np.concatenate([d.steps for d in details])
        chunk_k = [int(d.steps.max()) for d in details]
        maps = np.stack([d.saliency for d in details])
        targets = np.array([d.target for d in details])
        sf, se = _fidelity(model, xs, maps, targets)
        if budget == 100 and patience == default:
            steps_all = steps
        all_maps.append(maps)
        rows.append({"max_steps": budget, "patience": patience,
                     "k_decoy_median": float(np.median(steps)),
                     "k_decoy_mean": float(np.mean(steps)),
                     "k_decoy_p90": float(np.percentile(steps, 90)),
                     "k_chunk_mean": float(np.mean(chunk_k)),
                     "hit_budget": float(np.mean(steps >= budget)),
                     "fraction_certified": float(np.mean([d.fraction_certified
                                                          for d in details])),
                     "fidelity_SF": sf, "fidelity_se": se, "t_per_input_s": t})
    ref = all_maps[BUDGETS.index(100)]
    for r, maps in zip(rows, all_maps):
        r["map_rel_diff_vs_100"] = float(np.mean([np.linalg.norm(a - b) / np.linalg.norm(b)
                                                  for a, b in zip(maps, ref)]))
    base = next(r for r in rows if r["max_steps"] == 100 and r["patience"] == default)
    enough = [r["max_steps"] for r in rows if r["patience"] == default
              and abs(r["fidelity_SF"] - base["fidelity_SF"]) <= 2 * base["fidelity_se"]]
    close = [r["max_steps"] for r in rows if r["patience"] == default
             and r["map_rel_diff_vs_100"] <= 0.1]
    summary = [{"ratio": "decoy steps k (median / p90 / max per decoy, default settings)",
                "value": f"{np.median(steps_all):.0f} / {np.percentile(steps_all, 90):.0f} / "
                         f"{steps_all.max()}", "target": "few (S10)", "pass": None},
               {"ratio": "smallest step budget with fidelity within 2 s.e. of max_steps=100",
                "value": min(enough) if enough else "none", "target": "reported",
                "pass": None},
               {"ratio": "smallest step budget whose maps are within 10% (relative L2) of "
                         "max_steps=100", "value": min(close) if close else "none",
                "target": "reported", "pass": None},
               {"ratio": "optimisation steps paid with per-decoy refill ÷ per-chunk max "
                         "(mean k ÷ mean chunk k, defaults)",
                "value": base["k_decoy_mean"] / base["k_chunk_mean"], "target": "reported",
                "pass": None}]
    return {"name": "Steps", "rows": rows, "summary": summary}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=1, default=float))
