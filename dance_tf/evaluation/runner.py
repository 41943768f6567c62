"""The evaluation runner: every input × method × variant of a task, as rows of
``OUT/results*.jsonl`` (resumable: what is done is skipped)."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from dance_tf.evaluation import stop_request
from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.digests import input_digest
from dance_tf.evaluation.results import EvaluationError, ResultsFile, output_folder
from dance_tf.evaluation.rows import RunContext, attack_row, write_row
from dance_tf.evaluation.run_config import ensure_config, row_checker, run_config
from dance_tf.evaluation.variants import EXPLAINER_VARIANTS, method_options
from dance_tf.progress import progress


def load_task(config: EvalConfig, log=print):
    """The task of ``config`` (its inputs, count, seeds, model), with the explainer options
    of ``config.options`` applied (``preprocessing`` is the model's, not the explainer's)."""
    from dance_tf.tasks import build_task

    options = {"input": config.input, "model": config.model, "count": config.count,
               "seed": config.seed, "split_seed": config.split_seed, "log": log,
               "options": dict(config.options)}
    task = build_task(config.task, options)
    task.explainer_options.update({k: v for k, v in config.options.items()
                                   if k != "preprocessing"})
    return task


def evaluate(task, config: EvalConfig, log=print) -> Path:
    """Run the evaluation of ``task`` into ``config.out``; returns the results file path."""
    import tensorflow as tf

    from dance_tf.distribute import make_strategy, worker_shard
    from dance_tf.model_contract import logits_model
    from dance_tf.saliency.registry import resolve_method

    shard_index, num_shards = config.shard_index, config.num_shards
    if config.strategy == "multi-worker":
        shard_index, num_shards = worker_shard()
    strategy = make_strategy("mirrored" if config.strategy != "none" else "none")

    if config.attacks and task.feature_ndim != 2:
        raise ValueError(f"--attacks: the explanation attacks need image inputs; task "
                         f"{task.name!r} has other inputs")
    for m in config.methods:   # an unknown method stops before anything is written
        resolve_method(m)
    out = Path(config.out)
    outputs = output_folder(out, config.force)   # refuses before anything is written
    explainers = explainers_of(task, config)     # so does every bad option
    cfg = run_config(task, config)
    digest = ensure_config(out, cfg)
    shard = f".shard-{shard_index}-of-{num_shards}" if num_shards > 1 else ""
    results = ResultsFile(out / f"results{shard}.jsonl", row_checker(cfg, digest))
    indices = [i for i in range(len(task.inputs)) if i % num_shards == shard_index]
    todo = _todo(task, config, results, indices, log)
    bar = progress(len(todo), desc=task.name, unit="rows", enabled=not config.quiet,
                   every=30.0)
    shape0 = tuple(np.asarray(task.inputs[0]).shape)
    logits, _ = logits_model(task.model, shape0)
    run = RunContext(task, config, digest, results, logits, outputs)
    try:
        _compute(run, explainers, todo, strategy, bar)
    finally:
        bar.close()
        results.close()
    tf.keras.backend.clear_session()
    return results.path


def _variants(config: EvalConfig) -> list[str]:
    return list(config.variants) + [f"attack:{a}" for a in config.attacks]


def _todo(task, config: EvalConfig, results: ResultsFile, indices: list[int],
          log) -> list[tuple[int, str, str]]:
    """The rows (input index, method, variant) still to compute: absent, or lacking a K
    (a row computed on another input under the same id is an EvaluationError)."""
    variants = _variants(config)
    ks = {str(k) for k in config.k}
    todo, redo = [], 0
    for i in indices:
        digest = None
        for m in config.methods:
            for v in variants:
                row = results.done.get((task.ids[i], m, v))
                if row is not None:
                    digest = digest or input_digest(task.inputs[i])
                    if row.get("input") != digest:
                        raise EvaluationError(
                            f"{results.path}: the row of {task.ids[i]!r} ({m}, {v}) was "
                            "computed on a different input under the same id (the data "
                            "changed?); use another --out")
                    complete = (row.get("k") == config.k[0] if v.startswith("attack:")
                                else ks <= set(row["sf"]))
                    if complete:
                        continue
                    redo += 1
                todo.append((i, m, v))
    total = len(indices) * len(config.methods) * len(variants)
    log(f"{task.name}: {len(indices)} inputs × {len(config.methods)} methods × "
        f"{len(variants)} variants; {len(todo)} rows to compute"
        + (f" ({redo} again, for K = {', '.join(sorted(ks))})" if redo else "")
        + f", {total - len(todo)} already done")
    return todo


def _compute(run: RunContext, explainers: dict, todo: list[tuple[int, str, str]], strategy,
             bar) -> None:
    """Compute the rows of ``todo``, one group of inputs per step (one input per replica
    of ``strategy``), every (method, variant) of the group in turn; ``bar``: a
    ``dance_tf.progress`` counter, one step per row."""
    pending = defaultdict(list)
    for i, m, v in todo:
        pending[i].append((m, v))
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    order = sorted(pending)
    for g in range(0, len(order), replicas):
        group = order[g:g + replicas]
        xs = {i: np.asarray(run.task.inputs[i], np.float32) for i in group}
        cs = {i: int(np.argmax(run.logits(xs[i][None], training=False).numpy()[0]))
              for i in group}
        for m, v in dict.fromkeys(mv for i in group for mv in pending[i]):
            members = [i for i in group if (m, v) in pending[i]]
            _compute_rows(run, explainers, strategy, bar, m, v, members, xs, cs)


def explainers_of(task, config: EvalConfig) -> dict:
    """One explainer per (method, variant) the run needs (the without-decoys maps and the
    attacks use the ``decoys`` one), built before anything is written so that a bad
    ``--option`` (an unknown name, a value out of range) is an EvaluationError naming it.
    Each plans every input shape once and shares one compiled graph across lengths of a
    variable axis (SST)."""
    from dance_tf import Explainer

    wanted = {"decoys" if v == "none" else v for v in config.variants}
    if config.attacks:
        wanted.add("decoys")
    cache = {}
    for m in config.methods:
        for variant in sorted(wanted):
            try:
                cache[(m, variant)] = Explainer(
                    task.model, method=m, value_range=task.value_range, seed=config.seed,
                    constant=task.constant, **EXPLAINER_VARIANTS[variant],
                    **task.explainer_options, **method_options(m, config))
            except (TypeError, ValueError) as err:
                raise EvaluationError(f"--option / method {m!r}: {err}") from None
    return cache


def _compute_rows(run, explainers, strategy, bar, m, v, members, xs, cs) -> None:
    """The rows of method ``m`` and variant ``v`` for the inputs ``members``."""
    from dance_tf.distribute import explain_replicated

    if v.startswith("attack:"):
        opts = method_options(m, run.config)
        for i in members:
            row = attack_row(run, i, m, v, xs[i], cs[i], opts,
                             explainers[(m, "decoys")])
            run.results.write(row)
            _step(bar, f"{run.task.ids[i]} {m} {v}")
        return
    t0 = time.perf_counter()
    if v == "none":
        base = explainers[(m, "decoys")]
        outs = [base.base_map(xs[i], cs[i]) for i in members]
    else:
        outs = explain_replicated(explainers[(m, v)], strategy,
                                  [xs[i] for i in members], [cs[i] for i in members],
                                  return_details=True)
    seconds = (time.perf_counter() - t0) / len(members)
    for i, res in zip(members, outs):
        write_row(run, i, m, v, cs[i], res, seconds)
        _step(bar, f"{run.task.ids[i]} {m} {v}")


def _step(bar, note: str) -> None:
    """One row done; ``note`` (which row) is shown in full on the bar or the log line.
    A stop asked for meanwhile (``reproduce.py --minutes``) is raised here, between rows."""
    bar.set_postfix_str(note, refresh=False)
    bar.update(1)
    stop_request.check()
