"""``dance-tf evaluate --model FILE.keras --input FOLDER`` (or ``--metrics ...`` with any
task): a task's inputs, model and settings run through :func:`evaluate_model`, its rows
in ``OUT/rows.jsonl`` and its report in ``OUT/report.html`` / ``OUT/report.md``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dance_tf.evaluation.card_maps import CARD_VARIANTS
from dance_tf.evaluation.variants import method_options

#: variants of the command line's model-card mode when --variants is not given
CARD_DEFAULT_VARIANTS = ("none", "decoys", "matched")


def card_mode(args) -> bool:
    """Whether the parsed command line asks for the model card: ``--metrics`` given, or no
    ``--task`` with a ``.keras`` model file and an input folder (an image classifier)."""
    if getattr(args, "metrics", None) is not None:
        return True
    return (args.task is None and isinstance(args.model, str)
            and args.model.endswith(".keras") and os.path.isfile(args.model)
            and isinstance(args.input, str) and os.path.isdir(args.input))


def check_variants(value) -> tuple[str, ...]:
    from dance_tf.evaluation import checks

    return checks.some_of("--variants", value, CARD_VARIANTS)


def evaluate_task(task, *, methods, variants, metrics, out, k: float = 0.2, ig_steps=50,
                  sg_samples=50, sg_noise=0.15, seed=0, examples=4, quiet=False,
                  log=print):
    """Run :func:`evaluate_model` on a task's inputs (a batch, or a list when their
    shapes differ: SST's sentences), model and
    settings (value range, constant, explainer options; SF with the task's fill and
    ``k``); the task's labels when every input has one, else the predicted classes."""
    from types import SimpleNamespace

    from dance_tf.evaluation.model_card import evaluate_model

    labels = task.labels
    if labels is None or any(v is None for v in labels):
        labels = None
    settings = SimpleNamespace(ig_steps=ig_steps, sg_samples=sg_samples, sg_noise=sg_noise)
    if metrics is None:
        metrics_spec = None
    else:
        metrics_spec = {m: {} for m in metrics}
        if "fidelity" in metrics_spec and not callable(task.fill):
            metrics_spec["fidelity"] = {"k": k, "fill": task.fill}
    options = {"value_range": task.value_range, "seed": seed, **task.explainer_options}
    if task.constant is not None:
        options["constant"] = task.constant
    return evaluate_model(
        task.model, _batch_or_list(task.inputs), labels,
        methods=list(methods), variants=list(variants), metrics=metrics_spec, out=out,
        method_options={m: method_options(m, settings) for m in methods},
        matched_noise=sg_noise, examples=examples, quiet=quiet, log=log, **options)


def run(args, log) -> Path:
    """The model-card mode of ``dance-tf evaluate`` (``args``: its parsed flags)."""
    from dance_tf.tasks import build_task

    name = args.task or "imagenet"
    task = build_task(name, {"input": args.input, "model": args.model, "count": args.count,
                             "seed": args.seed, "split_seed": args.split_seed, "log": log,
                             "options": dict(args.options)})
    task.explainer_options.update({k: v for k, v in args.options.items()
                                   if k != "preprocessing"})
    out = Path(args.out or os.path.join("outputs", f"{name}-card"))
    evaluate_task(task, methods=args.methods, variants=args.variants,
                  metrics=args.metrics, out=out, k=args.k[0], ig_steps=args.ig_steps,
                  sg_samples=args.sg_samples, sg_noise=args.sg_noise, seed=args.seed,
                  examples=args.examples, quiet=args.quiet, log=log)
    return out


def _batch_or_list(inputs) -> np.ndarray | list:
    """One (N, *S) batch when every input has the same shape, else the list of inputs."""
    xs = [np.asarray(x, np.float32) for x in inputs]
    return np.stack(xs) if len({x.shape for x in xs}) == 1 else xs
