"""Running the pre-registered ImageNet claims (issue 26) turn by turn
(:func:`dance_tf.study.prereg_plan.schedule`), each turn one ``evaluate_model`` call on a
net's first ``upto`` registered second-half images, rows in
``ROOT/preregistered/<net>/<block>/rows.jsonl`` (resumable: a finished turn is skipped
without loading anything, an interrupted one resumes at its next row).

No statistics are computed or written while the study runs (PREREGISTRATION.md §4, "no
interim looks"): the per-folder report of ``evaluate_model`` is switched off, and the study
report shows only how far each claim has got until ``ROOT/preregistered/stopped.json``
exists (written by ``reproduce.py --stop-preregistered``).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np

from dance_tf.study import prereg_plan as plan

IMAGES = "preregistered_images.json"


def register_metrics() -> None:
    """The study's SF cut-offs as report-card metrics (``sf_k10`` / ``sf_k20`` /
    ``sf_k40``: ``dance_tf.metrics.fidelity`` at that K, fill 0, lower is better)."""
    from dance_tf.evaluation.card_metrics import MetricSpec, register_metric
    from dance_tf.metrics import fidelity

    for name, k in plan.SF_K.items():
        register_metric(MetricSpec(name, "model", "lower", fn=fidelity,
                                   options={"k": k, "fill": plan.FILL}))


def metric_options() -> dict:
    return {**{name: {} for name in plan.SF_K}, plan.CONTINUOUS: {}}


def done_rows(out: Path) -> set:
    """(index, variant, metric) of every finished row in ``out/rows.jsonl``."""
    from dance_tf.evaluation.card_rows import load_rows

    if not (Path(out) / "rows.jsonl").is_file():
        return set()
    return {(r["index"], r["variant"], r["metric"]) for r in load_rows(out)}


def turn_done(out: Path, block: plan.Block, upto: int) -> bool:
    have = done_rows(out)
    return all((i, v, m) in have for i in range(upto) for v in block.variants
               for m in plan.METRICS)


def record_images(out: Path, ids: list[str]) -> None:
    """Keep ``out/images.json`` (row index → image id) the longest registered prefix run
    so far; an existing list that is not a prefix of ``ids`` is refused (the registered
    order changed, or the folder belongs to another run)."""
    from dance_tf import single_file

    path = Path(out) / "images.json"
    old = json.loads(path.read_text(encoding="utf-8"))["ids"] if path.exists() else []
    if old[:len(ids)] != ids[:len(old)]:
        raise ValueError(f"{path}: its images are not the registered order's first "
                         f"{len(old)}; use another --root")
    if len(old) < len(ids):
        single_file.write_text(path, json.dumps({"ids": ids}, indent=1))


def code_commit() -> str | None:
    """The commit of the code that runs (None outside a git checkout)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class Nets:
    """One net and its images at a time (the three do not need to share memory)."""

    def __init__(self, log=print, input_folder=None):
        self.log, self.input = log, input_folder
        self.name, self.task, self.index = None, None, {}

    def get(self, net: str):
        if net != self.name:
            from dance_tf.tasks import build_task

            self.task = None
            self.task = build_task("imagenet", {"model": net, "input": self.input,
                                                "log": self.log, "options": {}})
            self.index = {tid: i for i, tid in enumerate(self.task.ids)}
            self.name = net
        return self.task

    def inputs(self, ids: list[str]) -> np.ndarray:
        missing = [i for i in ids if i not in self.index]
        if missing:
            raise ValueError(f"images: {missing[:3]} of the registered list are not in the "
                             "image folder")
        return np.stack([np.asarray(self.task.inputs[self.index[i]]) for i in ids])


def run_turn(turn: plan.Turn, root: Path, ids: list[str], nets: Nets, seed: int,
             log=print) -> bool:
    """Run one turn (False: it was already done; nothing was loaded)."""
    block = plan.BLOCKS[turn.block]
    out = plan.folder(root, turn.net, turn.block)
    if turn_done(out, block, turn.upto):
        return False
    evaluate_images(nets, turn.net, ids[:turn.upto], out, block.method, block.method_options,
                    block.packing, block.variants, metric_options(), seed, log)
    return True


def evaluate_images(nets, net: str, ids: list[str], out: Path, method: str,
                    method_options: dict, packing: dict, variants, metrics: dict, seed: int,
                    log=print) -> None:
    """One turn's ``evaluate_model`` call (the claims' and the packing's): ``method`` on
    ``net``'s images ``ids`` under the DANCE ``packing``, rows in ``out`` (no report:
    nothing looks at a statistic while the study runs)."""
    from dance_tf.evaluation.model_card import evaluate_model

    task = nets.get(net)
    out.mkdir(parents=True, exist_ok=True)
    record_images(out, ids)
    options = {**task.explainer_options, **packing, "value_range": task.value_range,
               "seed": seed}
    if task.constant is not None:
        options["constant"] = task.constant
    evaluate_model(task.model, nets.inputs(ids), None, methods=[method],
                   variants=list(variants), metrics=metrics, out=out,
                   method_options={method: dict(method_options)}, matched_noise=0.15,
                   examples=0, quiet=True, log=log, report=False, **options)


def log_sitting(path: Path, start: float, ran: int, last, status: str, **extra) -> None:
    """Append one sitting of a runner to ``path``: start, wall time, turns run, the last
    turn reached, status, the code's commit and ``extra``."""
    from dance_tf.study.folders import append_line

    append_line(path, json.dumps({
        "start": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)),
        "wall_seconds": round(time.time() - start, 1), "turns_run": ran,
        "last_turn": None if last is None else last.__dict__, "status": status,
        **extra, "commit": code_commit()}))


def run(root: Path, seed: int = 0, log=print, images: Path | None = None,
        input_folder=None, turns: list | None = None, nets=None) -> int:
    """Run every turn of ``turns`` (the schedule) not yet done, in order; returns the turns
    run. images: the registered order (``ROOT/preregistered_images.json``); nets: where the
    nets and images come from (:class:`Nets`).
    Each sitting is logged in ``ROOT/preregistered/runs.jsonl`` with the code's commit."""
    root = Path(root)
    register_metrics()
    ids = plan.registered_images(images or root / IMAGES)
    nets = nets or Nets(log, input_folder)
    base = root / "preregistered"
    base.mkdir(parents=True, exist_ok=True)
    start, ran, status, last = time.time(), 0, "interrupted", None
    try:
        for turn in plan.schedule() if turns is None else turns:
            t0 = time.time()
            last = turn
            if run_turn(turn, root, ids, nets, seed, log):
                ran += 1
                log(f"preregistered: step {turn.step} {plan.SHORT_NET[turn.net]} "
                    f"{turn.block} images 1–{turn.upto}: {time.time() - t0:.0f} s")
        status = "complete"
    finally:
        log_sitting(base / "runs.jsonl", start, ran, last, status)
    return ran
