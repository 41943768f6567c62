"""Running one condition of the study: through ``dance_tf.evaluation.runner.evaluate``
(the S6 sanity condition through :mod:`dance_tf.study.sanity_run`), resumable, its rows
packed and its sitting logged in the condition folder (:mod:`dance_tf.study.folders`)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from dance_tf import single_file
from dance_tf.errors import OutputError
from dance_tf.evaluation.results import EvaluationError
from dance_tf.study.conditions import Condition
from dance_tf.study.folders import load_rows, log_run, pack, unpack
from dance_tf.study.open_choices import FILLS, register_methods
from dance_tf.study.verdicts import halves


def run(cond: Condition, root: Path, seed: int = 0, log=print) -> Path:
    """Run one condition through ``dance_tf.evaluation.runner.evaluate`` (resumes, packs
    the rows and logs the wall time even when interrupted); returns its folder. A run the
    evaluation refuses (another configuration, a file it did not write) packs nothing and
    logs nothing: the committed rows stay as they are."""
    from dance_tf.evaluation import cli as evaluation_cli
    from dance_tf.evaluation import runner
    from dance_tf.evaluation.config import EvalConfig
    from dance_tf.tasks import build_task

    if cond.group == "prereg":
        from dance_tf.study import prereg_packing_run, prereg_run
        from dance_tf.study import prereg_plan as plan

        # §8's order: step 1 (claims to the floors), steps 2 and 3 (the packing choice and
        # its confirmation), step 4 (the claims to their registered n)
        nets, turns = prereg_run.Nets(log), plan.schedule()
        prereg_run.run(Path(root), seed=seed, log=log, nets=nets,
                       turns=[t for t in turns if t.step == 1])
        prereg_packing_run.run_packing(Path(root), seed=seed, log=log, nets=nets)
        prereg_run.run(Path(root), seed=seed, log=log, nets=nets,
                       turns=[t for t in turns if t.step == 4])
        return Path(root) / "preregistered"
    register_methods()
    folder = Path(root) / cond.folder
    folder.mkdir(parents=True, exist_ok=True)
    unpack(folder, log)
    args = evaluation_cli.parse(cond.argv(root, seed), prog="reproduce.py")
    options = {"input": None, "model": None, "count": args.count, "seed": args.seed,
               "split_seed": args.split_seed, "log": log, "options": args.options}
    task = build_task(cond.task, options)
    task.explainer_options.update({k: v for k, v in args.options.items()
                                   if k != "preprocessing"})
    if cond.fill is not None:
        task.fill = FILLS[cond.fill]
    if cond.half in ("first", "second"):
        keep = set(halves(task.ids)[0 if cond.half == "first" else 1])
        idx = [i for i, t in enumerate(task.ids) if t in keep]
        task.inputs = [task.inputs[i] for i in idx]
        task.ids = [task.ids[i] for i in idx]
        if task.labels is not None:
            task.labels = [task.labels[i] for i in idx]
        if not idx:
            log(f"{cond.name}: no input of the first {cond.count} is in the {cond.half} "
                "half; nothing to run")
            return folder
    if cond.group == "sanity":
        from dance_tf.study import sanity_run

        return sanity_run.run(task, folder, cond.methods[0], seed=seed, log=log)
    if cond.group == "card":
        return card_run(cond, task, folder, args, seed, log)
    before = len(load_rows(folder, log)[1]) if (folder / "config.json").exists() else 0
    start = time.time()
    status = "interrupted"
    try:
        runner.evaluate(task, EvalConfig.from_namespace(args), log=log)
        status = "complete"
    except (EvaluationError, OutputError):
        status = "refused"   # before any row was computed
        raise
    finally:
        if status != "refused":
            pack(folder)
            after = len(load_rows(folder, log)[1])
            log_run(folder, start, before, after, status)
            if cond.examples and cond.task == "imagenet":
                save_examples(folder, task)
    return folder


def save_examples(folder: Path, task) -> None:
    """Keep the ImageNet example maps small and committable: the displayed image (uint8)
    and |map| averaged over channels (float16) without and with decoys, in examples.npz."""
    maps = Path(folder) / "maps"
    if not maps.is_dir():
        return
    from dance_tf.plots.images import display_image, magnitude

    out = {}
    for i, tid in enumerate(task.ids):
        a, b = maps / f"{tid}__gradient__none.npy", maps / f"{tid}__gradient__decoys.npy"
        if a.exists() and b.exists():
            img = display_image(np.asarray(task.inputs[i]))
            out[f"{tid}|image"] = (img * 255).round().astype(np.uint8)
            out[f"{tid}|none"] = magnitude(np.load(a)).astype(np.float16)
            out[f"{tid}|decoys"] = magnitude(np.load(b)).astype(np.float16)
    if out:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **out)
        single_file.write_bytes(Path(folder) / "examples.npz", buffer.getvalue())


def card_run(cond: Condition, task, folder: Path, args, seed: int, log) -> Path:
    """The report card's metrics of ``cond`` on ``task``'s inputs through
    ``evaluation.evaluate_model`` (``folder/rows.jsonl``, resumable; its sitting logged)."""
    from dance_tf.evaluation.card_cli import evaluate_task

    rows = folder / "rows.jsonl"

    def count() -> int:
        return len(rows.read_text().splitlines()) if rows.exists() else 0

    before, start, status = count(), time.time(), "interrupted"
    try:
        evaluate_task(task, methods=cond.methods, variants=cond.variants,
                      metrics=list(cond.metrics), out=folder, k=cond.k[0],
                      ig_steps=args.ig_steps, sg_samples=args.sg_samples,
                      sg_noise=args.sg_noise, seed=seed, examples=cond.examples, quiet=True,
                      log=log)
        status = "complete"
    finally:
        log_run(folder, start, before, count(), status)
    return folder
