"""Power calculation of the pre-registered ImageNet claims (issue 26; PREREGISTRATION.md).

Reads the raw rows already in ``reproduction/`` (no model is run), takes the planning
effect size of each confirmatory claim, and finds the number of images n that gives 80 %
power to a paired two-sided t-test at the Holm level of the strictest step, α / m
(m = confirmatory tests in the family; Holm's first step is Bonferroni's, so a claim
powered there is powered at every later step too).

Effect size: d_z = mean(diff) / sd(diff), diff = decoys + range − plain per image
(Cohen's d for paired data). Power of the two-sided one-sample t-test on n differences:

    power(n) = P(|T| > t_{1−α/2, n−1}),  T ~ noncentral t(df = n − 1, nc = d_z · √n)

computed exactly with ``scipy.stats.nct``; the normal approximation
n ≈ ((z_{1−α/2} + z_{0.8}) / d_z)² is printed beside it as a check.

The CPU plan (``--plan``) multiplies per-explanation seconds measured on Lite0 (the
run-time table of REPRODUCTION.md and BENCHMARKS.md, wall seconds on the shared 2-core
machine: upper bounds) by the images per claim and by each net's cost factor
(full-net multiply-adds × number of decoys 2n, both relative to Lite0).

    python reproduction/power.py            # power tables (Markdown) on stdout
    python reproduction/power.py --plan     # and the CPU-hours plan
    python reproduction/power.py --images [LABELS_CSV]   # write preregistered_images.json
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from dance_tf.study.verdicts import in_first_half  # noqa: E402

ALPHA = 0.05
POWER = 0.80
NETS = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
#: second-half images of the 210 (hash split, seed 14): all a claim can have
SECOND_HALF = 103
#: the issue's floors per confirmatory claim
FLOOR = {"efficientnet_lite0": 80, "efficientnet_lite1": 40, "efficientnet_lite2": 40}
#: Lite0, the cheapest net, runs every second-half image ("every image the budget allows");
#: Lite1 / Lite2 run max(floor, n for 80 % power), at most the second half


def n_registered(net: str, need: int) -> int:
    """Pre-registered n of one claim on one net (``need``: n for 80 % power)."""
    if net == "efficientnet_lite0":
        return SECOND_HALF
    return min(max(need, FLOOR[net]), SECOND_HALF)

#: claim → (folder, method, metric key in a row, which half the planning effect is from)
CLAIMS = {
    "C1 SmoothGrad, SF top 20 %": ("imagenet-igsg", "smoothgrad", "0.2"),
    "C2 integrated gradients, SF top 40 %": ("imagenet-igsg", "integrated_gradients", "0.4"),
    "C3 expected gradients, SF top 20 %": ("imagenet-s9", "expected_gradients", "0.2"),
    "C4 gradient, SF top 20 %": ("imagenet", "gradient", "0.2"),
    "C5 gradient, continuous fidelity": ("imagenet-continuous", "gradient", "continuous"),
}


def _score(row, metric):
    value = row.get("sf_continuous") if metric == "continuous" else (row.get("sf") or {}).get(
        metric)
    return value if value is not None and math.isfinite(value) else None


def paired_diffs(folder: str, method: str, metric: str, first_half: bool) -> np.ndarray:
    """decoys − none per image of one half, from ``reproduction/<folder>``."""
    by_id = defaultdict(dict)
    with gzip.open(HERE / folder / "results.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["method"] == method and in_first_half(row["id"]) == first_half:
                by_id[row["id"]][row["variant"]] = row
    diffs = []
    for variants in by_id.values():
        a, b = (_score(variants[v], metric) if v in variants else None
                for v in ("decoys", "none"))
        if a is not None and b is not None:
            diffs.append(a - b)
    return np.asarray(diffs)


def power(n: int, dz: float, alpha: float) -> float:
    """Exact power of the paired two-sided t-test at level ``alpha`` (noncentral t)."""
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    nc = abs(dz) * math.sqrt(n)
    # both tails as upper tails (P(T < −c | nc) = P(T > c | −nc)): scipy's nct.cdf gives
    # NaN far in the lower tail
    return float(stats.nct.sf(crit, df, nc) + stats.nct.sf(crit, df, -nc))


def n_for_power(dz: float, alpha: float, target: float = POWER, n_max: int = 100_000) -> int:
    """Smallest n ≥ 2 with power ≥ ``target`` (bisection on the monotone power curve)."""
    lo, hi = 2, 4
    while power(hi, dz, alpha) < target:
        lo, hi = hi, hi * 2
        if hi > n_max:
            return n_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power(mid, dz, alpha) >= target else (mid, hi)
    return hi


def n_noninferiority(sd: float, delta: float = 0.5, alpha: float = 0.025,
                     target: float = POWER, n_max: int = 100_000) -> int:
    """Smallest n for which the one-sided paired t-test of H0: E[diff] ≥ ``delta`` has power
    ``target`` when E[diff] = 0 (diff = chosen packing − paper packing; SF units):
    P(T > t_{1−α, n−1}), T ~ noncentral t(n − 1, δ·√n / sd)."""
    def pw(n):
        return float(stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1,
                                  delta * math.sqrt(n) / sd))
    n = 2
    while pw(n) < target and n < n_max:
        n += 1
    return n


def n_normal(dz: float, alpha: float, target: float = POWER) -> float:
    """The normal approximation ((z_{1−α/2} + z_power) / d_z)²."""
    return ((stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target)) / abs(dz)) ** 2


def planning_effects() -> dict:
    """Per claim: the first-half effect when the first half has rows, else the pilot rows
    on the second half (the earlier sittings ran these methods on the second half only)."""
    out = {}
    for claim, (folder, method, metric) in CLAIMS.items():
        d = paired_diffs(folder, method, metric, first_half=True)
        source = "first half"
        if d.size < 3:
            d, source = paired_diffs(folder, method, metric, first_half=False), \
                "pilot, second half"
        sd = float(d.std(ddof=1))
        out[claim] = {"source": source, "folder": folder, "n": int(d.size),
                      "mean": float(d.mean()), "se": sd / math.sqrt(d.size), "sd": sd,
                      "dz": float(d.mean()) / sd}
    return out


#: seconds per explanation on Lite0 (2 shared cores). Measured (REPRODUCTION.md run-time
#: table) unless marked "est." (estimated from the same rows: 0.06 s per in-graph base
#: gradient, the decoy part 13.5 s per 200 decoys, BENCHMARKS.md).
SECONDS = {
    "gradient (tiles m = 500, 2n = 200)": {
        "plain": 0.18, "decoys + range": 29.36, "decoys + mean": 23.96,
        "constant + range": 9.25, "noise + range": 18.79,
        "compute-matched SmoothGrad-200, mean and range forms (est., 2 × noise)": 37.6},
    "SmoothGrad-10 (tiles m = 2000, 2n = 50)": {
        "plain": 1.06, "decoys + range": 34.09, "decoys + mean (est. = decoys)": 34.09,
        "constant + range (est. = decoys)": 34.09, "noise + range (est. = decoys)": 34.09,
        "compute-matched 500 draws: SmoothGrad, SG-range, VarGrad (est., 3 × 29)": 87.0},
    "integrated gradients-10 (tiles m = 2000, 2n = 50)": {
        "plain": 0.98, "decoys + range": 32.42, "decoys + mean (est. = decoys)": 32.42,
        "constant + range (est. = decoys)": 32.42, "noise + range (est. = decoys)": 32.42,
        "compute-matched IG-500 steps (est.)": 29.0},
    "expected gradients-8 (tiles m = 2000, 2n = 50)": {
        "plain": 1.49, "decoys + range": 35.43, "decoys + mean (est. = decoys)": 35.43,
        "constant + range (est. = decoys)": 35.43, "noise + range (est. = decoys)": 35.43,
        "compute-matched EG-400 draws (est.)": 29.0},
}
#: which block of runs serves each claim (C4 and C5 are two metrics of the same maps)
BLOCK = {"C1": "SmoothGrad-10 (tiles m = 2000, 2n = 50)",
         "C2": "integrated gradients-10 (tiles m = 2000, 2n = 50)",
         "C3": "expected gradients-8 (tiles m = 2000, 2n = 50)",
         "C4": "gradient (tiles m = 500, 2n = 200)", "C5": "gradient (tiles m = 500, 2n = 200)"}
#: full-net multiply-adds (counted on dance_tf's Keras graphs: 385 M, 600 M, 860 M) ×
#: decoys 2n at m = 500 (198, 228, 268 at 224², 240², 260²), relative to Lite0
NET_FACTOR = {"efficientnet_lite0": 1.0, "efficientnet_lite1": 1.8, "efficientnet_lite2": 3.0}
#: packing, first half, Lite0 (gradient; SmoothGrad-10): seconds per explanation
PACKING_SECONDS = {
    "gradient": {"plain": 0.18, "paper m = 100 (2n = 986; BENCHMARKS.md, measured)": 260.0,
                 "tiles m = 500 (2n = 200)": 29.36, "tiles m = 2000 (2n = 50; est.)": 8.0},
    "SmoothGrad-10": {"plain": 1.06,
                      "paper m = 100 (est.: 986 decoys, 9,860 gradients)": 800.0,
                      "tiles m = 500 (est.: 200 decoys, 2,000 gradients)": 134.0,
                      "tiles m = 2000 (2n = 50)": 34.09},
}
PACKING_FIRST_HALF = 24  # first-half images for the packing choice
#: second-half images (Lite0) for its confirmation, at most: gradient, SmoothGrad (the
#: rule: n_noninferiority(first-half sd), capped here)
PACKING_CONFIRM = {"gradient": 103, "SmoothGrad-10": 40}


def plan(n_by_claim: dict) -> None:
    """Print the CPU-hours plan: per block, per net, at the pre-registered n and the
    floors."""
    print("\n| block | s per image, Lite0 (all variants) |\n|---|---|")
    per_image = {b: sum(v.values()) for b, v in SECONDS.items()}
    for b, t in per_image.items():
        print(f"| {b} | {t:.0f} |")
    total_target = total_floor = 0.0
    print("\n| net | block | n (target) | hours | n (floor) | hours |\n|---|---|---|---|---|---|")
    for net in NETS:
        for b in SECONDS:
            claims = [c for c, blk in BLOCK.items() if blk == b]
            n = max(n_by_claim[(c, net)] for c in claims)
            hours = per_image[b] * NET_FACTOR[net] * n / 3600
            floor_h = per_image[b] * NET_FACTOR[net] * FLOOR[net] / 3600
            total_target += hours
            total_floor += floor_h
            print(f"| {net} | {b} | {n} | {hours:.1f} | {FLOOR[net]} | {floor_h:.1f} |")
    pack = sum(sum(v.values()) for v in PACKING_SECONDS.values())
    pack_first = pack * PACKING_FIRST_HALF / 3600
    paper = {m: sum(v for k, v in PACKING_SECONDS[m].items() if k.startswith("paper"))
             for m in PACKING_CONFIRM}
    pack_confirm = sum(paper[m] * n for m, n in PACKING_CONFIRM.items()) / 3600
    print(f"\npacking, first half: {pack:.0f} s per image × {PACKING_FIRST_HALF} = "
          f"{pack_first:.1f} h; confirmation, at most (paper packing beside the claims' "
          "maps): " + " + ".join(f"{paper[m]:.0f} s × {n} ({m})"
                                 for m, n in PACKING_CONFIRM.items())
          + f" = {pack_confirm:.1f} h")
    print(f"claims: {total_target:.1f} h at the pre-registered n, {total_floor:.1f} h at "
          f"the floors; with packing: {total_target + pack_first + pack_confirm:.1f} h / "
          f"{total_floor + pack_first + pack_confirm:.1f} h")


ORDER_SALT = "issue26"


def run_order(labels_csv: Path) -> list[dict]:
    """Second-half images in the pre-registered run order: ascending
    sha256("issue26:" + id); ``seen`` marks the ids that already have Lite0 rows (pilots)."""
    import csv
    import hashlib

    with open(labels_csv, newline="", encoding="utf-8") as fh:
        ids = [Path(r["file"]).name for r in csv.DictReader(fh)]
    seen = set()
    for folder in ("imagenet", "imagenet-continuous", "imagenet-igsg", "imagenet-s9"):
        with gzip.open(HERE / folder / "results.jsonl.gz", "rt", encoding="utf-8") as fh:
            seen.update(json.loads(line)["id"] for line in fh)
    second = [i for i in ids if not in_first_half(i)]
    first = [i for i in ids if in_first_half(i)]

    def key(i):
        return hashlib.sha256(f"{ORDER_SALT}:{i}".encode()).hexdigest()

    return ([{"id": i, "half": "second", "seen_lite0": i in seen} for i in sorted(second, key=key)]
            + [{"id": i, "half": "first", "seen_lite0": i in seen} for i in sorted(first, key=key)])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    effects = planning_effects()
    m = len(CLAIMS) * len(NETS)
    alpha = ALPHA / m
    print(f"family: {len(CLAIMS)} claims × {len(NETS)} nets = {m} tests; Holm's first "
          f"step α/m = {alpha:.5f} (two-sided)\n")
    detect = {n: next(d / 1000 for d in range(10, 3000) if power(n, d / 1000, alpha) >= POWER)
              for n in (40, 80, SECOND_HALF)}
    print("smallest |d_z| with 80 % power: " + ", ".join(
        f"{d:.3f} at n = {n}" for n, d in detect.items()) + "\n")
    print("| claim | planning effect from | n | diff ± s.e. | sd | d_z | n for 80 % "
          "(exact nct) | normal approx. | power at n = 40 | at 80 | at 103 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for claim, e in effects.items():
        dz = e["dz"]
        need = n_for_power(dz, alpha)
        print(f"| {claim} | {e['folder']}, {e['source']} | {e['n']} | {e['mean']:+.3f} ± "
              f"{e['se']:.3f} | {e['sd']:.3f} | {dz:+.3f} | {need} | "
              f"{n_normal(dz, alpha):.1f} | {power(40, dz, alpha):.2f} | "
              f"{power(80, dz, alpha):.2f} | {power(SECOND_HALF, dz, alpha):.2f} |")
    print()
    print("| claim | net | n pre-registered | power at that n |")
    print("|---|---|---|---|")
    n_by_claim = {}
    for claim, e in effects.items():
        need = n_for_power(e["dz"], alpha)
        for net in NETS:
            n = n_registered(net, need)
            n_by_claim[(claim[:2], net)] = n
            print(f"| {claim} | {net} | {n} | {power(n, e['dz'], alpha):.2f} |")
    print("\npacking confirmation (non-inferiority, margin 0.5 SF, one-sided α 0.025, "
          "80 % power at a true difference 0): n = " + ", ".join(
              f"{n_noninferiority(sd)} at sd {sd}" for sd in (0.5, 1.0, 1.5, 2.0)))
    if "--plan" in argv:
        plan(n_by_claim)
    if "--images" in argv:  # write the run order next to this script
        labels = HERE.parent.parent / "shared" / "data" / "imagenet" / "labels.csv"
        labels = Path(argv[argv.index("--images") + 1]) if len(argv) > argv.index(
            "--images") + 1 else labels
        order = run_order(labels)
        with open(HERE / "preregistered_images.json", "x", encoding="utf-8") as fh:
            json.dump({"rule": f"each half sorted by sha256('{ORDER_SALT}:' + id); halves by "
                               "dance_tf.study.verdicts.in_first_half (seed 14)",
                       "images": order}, fh, indent=1)
        print(f"wrote preregistered_images.json: {sum(o['half'] == 'second' for o in order)} "
              f"second-half ids ({sum(o['seen_lite0'] for o in order if o['half'] == 'second')}"
              " seen on Lite0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
