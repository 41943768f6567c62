"""The sensitivity tables of REPRODUCTION.md: to attacks on the input (Fig. 4 / Table S6;
SS with against without decoys) and to the model's weights (cascading randomisation, S6 /
Fig. S2; SSIM to the trained model's map), on the second half."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from dance_tf.study import claims as cl
from dance_tf.study.conditions import Condition
from dance_tf.study.rows import Study
from dance_tf.study.verdicts import compare, format_p


def attacks_section(study: Study, conds: list[Condition], lines: list[str]) -> None:
    done = [c for c in conds if c.group == "attacks" and c.name in study.data]
    if not done:
        return
    lines += ["## Sensitivity under attacks (Fig. 4 / Table S6; SS with − without decoys)",
              ""]
    lines += ["| task | attack | method | paper | SS without | SS with | difference ± s.e. | "
              "p | n | label kept | verdict |", "|---" * 11 + "|"]
    unchanged: dict = {}
    for c in done:
        rows = study.data[c.name][1]
        second = set(study.split(c)[1])
        for attack in sorted({r["variant"] for r in rows}):
            for m in c.methods:
                every = [r for r in rows if r["variant"] == attack and r["method"] == m
                         and r["id"] in second]
                # an attack that left x unchanged has no sensitivity (0/0): counted apart
                sel = [r for r in every if r.get("linf", 1.0) > 0
                       and np.isfinite(r["ss_none"]) and np.isfinite(r["ss_decoys"])]
                unchanged[(c.task, attack[7:], m)] = (len(every) - len(sel), len(every))
                if len(sel) < 2:
                    continue
                st = compare([r["ss_decoys"] for r in sel], [r["ss_none"] for r in sel])
                study.family.append((f"{c.name} {attack[7:]} {m} SS", st))
                kept = np.mean([r["label_after_attack"] == r["target"] for r in sel])
                paper = (cl.TABLE_S6.get((m, attack[7:])) if c.task == "imagenet"
                         else cl.NOT_IN_PAPER)
                lines.append(f"| {c.task} | {attack[7:]} | {cl.METHOD_NAMES.get(m, m)} | "
                             f"{paper.text() if paper else '–'} | {st.baseline:.3f} | "
                             f"{st.ours:.3f} | {st.mean:+.3f} ± {st.se:.3f} | "
                             f"{format_p(st.p)} | {st.n} | {kept:.0%} | {st.verdict} |")
    lines.append("")
    for (task, attack, m), (bad, n) in sorted(unchanged.items()):
        if bad:
            lines += [f"- {task}, {attack}, {m}: the attack left {bad} of {n} inputs unchanged "
                      "(no sensitivity; not in the table)."]
    if any(bad for bad, _ in unchanged.values()):
        lines.append("")



def sanity_section(study: Study, conds, lines: list[str]) -> None:
    """S6 / Fig. S2: SSIM to the trained model's map after each cascade step."""
    for c in conds:
        if c.group != "sanity" or c.name not in study.data:
            continue
        rows = study.data[c.name][1]
        ssim = defaultdict(dict)
        layer = {}
        for r in rows:
            ssim[(r["variant"], r["stage"])][r["id"]] = r["ssim"]
            layer[r["stage"]] = r["layer"]
        stages = sorted(s for s in layer if s > 0)
        ids = sorted({r["id"] for r in rows})
        lines += [f"## Cascading randomisation (S6 / Fig. S2; {c.task}, {c.note})", "",
                  f"SSIM of the map after randomising the top 1, 2, … weighted layers to the "
                  f"trained model's map (0–1 normalised |map|; 1 = unchanged); {c.methods[0]}, "
                  f"n = {len(ids)} ({c.half} half). Lower means the map depends more on the "
                  "learned weights.", "",
                  "| step | layer randomised | SSIM without decoys | SSIM with decoys | "
                  "with − without ± s.e. | p (with lower) |", "|---" * 6 + "|"]
        for s_ in stages:
            a, b = ssim[("decoys", s_)], ssim[("none", s_)]
            common = [i for i in ids if i in a and i in b]
            st = compare([a[i] for i in common], [b[i] for i in common])
            lines.append(f"| {s_} | {layer[s_]} | {st.baseline:.3f} | {st.ours:.3f} | "
                         f"{st.mean:+.3f} ± {st.se:.3f} | {format_p(st.p)} |")
        floor = ssim.get(("decoys", 0), {})
        last = ssim.get(("decoys", stages[-1]), {}) if stages else {}
        common = [i for i in ids if i in floor and i in last]
        if len(common) >= 2:
            st = compare([last[i] for i in common], [floor[i] for i in common])
            study.family.append((f"{c.name} SSIM after the cascade vs seed floor", st))
            lines += ["", f"Claim (S6: DANCE maps depend on the learned weights): SSIM with "
                      f"decoys after the full cascade {st.ours:.3f} against {st.baseline:.3f} "
                      f"between two decoy seeds on the trained model (the map's own noise "
                      f"floor): difference {st.mean:+.3f} ± {st.se:.3f}, p {format_p(st.p)}, "
                      f"n = {st.n}: **{st.verdict}**."]
            if st.baseline > 0.999:
                lines.append("(The default line-search decoys have no random start, so two "
                             "seeds give the same map and the floor is 1.)")
        lines.append("")
