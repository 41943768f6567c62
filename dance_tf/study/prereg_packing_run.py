"""Running the packing choice and its confirmation (issue 26, PREREGISTRATION.md §7; §8's
steps 2 and 3): each turn one ``evaluate_model`` call (report=False) on the first ``upto``
images, resumable like the claims' turns (:mod:`dance_tf.study.prereg_run`); the plan and
the analysis are in :mod:`dance_tf.study.prereg_packing`."""

from __future__ import annotations

import time
from pathlib import Path

from dance_tf.study import prereg_packing as pk
from dance_tf.study import prereg_plan as plan
from dance_tf.study import prereg_run


def run_turn(turn: plan.Turn, root: Path, ids: list[str], nets, seed: int, log=print) -> bool:
    """Run one step-2 or step-3 turn (False: it was already done; nothing was loaded)."""
    method, packing = pk.split(turn.block)
    part, variants = ((pk.CHOICE, pk.CHOICE_VARIANTS) if turn.step == 2
                      else (pk.CONFIRM, pk.CONFIRM_VARIANTS))
    out = pk.folder(root, part, method, packing)
    if pk.done(out, variants, turn.upto):
        return False
    prereg_run.evaluate_images(nets, turn.net, ids[:turn.upto], out, method,
                               pk.METHODS[method], pk.PACKINGS[packing], variants,
                               {pk.METRIC: {}}, seed, log)
    return True


def run_packing(root, seed: int = 0, log=print, images: Path | None = None,
                input_folder=None, nets=None) -> int:
    """§8's steps 2 and 3: every choice turn not yet done, then, once the choice is
    complete, every confirmation turn of the choice
    (:func:`~dance_tf.study.prereg_packing.choose`) not yet done; returns the turns run.
    images: the registered order (``ROOT/preregistered_images.json``); nets: as in
    :func:`dance_tf.study.prereg_run.run`. Each sitting is logged in
    ``ROOT/preregistered/packing-runs.jsonl`` with the code's commit and the choice."""
    root = Path(root)
    prereg_run.register_metrics()
    path = images or root / prereg_run.IMAGES
    first = plan.registered_images(path, "first")[:pk.CHOICE_IMAGES]
    second = plan.registered_images(path, "second")
    if len(first) < pk.CHOICE_IMAGES:
        raise ValueError(f"{path}: {len(first)} first-half images, the choice needs "
                         f"{pk.CHOICE_IMAGES}")
    nets = nets or prereg_run.Nets(log, input_folder)
    base = root / "preregistered"
    base.mkdir(parents=True, exist_ok=True)
    start, ran, status, last, chosen = time.time(), 0, "interrupted", None, None

    def one(turn, ids):
        nonlocal ran, last
        t0, last = time.time(), turn
        if run_turn(turn, root, ids, nets, seed, log):
            ran += 1
            log(f"preregistered: step {turn.step} packing {turn.block} images "
                f"1–{turn.upto}: {time.time() - t0:.0f} s")

    try:
        for turn in pk.choice_turns():
            one(turn, first)
        if not pk.choice_complete(root):
            raise RuntimeError("the packing choice's turns ran but its rows are incomplete")
        choice = pk.choose(pk.load(root, pk.CHOICE))
        chosen = {m: {"chosen": c["chosen"], "sd_paper": c["sd_paper"],
                      "n_confirm": c["n_confirm"]} for m, c in choice.items()}
        for m, c in choice.items():
            if c["n_confirm"] is not None and c["n_confirm"] > len(second):
                raise ValueError(f"{m}: the confirmation needs {c['n_confirm']} second-half "
                                 f"images, the registered order has {len(second)}")
        for turn in pk.confirm_turns(choice):
            one(turn, second)
        status = "complete"
    finally:
        prereg_run.log_sitting(base / pk.RUNS, start, ran, last, status, choice=chosen)
    return ran
