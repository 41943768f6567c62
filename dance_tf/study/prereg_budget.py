"""What is left of the pre-registered run (issue 26, ``PREREGISTRATION.md`` §8), in hours at
the rates the run itself measured: the number a project needs to decide its budget.

Costs are not outcomes: nothing here reads a score, so it may be shown while the run goes on
(the no-interim-looks rule of §4 is about the scores).

* Rate of a block on a net: seconds per image = the mean, over images with every variant's
  map, of the sum of their maps' own times (``map_seconds`` of the rows), times the
  overhead of the sittings (their wall time ÷ the map time of every row they wrote: model
  loading, scoring). A block not yet measured on a net takes Lite0's rate of that block
  times §8's cost factor of the net (1.8, 3.0); a block not measured anywhere, §8's
  planned Lite0 seconds times that factor.
* Steps 1 and 4 (the claims): images still missing in each turn of the schedule × rate.
  Steps 2 and 3 (the packing choice and its confirmation) are §8's planned hours until
  they are done (step 3's is an upper bound: its n is set by step 2).
"""

from __future__ import annotations

from pathlib import Path

from dance_tf.study import prereg_cost, prereg_packing, prereg_tables
from dance_tf.study import prereg_plan as plan

#: §8: cost of a net relative to Lite0 (multiply-adds × decoys)
COST = {"efficientnet_lite0": 1.0, "efficientnet_lite1": 1.8, "efficientnet_lite2": 3.0}
#: §8's planned Lite0 seconds per image of each block (all its variants)
PLANNED = {"gradient": 119.0, "smoothgrad": 224.0, "integrated_gradients": 160.0,
           "expected_gradients": 172.0}
#: §8's planned hours of the packing choice (step 2) and its confirmation (step 3, at most)
PLANNED_PACKING_HOURS = {2: 8.4, 3: 16.3}


def image_seconds(rows, variants) -> dict[int, float]:
    """{image index: summed map seconds} of the images with a row of every variant."""
    times: dict = {}
    for r in rows:
        times[(r["index"], r["variant"])] = float(r.get("map_seconds") or 0.0)
    images = {i for i, _ in times}
    return {i: sum(times[(i, v)] for v in variants) for i in sorted(images)
            if all((i, v) in times for v in variants)}


def overhead(root, data: dict) -> float:
    """Wall seconds of the claims' sittings (``runs.jsonl``) ÷ the map seconds of every
    row, at least 1.0 (a sitting still running has rows but no wall time yet)."""
    wall = sum(e["wall_seconds"] for e in prereg_cost.log_entries(root, "runs.jsonl"))
    maps = sum(float(r.get("map_seconds") or 0.0) for rows in data.values() for r in
               {(r["index"], r["variant"]): r for r in rows}.values())
    return max(1.0, wall / maps) if wall > 0 and maps > 0 else 1.0


def rates(data: dict, factor: float = 1.0) -> dict[tuple[str, str], tuple[float, str]]:
    """{(net, block): (seconds per image, where it comes from)} for every net and block:
    "measured on n images", "Lite0 × f" or "§8 plan × f"."""
    measured = {}
    for (net, block), rows in data.items():
        per = image_seconds(rows, plan.BLOCKS[block].variants)
        if per:
            measured[(net, block)] = (sum(per.values()) / len(per) * factor,
                                      f"measured on {len(per)} image{'s' if len(per) > 1 else ''}")
    out = {}
    lite0 = plan.NETS[0]
    for net in plan.NETS:
        for block in plan.BLOCKS:
            if (net, block) in measured:
                out[(net, block)] = measured[(net, block)]
            elif (lite0, block) in measured:
                out[(net, block)] = (measured[(lite0, block)][0] * COST[net],
                                     f"Lite0 × {COST[net]}")
            else:
                out[(net, block)] = (PLANNED[block] * COST[net], f"§8 plan × {COST[net]}")
    return out


def done_images(rows, variants) -> int:
    """Images 0, 1, ... done in a row (every variant's map), the count a turn resumes at."""
    have = set(image_seconds(rows, variants))
    n = 0
    while n in have:
        n += 1
    return n


def hours_left(root, data: dict) -> dict:
    """{"steps": {step: hours}, "planned": {step: bool}, "rates": rates(...),
    "overhead": factor}: the hours left of each step of §8 at the measured rates.
    data: the claims' rows, ``prereg_tables.load(root)``."""
    factor = overhead(root, data)
    rate = rates(data, factor)
    steps = {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}
    planned = {1: False, 2: False, 3: False, 4: False}
    done = {(net, b): done_images(data.get((net, b), []), plan.BLOCKS[b].variants)
            for net in plan.NETS for b in plan.BLOCKS}     # once, not once per turn
    last: dict = {}
    for turn in plan.schedule():
        key = (turn.net, turn.block)
        start = max(last.get(key, 0), done[key])
        steps[turn.step] += max(0, turn.upto - start) * rate[key][0] / 3600
        last[key] = turn.upto
    if not prereg_packing.choice_complete(root):
        steps[2], steps[3] = PLANNED_PACKING_HOURS[2], PLANNED_PACKING_HOURS[3]
        planned[2] = planned[3] = True
    elif not _confirmation_complete(root):
        steps[3], planned[3] = PLANNED_PACKING_HOURS[3], True
    return {"steps": steps, "planned": planned, "rates": rate, "overhead": factor}


def _confirmation_complete(root) -> bool:
    """Every method to confirm has its n (true when step 2 chose the paper's packing)."""
    choice = prereg_packing.choose(prereg_packing.load(root))
    done = prereg_packing.confirm_done(root, choice)
    return all(done[m] >= choice[m]["n_confirm"] for m in done)


def lines(root, data: dict) -> list[str]:
    """Markdown: the hours left per step and the rates they rest on (data: as
    :func:`hours_left`)."""
    res = hours_left(root, data)
    steps, planned = res["steps"], res["planned"]
    names = {1: "claims to the floors", 2: "packing choice", 3: "packing confirmation",
             4: "claims to the registered n"}
    cells = [f"step {s} ({names[s]}) {'≤ ' if planned[s] and s == 3 else ''}"
             f"{h:.1f} h{' (§8 plan)' if planned[s] else ''}" for s, h in steps.items()]
    out = [f"Left at the run's own rates: {'; '.join(cells)}; **total "
           f"{sum(steps.values()):.0f} h** of this 2-core machine. Seconds per image of each "
           f"block (all its variants; map times × {res['overhead']:.2f}, the sittings' wall "
           "÷ map time):", "",
           "| net | " + " | ".join(plan.BLOCKS) + " |",
           "|---|" + "---|" * len(plan.BLOCKS)]
    for net in plan.NETS:
        out.append(f"| {plan.SHORT_NET[net]} | " + " | ".join(
            f"{res['rates'][(net, b)][0]:.0f} ({res['rates'][(net, b)][1]})"
            for b in plan.BLOCKS) + " |")
    return out + [""]


def section(root, data: dict | None = None) -> list[str]:
    """REPRODUCTION.md's lines on the hours left, while the run goes on ([] before any
    row of the claims and after ``--stop-preregistered``; data: as :func:`hours_left`, loaded
    here when not given)."""
    if not (Path(root) / "preregistered").is_dir() or prereg_tables.stopped(root):
        return []
    return ["### What is left of the pre-registered run", "",
            *lines(root, prereg_tables.load(root) if data is None else data)]
