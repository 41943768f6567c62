"""The packing choice on large images and its confirmation (issue 26,
``reproduction/PREREGISTRATION.md`` §7; §8's steps 2 and 3), as data and analysis (the
runner: :mod:`dance_tf.study.prereg_packing_run`).

**Step 2, the choice** (first half, exploration): EfficientNet-Lite0, the gradient and
SmoothGrad-10 (C1's settings), the plain map and decoys + range under each packing of
:data:`PACKINGS`, SF top 20 % (``sf_k20``, fill 0), on the first :data:`CHOICE_IMAGES`
first-half images in the registered order. Rows in
``ROOT/preregistered/packing/<method>-<packing>/rows.jsonl``. :func:`choose` applies §7's
rule; no test decides it.

**Step 3, the confirmation** (second half, a family of its own): for each method whose
chosen packing is not the paper's, decoys + range under the chosen and the paper's packing
on the first n second-half images (n: :func:`confirmation_n` of the first half's sd of
chosen − paper, capped), rows in ``ROOT/preregistered/packing-confirm/<method>-<packing>/``;
:func:`confirm` is the one-sided paired non-inferiority t-test, Holm over the methods.
Like the claims, its statistics are shown only once its run has finished (every image of
its n done) or the study has stopped (``preregistered/stopped.json``).

Turns are :class:`dance_tf.study.prereg_plan.Turn` items (``block`` = the folder name
``<method>-<packing>``; ``step`` 2 or 3), each one ``evaluate_model`` call (report=False)
on the first ``upto`` images, resumable like the claims' turns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_run

#: §7: the net, the metric (registered by prereg_run.register_metrics) and the variants
NET = plan.NETS[0]
METRIC = "sf_k20"
CHOICE_VARIANTS = ("none", "decoys")
#: the confirmation compares decoys + range of two packings: the plain map is not needed
CONFIRM_VARIANTS = ("decoys",)
#: §7's packings (the Explainer's options)
PACKINGS = {"paper": {"packing": "paper", "patches_per_mask": 100},
            "tiles500": {"packing": "tiles", "patches_per_mask": 500},
            "tiles2000": {"packing": "tiles", "patches_per_mask": 2000}}
PAPER = "paper"
#: decoys 2n of each packing on Lite0 at 224²: "cheaper" means fewer decoys (§7 says 198
#: for tiles m = 500; the masks make 200: PREREGISTRATION.md's erratum)
DECOYS = {"paper": 986, "tiles500": 200, "tiles2000": 50}
#: §7's methods ({registry name: options}): the gradient and SmoothGrad-10 (C1's settings)
METHODS = {"gradient": {}, "smoothgrad": {"samples": 10, "noise": 0.15}}
#: §7: the first 24 first-half images in the registered order
CHOICE_IMAGES = 24
#: the confirmation (§7): non-inferiority margin (SF), family-wise α, the power the n rule
#: asks for, the one-sided α of the n rule (see confirmation_n) and the caps on n
DELTA = 0.5
ALPHA = 0.05
POWER = 0.80
N_ALPHA = ALPHA / 2
CAP = {"gradient": 103, "smoothgrad": 40}
CHOICE, CONFIRM = "packing", "packing-confirm"
RUNS = "packing-runs.jsonl"


def cheapest_first() -> list[str]:
    """The packings by their number of decoys, fewest first."""
    return sorted(PACKINGS, key=DECOYS.__getitem__)


def name(method: str, packing: str) -> str:
    return f"{method}-{packing}"


def split(block: str) -> tuple[str, str]:
    """``<method>-<packing>`` → (method, packing)."""
    method, packing = block.rsplit("-", 1)
    return method, packing


def folder(root, part: str, method: str, packing: str) -> Path:
    """``ROOT/preregistered/<part>/<method>-<packing>`` (part: CHOICE or CONFIRM)."""
    return Path(root) / "preregistered" / part / name(method, packing)


def _turns(step: int, spans: list[tuple[str, list[str], int]]) -> list[plan.Turn]:
    """Turns of plan.TURN images over (method, packings, n) spans: turn by turn, then the
    methods in METHODS' order, then the packings in the order given."""
    turns = []
    for method, packings, n in spans:
        for end in plan.turn_ends(0, n):
            for k, packing in enumerate(packings):
                key = (-(-end // plan.TURN), list(METHODS).index(method), k)
                turns.append((key, plan.Turn(step, NET, name(method, packing), end)))
    return [t for _, t in sorted(turns, key=lambda t: t[0])]


def choice_turns() -> list[plan.Turn]:
    """Step 2's turns: for each turn of plan.TURN images (up to CHOICE_IMAGES), each
    method, each packing, cheapest packing first (the order does not matter to the choice,
    which waits for every turn; cheapest first gives the most rows per hour)."""
    return _turns(2, [(m, cheapest_first(), CHOICE_IMAGES) for m in METHODS])


def confirm_turns(choice: dict) -> list[plan.Turn]:
    """Step 3's turns from :func:`choose`'s result: for each method whose chosen packing is
    not the paper's, its chosen and the paper's packing (cheaper first) over its n images,
    turn by turn as in :func:`choice_turns`."""
    spans = [(m, [c["chosen"], PAPER], c["n_confirm"]) for m, c in choice.items()
             if c["chosen"] not in (None, PAPER)]
    return _turns(3, spans)


def load(root, part: str = CHOICE) -> dict:
    """{``<method>-<packing>``: rows} of every folder of ``part`` with rows (the last row of
    a key wins; a line cut by a kill is ignored)."""
    from dance_tf.evaluation.card_rows import load_rows

    out = {}
    for method in METHODS:
        for packing in PACKINGS:
            f = folder(root, part, method, packing)
            if (f / "rows.jsonl").is_file():
                out[name(method, packing)] = load_rows(f)
    return out


def _values(rows, variant: str, upto: int) -> dict:
    """{index: value (NaN when not finite)} of METRIC's ``variant`` rows on images < upto."""
    out = {}
    for r in rows:
        if r["metric"] == METRIC and r["variant"] == variant and r["index"] < upto:
            v = r["value"]
            out[r["index"]] = float(v) if v is not None and np.isfinite(v) else np.nan
    return out


def _mean_se(d: np.ndarray) -> tuple[float, float]:
    """mean and standard error sd / √n (ddof 1; NaN s.e. below two values)."""
    if d.size == 0:
        return float("nan"), float("nan")
    se = float(np.std(d, ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
    return float(np.mean(d)), se


def choose(rows_by_folder: dict, images: int | None = None) -> dict:
    """§7's choice per method from the first half's rows ({``<method>-<packing>``: rows};
    the first ``images`` images, CHOICE_IMAGES by default).

    The images used are those with a finite decoys + range SF row under *every* packing
    (paired; the others are counted in ``dropped``). Then:

    1. **best**: the packing with the lowest mean SF of decoys + range over those images
       (an exact tie goes to the cheaper packing);
    2. **chosen**: a packing with fewer decoys than the best replaces it when its paired
       difference d = SF(cheaper) − SF(best) is *within one standard error of that
       difference*, read as |mean d| ≤ s.e.(d) = sd(d) / √n (sample sd, ddof 1): the
       cheaper packing's mean is no more than one s.e. of the paired difference from the
       best's; equality counts as within. Since the best has the lowest mean,
       mean d ≥ 0. If several cheaper packings qualify, the cheapest (fewest decoys) is
       taken. With fewer than two images there is no s.e. and nothing is chosen.

    Returns {method: {"n", "dropped", "images" (images with every packing's decoys row),
    "mean" {packing: mean SF of decoys}, "diff" {packing: (mean, s.e.) of its paired
    difference from the best}, "best", "chosen", "sd_paper" (sd of chosen − paper over
    the same images: the confirmation's n rule), "n_confirm"}}.
    """
    upto = CHOICE_IMAGES if images is None else images
    out = {}
    for method in METHODS:
        dec = {p: _values(rows_by_folder.get(name(method, p), []), "decoys", upto)
               for p in PACKINGS}
        have = set.intersection(*(set(v) for v in dec.values()))
        ids = sorted(i for i in have if all(np.isfinite(dec[p][i]) for p in PACKINGS))
        e = {"n": len(ids), "dropped": len(have) - len(ids), "images": len(have),
             "mean": {}, "diff": {}, "best": None, "chosen": None,
             "sd_paper": float("nan"), "n_confirm": None}
        out[method] = e
        if len(ids) < 2:
            continue
        x = {p: np.array([dec[p][i] for i in ids]) for p in PACKINGS}
        e["mean"] = {p: float(x[p].mean()) for p in PACKINGS}
        lowest = min(e["mean"].values())
        best = min((p for p in PACKINGS if e["mean"][p] == lowest), key=DECOYS.__getitem__)
        e["diff"] = {p: _mean_se(x[p] - x[best]) for p in PACKINGS}
        cheaper = [p for p in cheapest_first() if DECOYS[p] < DECOYS[best]
                   and abs(e["diff"][p][0]) <= e["diff"][p][1]]
        e["best"], e["chosen"] = best, (cheaper[0] if cheaper else best)
        e["sd_paper"] = float(np.std(x[e["chosen"]] - x[PAPER], ddof=1))
        if e["chosen"] != PAPER:
            e["n_confirm"] = confirmation_n(e["sd_paper"], CAP[method])
    return out


def noninferiority_power(n: int, sd: float, delta: float = DELTA,
                         alpha: float = N_ALPHA) -> float:
    """Power of the one-sided paired t-test of H0: E[d] ≥ δ (reject when
    (mean d − δ) / (s / √n) < −t_{1−α, n−1}) when E[d] = 0 and sd(d) = sd:
    P(T > t_{1−α, n−1}), T ~ noncentral t(n − 1, δ √n / sd)."""
    if n < 2:
        return float("nan")
    return float(stats.nct.sf(stats.t.ppf(1 - alpha, n - 1), n - 1,
                              delta * np.sqrt(n) / sd))


def confirmation_n(sd: float, cap: int | None = None, delta: float = DELTA,
                   alpha: float = N_ALPHA, power: float = POWER) -> int:
    """§7's n rule: the smallest n ≥ 2 with ``power`` for the non-inferiority test of
    H0: E[d] ≥ δ at a true difference of 0, sd(d) = ``sd`` (the first half's sd of chosen −
    paper); at most ``cap``.

    **Which α.** §7 says "one-sided paired t-test, Holm over the two methods, α = 0.05".
    The n rule uses the one-sided α of Holm's strictest step over the two methods,
    0.05 / 2 = 0.025 (Bonferroni's level: a method powered there is powered at Holm's
    later step too). That is the α of §7's own numbers, "n is 10, 34, 73 and 128 for an sd
    of 0.5, 1.0, 1.5 and 2.0" (α = 0.05 would give 8, 27, 58, 101), and of
    ``reproduction/power.py``'s ``n_noninferiority``. It is used even when only one method
    is confirmed (the rule is fixed before the choice). An sd that is not finite (fewer
    than two first-half pairs) gives the cap; an sd of 0 gives 2.
    """
    if not np.isfinite(sd):
        if cap is None:
            raise ValueError(f"sd: expected a finite number, got {sd}")
        return int(cap)
    if sd <= 0:
        return 2
    n, limit = 2, 100_000 if cap is None else int(cap)
    while n < limit and noninferiority_power(n, sd, delta, alpha) < power:
        n += 1
    return n


#: :func:`confirm`'s verdict for a method that passed (read by :func:`default_reading`)
NON_INFERIOR = "non-inferior"


def confirm(rows_by_folder: dict, choice: dict) -> dict:
    """The confirmation (§7) from the second half's rows ({``<method>-<packing>``: rows})
    and :func:`choose`'s result: per method whose chosen packing is not the paper's,
    d = SF(chosen) − SF(paper) of decoys + range on its first ``n_confirm`` images (pairs
    with a non-finite score dropped and counted), the one-sided paired t-test of
    H0: E[d] ≥ DELTA, t = (mean d − δ) / (sd / √n), p = P(T_{n−1} ≤ t); Holm over the
    methods tested (two when both chose a packing other than the paper's); *non-inferior*
    when the Holm p < ALPHA. A method whose chosen packing is the paper's has nothing to
    confirm ("test" None). Returns {method: {"chosen", "registered", "n", "dropped",
    "mean", "se", "t", "p", "p_holm", "verdict"}}."""
    from dance_tf.metrics.stats import holm

    out = {}
    for method, c in choice.items():
        e = {"chosen": c["chosen"], "registered": c["n_confirm"], "n": 0, "dropped": 0,
             "mean": float("nan"), "se": float("nan"), "t": float("nan"),
             "p": float("nan"), "p_holm": float("nan")}
        out[method] = e
        if c["chosen"] in (None, PAPER):
            e["verdict"] = ("nothing to confirm (the paper's packing was chosen)"
                            if c["chosen"] == PAPER else "no choice")
            continue
        upto = c["n_confirm"]
        a = _values(rows_by_folder.get(name(method, c["chosen"]), []), "decoys", upto)
        b = _values(rows_by_folder.get(name(method, PAPER), []), "decoys", upto)
        both = sorted(set(a) & set(b))
        d = np.array([a[i] - b[i] for i in both])
        d = d[np.isfinite(d)]
        e["n"], e["dropped"] = int(d.size), len(both) - int(d.size)
        e["mean"], e["se"] = _mean_se(d)
        if d.size >= 2 and e["se"] > 0:
            e["t"] = (e["mean"] - DELTA) / e["se"]
            e["p"] = float(stats.t.cdf(e["t"], d.size - 1))
        elif d.size >= 2:   # every difference the same: below δ or not, with certainty
            e["t"] = -np.inf if e["mean"] < DELTA else np.inf
            e["p"] = 0.0 if e["mean"] < DELTA else 1.0
    tested = [e for e in out.values() if np.isfinite(e["p"])]
    for e, p in zip(tested, holm([e["p"] for e in tested]) if tested else []):
        e["p_holm"] = float(p)
    for e in out.values():
        if "verdict" not in e:
            e["verdict"] = ("not tested (fewer than 2 pairs)" if not np.isfinite(e["p"])
                            else NON_INFERIOR if e["p_holm"] < ALPHA
                            else "non-inferiority not shown")
    return out


def done(out: Path, variants, upto: int) -> bool:
    have = prereg_run.done_rows(out)
    return all((i, v, METRIC) in have for i in range(upto) for v in variants)


def choice_complete(root) -> bool:
    """Every step-2 turn done (every method × packing × variant row of CHOICE_IMAGES)."""
    return all(done(folder(root, CHOICE, m, p), CHOICE_VARIANTS, CHOICE_IMAGES)
               for m in METHODS for p in PACKINGS)


def confirm_done(root, choice: dict) -> dict:
    """{method: images < n_confirm with both packings' decoys rows} of the methods to
    confirm."""
    out = {}
    for m, c in choice.items():
        if c["chosen"] in (None, PAPER):
            continue
        have = [prereg_run.done_rows(folder(root, CONFIRM, m, p)) for p in (c["chosen"], PAPER)]
        out[m] = sum(all((i, "decoys", METRIC) in h for h in have)
                     for i in range(c["n_confirm"]))
    return out


def _num(x: float, fmt: str = "{:.3f}") -> str:
    return "–" if x is None or not np.isfinite(x) else fmt.format(x)


def _pm(m: float, se: float) -> str:
    return "–" if not np.isfinite(m) else f"{m:+.3f} ± {_num(se)}"


def _p(p: float) -> str:
    return "–" if not np.isfinite(p) else ("< 0.0001" if p < 1e-4 else f"{p:.4f}")


def choice_lines(data: dict, choice: dict) -> list[str]:
    """The first half's table: method × packing (cheapest first)."""
    lines = ["| method | packing | 2n at 224² | n | mean SF plain | mean SF decoys | "
             "decoys − plain ± s.e. | difference from the best ± s.e. |",
             "|---|---|---|---|---|---|---|---|"]
    for method in METHODS:
        c = choice[method]
        for p in cheapest_first():
            rows = data.get(name(method, p), [])
            plain, dec = (_values(rows, v, CHOICE_IMAGES) for v in CHOICE_VARIANTS)
            ids = [i for i in set(plain) & set(dec)
                   if np.isfinite(plain[i]) and np.isfinite(dec[i])]
            x = np.array([plain[i] for i in ids])
            y = np.array([dec[i] for i in ids])
            diff = ("best" if p == c["best"] else
                    _pm(*c["diff"][p]) if p in c["diff"] else "–")
            lines.append(f"| {method} | {p} | {DECOYS[p]} | {len(ids)} | "
                         f"{_num(x.mean() if x.size else np.nan)} | "
                         f"{_num(y.mean() if y.size else np.nan)} | "
                         f"{_pm(*_mean_se(y - x))} | {diff} |")
    return lines


def section(root) -> list[str]:
    """The Markdown lines of §7's section of REPRODUCTION.md ([] before any packing row)."""
    from dance_tf.study.prereg_tables import stopped

    if not (Path(root) / "preregistered" / CHOICE).is_dir():
        return []
    data = load(root, CHOICE)
    choice = choose(data)
    complete = choice_complete(root)
    lines = ["## Packing on large images (issue 26, PREREGISTRATION.md §7)", "",
             "**Choice** (first half, exploration; no test decides it). EfficientNet-Lite0, "
             f"SF top 20 % (fill 0), the first {CHOICE_IMAGES} first-half images in the "
             "registered order. n: images with both rows of that packing; the difference "
             "from the best is SF(packing) − SF(best) of decoys + range, paired over the "
             "images every packing of the method has.", "", *choice_lines(data, choice), ""]
    if not complete:
        done = min(c["images"] for c in choice.values())
        return lines + [f"The choice waits for every packing's rows on all {CHOICE_IMAGES} "
                        f"images ({done} done); the confirmation waits for the choice.", ""]
    lines += ["Rule (§7): the packing with the lowest mean SF of decoys + range; a cheaper "
              "one replaces it when |mean difference| ≤ one s.e. of that difference (the "
              "cheapest such). The confirmation's n is the smallest with 80 % power at a "
              f"true difference of 0 for H0: E[d] ≥ {DELTA} (one-sided α = {N_ALPHA}, "
              "Holm's first step over the two methods), from the first half's sd of "
              "chosen − paper, capped.", "",
              "| method | best | chosen | n | sd of chosen − paper | confirmation n (cap) |",
              "|---|---|---|---|---|---|"]
    for m, c in choice.items():
        n = "–" if c["n_confirm"] is None else f"{c['n_confirm']} ({CAP[m]})"
        lines.append(f"| {m} | {c['best'] or '–'} | {c['chosen'] or '–'} | {c['n']} | "
                     f"{_num(c['sd_paper'])} | {n} |")
    todo = confirm_done(root, choice)
    lines += [""]
    if not todo:
        return lines + ["Nothing to confirm: no method chose a packing other than the "
                        "paper's (§7).", ""]
    lines += ["**Confirmation** (second half, Lite0; its own family). d = SF(chosen) − "
              f"SF(paper) of decoys + range; one-sided paired t-test of H0: E[d] ≥ {DELTA}, "
              f"Holm over the methods tested, α = {ALPHA}. Progress:", "",
              "| method | chosen | registered n | images done | power at n |",
              "|---|---|---|---|---|"]
    for m, k in todo.items():
        c = choice[m]
        lines.append(f"| {m} | {c['chosen']} | {c['n_confirm']} | {k} | "
                     f"{_num(noninferiority_power(c['n_confirm'], c['sd_paper']), '{:.2f}')} |")
    finished = all(k >= choice[m]["n_confirm"] for m, k in todo.items())
    stop = stopped(root)
    if not finished and stop is None:
        return lines + ["", "The confirmation has not finished: its test is withheld until "
                        "every image of its n is done (no interim looks). Only the counts "
                        "above are shown.", ""]
    res = confirm(load(root, CONFIRM), choice)
    lines += ["", "| method | n / registered | dropped | mean d ± s.e. | t | p (one-sided) | "
              "Holm p | verdict |", "|---|---|---|---|---|---|---|---|"]
    for m, e in res.items():
        if m not in todo:
            continue
        flag = "" if todo[m] >= e["registered"] else " (n not reached: the study stopped)"
        lines.append(f"| {m} | {e['n']} / {e['registered']}{flag} | {e['dropped']} | "
                     f"{_pm(e['mean'], e['se'])} | {_num(e['t'], '{:.2f}')} | {_p(e['p'])} | "
                     f"{_p(e['p_holm'])} | {e['verdict']} |")
    return lines + ["", default_reading(res), ""]


def default_reading(res: dict) -> str:
    """The default packing for large inputs read from :func:`confirm`'s result by §7 and
    amendment 2, point 8: `auto` only when every method chose a packing other than the
    paper's and each was shown non-inferior; when the methods disagree (one kept the
    paper's, or one was not shown non-inferior), the paper's stays."""
    passed = [m for m, e in res.items() if e["verdict"] == NON_INFERIOR]
    if passed and len(passed) == len(res):
        return ("Default (§7, amendment 2 point 8): every method's cheaper packing was shown "
                "non-inferior, so the default for large inputs becomes `auto`.")
    kept = [m for m, e in res.items() if e["chosen"] == PAPER]
    failed = [m for m in res if m not in passed and m not in kept]
    why = ", ".join(part for part in (
        f"{', '.join(passed)} shown non-inferior" if passed else "",
        f"{', '.join(kept)} chose the paper's packing" if kept else "",
        f"non-inferiority not shown for {', '.join(failed)}" if failed else "") if part)
    return (f"Default (§7, amendment 2 point 8): the paper's packing stays ({why}); "
            "the README says what to pass instead.")
