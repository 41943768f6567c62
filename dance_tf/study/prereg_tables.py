"""The pre-registered ImageNet study's section of REPRODUCTION.md (issue 26,
``reproduction/PREREGISTRATION.md``): how far each claim has got, always; and only once
``ROOT/preregistered/stopped.json`` exists (§4, no interim looks) the 15 confirmatory
tests of decoys − plain (§5: paired two-sided t-test, Holm, verdict, power at the n
reached), Lite0's unseen-only sensitivity analysis, and the secondary family of decoys −
each control (§6) with its reading. Each claim uses its first registered n images only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import stats

from dance_tf.study import prereg_plan as plan

ALPHA = 0.05
#: the confirmatory family's size: power is computed at Holm's strictest step α / 15
FAMILY = 15
#: the planning effects d_z of §5's table
PLANNING = {"C1": -0.485, "C2": -0.436, "C3": -0.748, "C4": -0.259, "C5": -0.545}
IMAGES = "preregistered_images.json"
VERDICTS = ("decoys help", "decoys hurt", "no difference shown", "not evaluated")


def load(root) -> dict:
    """{(net, block): rows} of every folder with rows (a later row of the same key
    replaces an earlier one, a partial last line is ignored); each row gets ``image``,
    its id in the folder's ``images.json`` (None beyond it)."""
    from dance_tf.evaluation.card_rows import load_rows

    out = {}
    for net in plan.NETS:
        for block in plan.BLOCKS:
            folder = plan.folder(root, net, block)
            if not (folder / "rows.jsonl").is_file():
                continue
            ids_file = folder / "images.json"
            ids = (json.loads(ids_file.read_text(encoding="utf-8"))["ids"]
                   if ids_file.is_file() else [])
            out[(net, block)] = [dict(r, image=ids[r["index"]] if r["index"] < len(ids)
                                      else None) for r in load_rows(folder)]
    return out


def scores(rows, metric: str, upto: int) -> dict:
    """{variant: {index: value (NaN when not finite)}} of ``metric`` on images < upto."""
    out: dict = {}
    for r in rows:
        if r["metric"] == metric and r["index"] < upto:
            value = np.nan if r["value"] is None else float(r["value"])
            out.setdefault(r["variant"], {})[r["index"]] = value
    return out


def progress_lines(root, data=None) -> list[str]:
    """Per claim × net: registered n, images with both the plain and the DANCE row of
    the claim's metric, images with every control's row, and non-finite rows (dropped)."""
    data = load(root) if data is None else data
    lines = ["| claim | net | registered n | images done | controls done | "
             "non-finite rows (dropped) |", "|---|---|---|---|---|---|"]
    for cid, claim in plan.CLAIMS.items():
        controls = plan.BLOCKS[claim.block].variants[2:]
        for net in plan.NETS:
            s = scores(data.get((net, claim.block), []), claim.metric, plan.N[net][cid])
            both = set(s.get("none", {})) & set(s.get("decoys", {}))
            ctrl = set.intersection(*(set(s.get(v, {})) for v in controls))
            bad = sum(int(np.isnan(x)) for v in s.values() for x in v.values())
            lines.append(f"| {cid} | {plan.SHORT_NET[net]} | {plan.N[net][cid]} | "
                         f"{len(both)} | {len(ctrl)} | {bad} |")
    return lines


def stopped(root) -> dict | None:
    """``ROOT/preregistered/stopped.json`` ({"date", "reason"}), None before the stop."""
    path = Path(root) / "preregistered" / "stopped.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def power(n: int, dz: float, alpha: float = ALPHA / FAMILY) -> float:
    """P(|T| > t_{1−α/2, n−1}) with T ~ noncentral t(n − 1, d_z √n): the paired two-sided
    t-test's power (both tails as upper tails: nct's far lower cdf is NaN)."""
    if n < 2:
        return float("nan")
    crit, nc = stats.t.ppf(1 - alpha / 2, n - 1), abs(dz) * np.sqrt(n)
    return float(stats.nct.sf(crit, n - 1, nc) + stats.nct.sf(crit, n - 1, -nc))


def _test(s: dict, base: str, floor: int, keep=None) -> dict:
    """decoys − ``base`` over the images having both rows (and in ``keep``): n after
    dropping non-finite pairs, dropped, and the PairedTest (None when n < 2, or when the
    drops brought n below ``floor``)."""
    from dance_tf.metrics.stats import paired_test

    a, b = s.get("decoys", {}), s.get(base, {})
    ids = sorted(i for i in set(a) & set(b) if keep is None or i in keep)
    x, y = np.array([a[i] for i in ids]), np.array([b[i] for i in ids])
    n = int(np.sum(np.isfinite(x) & np.isfinite(y)))
    # §4: "not evaluated" when dropped rows bring it below the floor; a budget that ended
    # below the floor is tested at the n reached (and flagged "n not reached")
    dropped_below = n < floor <= len(ids)
    test = paired_test(x, y) if n >= 2 and not dropped_below else None
    return {"n": n, "dropped": len(ids) - n, "test": test, "p_holm": float("nan")}


def _holm(entries: list[dict]) -> None:
    """Set ``p_holm`` of every entry with a finite p, Holm over all of them."""
    from dance_tf.metrics.stats import holm

    tested = [e for e in entries if e["test"] is not None and np.isfinite(e["test"].p)]
    for e, p in zip(tested, holm([e["test"].p for e in tested]) if tested else []):
        e["p_holm"] = float(p)


def _verdict(e: dict) -> str:
    if e["test"] is None:
        return "not evaluated"
    if not e["p_holm"] < ALPHA:
        return "no difference shown"
    return "decoys help" if e["test"].mean < 0 else "decoys hurt"


def _reading(conf: dict, secondary: list[dict]) -> str:
    """§6's reading of a claim × net: "–" unless its verdict is "decoys help"."""
    if conf["verdict"] != "decoys help":
        return "–"
    strict = [e for e in secondary if e["control"] != "mean"]
    if strict and all(e["test"] is not None and e["p_holm"] < ALPHA and e["test"].mean < 0
                      for e in strict):
        return "the decoys themselves"
    for e in strict:
        if e["test"] is None:
            continue
        if e["p_holm"] < ALPHA and e["test"].mean > 0:
            return "the extra evaluations"
        if not e["p_holm"] < ALPHA and abs(e["test"].mean) <= abs(conf["test"].mean):
            return "the extra evaluations"
    return "undecided"


def _unseen(root) -> set | None:
    """Image ids that were not Lite0 pilots (None without ``preregistered_images.json``)."""
    path = Path(root) / IMAGES
    if not path.is_file():
        return None
    items = json.loads(path.read_text(encoding="utf-8"))["images"]
    return {item["id"] for item in items if not item["seen_lite0"]}


def analysis(root, planning: dict | None = None, data=None) -> dict:
    """{"confirmatory": [...], "secondary": [...]}: one dict per claim × net (claim, net,
    registered, n, dropped, test, p_holm, verdict, power, reached, unseen, reading) and
    per claim × net × control (claim, net, control, n, dropped, test, p_holm)."""
    planning = {**PLANNING, **(planning or {})}
    data = load(root) if data is None else data
    unseen_ids = _unseen(root)
    conf, sec = [], []
    for cid, claim in plan.CLAIMS.items():
        for net in plan.NETS:
            rows = data.get((net, claim.block), [])
            s = scores(rows, claim.metric, plan.N[net][cid])
            e = {"claim": cid, "net": net, "registered": plan.N[net][cid],
                 **_test(s, "none", plan.FLOOR[net])}
            e["power"] = power(e["n"], planning[cid])
            e["reached"] = e["n"] >= e["registered"]
            e["unseen"] = None
            if net == plan.NETS[0] and unseen_ids is not None:
                keep = {r["index"] for r in rows if r["image"] in unseen_ids}
                e["unseen"] = _test(s, "none", 2, keep)
            conf.append(e)
            for control in plan.BLOCKS[claim.block].variants[2:]:
                sec.append({"claim": cid, "net": net, "control": control,
                            **_test(s, control, plan.FLOOR[net])})
    _holm(conf)
    _holm(sec)
    for e in conf:
        e["verdict"] = _verdict(e)
        e["reading"] = _reading(e, [x for x in sec
                                    if (x["claim"], x["net"]) == (e["claim"], e["net"])])
    return {"confirmatory": conf, "secondary": sec}


def _p(p: float) -> str:
    return "–" if not np.isfinite(p) else ("< 0.0001" if p < 1e-4 else f"{p:.4f}")


def _cells(t) -> str:
    """mean ± s.e. | 95 % CI | p of a PairedTest (dashes when untested)."""
    if t is None:
        return "– | – | –"
    return f"{t.mean:+.3f} ± {t.se:.3f} | [{t.low:+.3f}, {t.high:+.3f}] | {_p(t.p)}"


def _unseen_cell(u) -> str:
    if u is None or u["test"] is None:
        return "–"
    t = u["test"]
    return f"n = {u['n']}: {t.mean:+.3f} ± {t.se:.3f}, p {_p(t.p)}"


def section(root, data: dict | None = None) -> list[str]:
    """The Markdown lines of the study's section ([] without ``ROOT/preregistered``; data:
    :func:`load` of ``root`` when already loaded)."""
    if not (Path(root) / "preregistered").is_dir():
        return []
    data = load(root) if data is None else data
    lines = ["## Pre-registered ImageNet claims (issue 26)", "",
             "Registered in [reproduction/PREREGISTRATION.md](reproduction/PREREGISTRATION.md)"
             " before any of its rows: 5 claims × 3 nets, decoys + range (DANCE) against the "
             "plain map of the same method, on the second-half images in the registered "
             "order. Progress (first registered n images of each claim):", "",
             *progress_lines(root, data), ""]
    stop = stopped(root)
    if stop is None:
        return lines + ["The run has not stopped: its statistics are withheld until it does "
                        "(PREREGISTRATION.md §4, no interim looks). Only the counts above "
                        "and the run's costs below are shown.", ""]
    res = analysis(root, data=data)
    lines += [f"The run stopped on {stop.get('date', '?')}: {stop.get('reason', '?')}.", "",
              "**Confirmatory** (§5). d = score(decoys + range) − score(plain) per image, "
              "lower is better; two-sided paired t-test, Holm over the tests evaluated ("
              f"{sum(np.isfinite(e['p_holm']) for e in res['confirmatory'])} of {FAMILY}); "
              f"power at the n reached for §5's planning effect, α = 0.05/{FAMILY}. Brought "
              "below the floor by dropped rows: not evaluated.", "",
              "| claim | net | n / registered | dropped | mean d ± s.e. | 95 % CI | p | "
              "Holm p | verdict | power at n | Lite0, unseen images only |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in res["confirmatory"]:
        flag = "" if e["reached"] else " (n not reached)"
        power_cell = "–" if not np.isfinite(e["power"]) else f"{e['power']:.2f}"
        lines.append(f"| {e['claim']} | {plan.SHORT_NET[e['net']]} | {e['n']} / "
                     f"{e['registered']}{flag} | {e['dropped']} | {_cells(e['test'])} | "
                     f"{_p(e['p_holm'])} | {e['verdict']} | {power_cell} | "
                     f"{_unseen_cell(e['unseen'])} |")
    lines += ["", "\"No difference shown\" is absence of evidence, not evidence of no effect: "
              "read it beside its power. The Lite0 unseen-only test (unadjusted p) does not "
              "change a verdict.", "",
              "**Secondary** (§6). decoys + range − each control, the claim's metric; "
              "two-sided paired t-test, Holm over the comparisons evaluated ("
              f"{sum(np.isfinite(e['p_holm']) for e in res['secondary'])} of "
              f"{len(res['secondary'])}; a family of their own). A comparison below the "
              "floor is not evaluated; one without rows is left out.", "",
              "| claim | net | control | n | dropped | mean ± s.e. | 95 % CI | p | Holm p |",
              "|---|---|---|---|---|---|---|---|---|"]
    for e in (e for e in res["secondary"] if e["n"] + e["dropped"]):
        lines.append(f"| {e['claim']} | {plan.SHORT_NET[e['net']]} | {e['control']} | "
                     f"{e['n']} | {e['dropped']} | {_cells(e['test'])} | "
                     f"{_p(e['p_holm'])} |")
    lines += ["", "Reading of each \"decoys help\" (§6; decoys + mean is not part of it):", "",
              "| claim | net | verdict | reading |", "|---|---|---|---|"]
    lines += [f"| {e['claim']} | {plan.SHORT_NET[e['net']]} | {e['verdict']} | "
              f"{e['reading']} |" for e in res["confirmatory"]]
    return lines + ["", "Everything else on these maps (the other SF cut-offs, the other "
                    "metrics) is exploratory: it carries no verdict.", ""]
