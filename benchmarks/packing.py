"""Packing: decoys, time and fidelity with the paper's packing (m patches per mask in raster
order, S1.1) vs receptive-field-aware packing (patches whose layer-ℓ receptive fields
cannot overlap share a mask, never more masks than the paper's) vs compact tiles (about m
windows in one square block per mask); ``dance_tf.masks``.

Fidelity SF of the top-20% map (Eq. 6) must agree within noise. The noise that matters is
the seed of the decoys' random starts: one seed draws the same start for decoy i of every
input, so a seed shifts the mean SF of a whole test set (on the digits CNN, seed 1 − seed 0
of the paper packing is −0.24 ± 0.05 over 360 inputs), and a paired test over the inputs
of one seed calls that shift significant. Each packing is therefore run with ``SEEDS``
seeds on the same inputs; the packings agree when the difference of their seed-averaged
mean SF is within 2 standard errors computed over seeds (Welch, seed = unit).

Regimes, digits CNN trained here (real data), ℓ = pool1, P = 3, stride 1:
* 32×32 (the embedded default), m = 100: receptive-field packing keeps the paper's 9 masks
  (the independent lattice would need 36), so the two are the same decoys.
* 32×32, m = 25: both make 72 decoys (36 lattice classes of 25 windows 6 apart vs 36 raster
  runs of 25): only *which* windows share a mask differs. The paper packing with m = 100
  (18 decoys) on the same inputs shows what the number of decoys does.
  Tiles with m = 25 (36 blocks of 5×5 windows) and m = 100 (9 blocks of 10×10) match the
  two counts.
* 64×64 and 96×96 (digits resized, the same CNN trained at each size): receptive-field
  packing makes 72 decoys (36 lattice classes) instead of the paper's 78 / 178 — the regime
  of vgg_16 at 224², where it is 128 instead of 986; tiles of m = 121 / 256 windows
  (11×11 / 16×16) make the same 72.

Besides the map's SF, each row reports the SF of a range taken only over the decoys whose
mask covers the feature (``covering_SF``; Theorem 1 reasons about those decoys, i ∈ K):
an analysis of where the range's signal comes from, not an option of the package.
vgg_16 at 224×224 (ℓ = pool1, P = 3, stride 1): the decoy counts (target 2n ≤ 200 instead of
the paper's ≈ 984), with the receptive field measured on the net; its time is projected in
the R2 benchmark.
"""

from __future__ import annotations

import common
import numpy as np

SEEDS = (0, 1, 2, 3, 4)
#: windows per tile for vgg_16 at 224²: 10 × 10 tiles of 22–23 windows, 2n = 200
VGG_TILES_M = 500


def _fidelity_runs(model, xs, vr, packing, m, seeds) -> dict:
    """Mean SF over ``xs`` for each seed, decoy count, steps and time per input."""
    import time

    from dance_tf.metrics.fidelity import fidelity

    per_seed, covering, t_total, steps, n_items = [], [], 0.0, [], 0
    for seed in seeds:
        ex = common.explainer(model, vr, layer="pool1", patch_size=3, patches_per_mask=m,
                              packing=packing, seed=seed)
        ex.explain(xs[0])  # compile outside the clock
        t0 = time.perf_counter()
        details = [ex.explain(x, return_details=True) for x in xs]
        t_total += time.perf_counter() - t0
        maps = np.stack([np.abs(d.saliency).mean(axis=-1) for d in details])
        targets = np.array([d.target for d in details])
        sf = fidelity(model, xs, maps, targets, k=0.2)
        per_seed.append(float(sf.mean()))
        cover = np.stack([np.abs(_covering_range(model, d)).mean(axis=-1) for d in details])
        covering.append(float(fidelity(model, xs, cover, targets, k=0.2).mean()))
        steps += [float(d.steps.mean()) for d in details]
        n_items = int(details[0].steps.size)
    return {"decoys_2n": n_items, "t_per_input_s": t_total / (len(seeds) * len(xs)),
            "k_decoy_mean": float(np.mean(steps)), "per_seed_SF": per_seed,
            "fidelity_SF": float(np.mean(per_seed)), "covering_SF": float(np.mean(covering)),
            "seed_sd": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0}


def _covering_range(model, d) -> np.ndarray:
    """max − min of the decoys' gradient maps, per feature, over the decoys whose mask
    covers that feature only (decoy i uses mask i mod n)."""
    import tensorflow as tf

    from dance_tf.saliency.gradient import gradient

    g = gradient(model, tf.constant(d.decoys), tf.fill([len(d.decoys)], d.target)).numpy()
    reps = len(d.decoys) // len(d.masks)
    cover = np.concatenate([d.masks] * reps) > 0
    inf = np.float32(np.inf)
    return np.where(cover, g, -inf).max(axis=0) - np.where(cover, g, inf).min(axis=0)


def _compare(a: dict, b: dict) -> tuple[float, float]:
    """Difference of seed-averaged SF (b − a) and its Welch standard error over seeds."""
    sa, sb = np.asarray(a["per_seed_SF"]), np.asarray(b["per_seed_SF"])
    se = np.sqrt(sa.var(ddof=1) / len(sa) + sb.var(ddof=1) / len(sb))
    return float(sb.mean() - sa.mean()), float(se)


def _regime(label, model, xs, vr, variants, seeds) -> list[dict]:
    rows = []
    for packing, m in variants:
        r = _fidelity_runs(model, xs, vr, packing, m, seeds)
        rows.append({"model": label, "packing": packing, "m": m, "inputs": len(xs),
                     "seeds": len(seeds), **r})
    base = rows[0]
    for r in rows[1:]:
        r["fidelity_diff_vs_first"], r["fidelity_diff_se"] = _compare(base, r)
    return rows


def _digits(quick: bool) -> list[dict]:
    seeds = SEEDS[:2] if quick else SEEDS
    model, xs, vr = common.digits_model(16 if quick else 128)
    rows = _regime("digits CNN 32×32, ℓ=pool1, P=3", model, xs, vr,
                   [("paper", 25), ("receptive_field", 25), ("tiles", 25), ("paper", 100),
                    ("tiles", 100)], seeds)
    for size, n_inputs, m_tiles in ((64, 32, 121), (96, 24, 256)):
        big, xs_big, _ = common.digits_model(4 if quick else n_inputs, size=size)
        rows += _regime(f"digits CNN {size}×{size}, ℓ=pool1, P=3", big, xs_big, vr,
                        [("paper", 100), ("receptive_field", 100), ("tiles", m_tiles)],
                        seeds)
    return rows


def _vgg() -> dict:
    from dance_tf.layers import layer_model
    from dance_tf.masks import count_masks, receptive_field, window_groups

    model = common.vgg16()
    x, vr = common.vgg_input()
    f_l, _ = layer_model(model, "pool1", x.shape)
    rf = receptive_field(f_l, x.shape, vr[0], vr[1])
    n_rf = len(window_groups(x.shape, 3, 1, 100, "receptive_field", rf))
    n_paper = count_masks(x.shape, 3, 1, 100)
    n_tiles = len(window_groups(x.shape, 3, 1, VGG_TILES_M, "tiles"))
    return {"model": "vgg_16 224×224, ℓ=pool1, P=3, stride 1", "receptive_field_R": rf,
            "decoys_2n_paper": 2 * n_paper, "decoys_2n_receptive_field": 2 * n_rf,
            f"decoys_2n_tiles_m{VGG_TILES_M}": 2 * n_tiles,
            "paper_formula_2n": 2 * ((224 - 3 + 1) ** 2 // 100)}


def _agree_row(label: str, base: dict, other: dict) -> dict:
    diff, se = _compare(base, other)
    return {"ratio": f"{label} (2n {other['decoys_2n']} vs {base['decoys_2n']}): "
                     f"SF({other['packing']}, m={other['m']}) − SF({base['packing']}, "
                     f"m={base['m']})",
            "value": f"{diff:+.3f} ± {se:.3f}",
            "target": "no worse than the first beyond noise: diff ≤ 2 s.e. over seeds "
                      "(lower SF is better; |diff| ≤ 2 s.e. is 'agree')",
            "agree": bool(abs(diff) <= 2 * se), "pass": bool(diff <= 2 * se)}


def run(quick: bool = False, vgg: bool = True) -> dict:
    from dance_tf.masks import window_groups

    rows = _digits(quick)
    by = {(r["model"][:16], r["packing"], r["m"]): r for r in rows}
    d32 = "digits CNN 32×32"
    same = all((a == b).all() for a, b in zip(
        window_groups((32, 32, 1), 3, 1, 100, "receptive_field", 4),
        window_groups((32, 32, 1), 3, 1, 100, "paper")))
    summary = [
        {"ratio": "digits 32², m=100: receptive_field packing = paper packing (lattice would "
                  "need 36 masks > 9)", "value": same, "target": "never more decoys",
         "pass": same},
        _agree_row("digits 32²", by[(d32, "paper", 25)], by[(d32, "receptive_field", 25)]),
        _agree_row("digits 32²", by[(d32, "paper", 25)], by[(d32, "tiles", 25)]),
        _agree_row("digits 32²", by[(d32, "paper", 100)], by[(d32, "tiles", 100)]),
        _agree_row("digits 32², the paper's own m", by[(d32, "paper", 25)],
                   by[(d32, "paper", 100)]),
    ]
    for size, m_tiles in ((64, 121), (96, 256)):
        d = f"digits CNN {size}×{size}"
        paper = by[(d, "paper", 100)]
        for other in (by[(d, "receptive_field", 100)], by[(d, "tiles", m_tiles)]):
            summary.append(_agree_row(f"digits {size}²", paper, other))
            summary.append({
                "ratio": f"digits {size}²: time per input, {other['packing']} ÷ paper",
                "value": other["t_per_input_s"] / paper["t_per_input_s"], "target": "< 1",
                "pass": other["t_per_input_s"] < paper["t_per_input_s"]})
    summary.append({"ratio": "seed-to-seed SD of the mean SF, digits 32², paper packing m=25",
                    "value": by[(d32, "paper", 25)]["seed_sd"],
                    "target": "reported (the noise)", "pass": None})
    if vgg:
        v = _vgg()
        rows.append(v)
        summary.append({"ratio": "packing vgg_16 224², 2n with receptive_field packing "
                                 f"(paper: {v['decoys_2n_paper']})",
                        "value": v["decoys_2n_receptive_field"], "target": "≤ 200",
                        "pass": v["decoys_2n_receptive_field"] <= 200})
        tiles = v[f"decoys_2n_tiles_m{VGG_TILES_M}"]
        summary.append({"ratio": f"packing vgg_16 224², 2n with tiles, m={VGG_TILES_M}",
                        "value": tiles, "target": "≤ 200", "pass": tiles <= 200})
    for r in rows:
        if "per_seed_SF" in r:
            r["per_seed_SF"] = ", ".join(f"{v:.3f}" for v in r["per_seed_SF"])
    return {"name": "Packing", "rows": rows, "summary": summary}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv, vgg="--no-vgg" not in sys.argv),
                     indent=1, default=float))
