"""The rows of an evaluation: one scored map, or one attacked input (§4.4)."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.digests import input_digest
from dance_tf.evaluation.results import ResultsFile


@dataclass(frozen=True)
class RunContext:
    """What every row of one run shares: the task, its settings, the folder's
    configuration digest, the results file, the model's logits and the output folder
    (dance_tf.output_folder.OutputFolder) the example maps go to."""

    task: object
    config: EvalConfig
    digest: str
    results: ResultsFile
    logits: object
    outputs: object


def write_row(run: RunContext, i: int, m: str, v: str, c: int, res, seconds: float) -> None:
    """Score one map (fidelity at each K) and append its row; save maps of examples."""
    from dance_tf.features import feature_scores
    from dance_tf.metrics import fidelity, fidelity_continuous

    task, logits = run.task, run.logits
    extra = {}
    sal = res
    if not isinstance(res, np.ndarray):
        sal = res.saliency
        extra = {"n_items": int(len(res.decoys)), "certified": float(np.mean(res.certified)),
                 "max_deviation": float(np.max(res.max_deviation)), "epsilon": res.epsilon,
                 "steps_mean": float(np.mean(res.steps)), "steps_max": int(np.max(res.steps)),
                 "layer": res.layer}
    x = np.asarray(task.inputs[i], np.float32)
    feat = feature_scores(sal, task.feature_ndim, "abs_mean")
    fill = task.fill(x) if callable(task.fill) else task.fill   # per-input fill (a blur)
    sf = {str(k): float(fidelity(logits, x[None], feat[None], [c], k=k, fill=fill)[0])
          for k in run.config.k}
    extra["sf_continuous"] = float(fidelity_continuous(logits, x[None], feat[None], [c])[0])
    if i < run.config.examples:
        run.outputs.write(f"maps/{task.ids[i]}__{m}__{v}.npy", lambda p: np.save(p, sal))
    old = run.results.done.get((task.ids[i], m, v))
    if old is not None:   # recomputed for a new K: same configuration, keep the other Ks
        sf = {**old["sf"], **sf}
    label = None if task.labels is None or task.labels[i] is None else int(task.labels[i])
    run.results.write({"task": task.name, "id": task.ids[i], "index": i, "method": m,
                       "variant": v, "target": c, "label": label, "sf": sf,
                       "seconds": seconds, "config": run.digest, "input": input_digest(x),
                       **extra})


def attack_row(run: RunContext, i: int, m: str, v: str, x: np.ndarray, c: int, opts: dict,
               explainer) -> dict:
    """Attack one input against method m's map (§4.4) and score the maps of x and x̂
    without and with decoys: SS (Eq. 7, maps binarised to the first K), top-k
    intersection, Spearman rank correlation, centre-of-mass shift in pixels."""
    from dance_tf import attacks

    task, logits, k = run.task, run.logits, run.config.k[0]
    kind = v.split(":", 1)[1]
    attack = getattr(attacks, f"{kind}_attack")
    t0 = time.perf_counter()
    x_adv = attack(logits, x[None], np.array([c]), value_range=task.value_range, method=m,
                   method_options=opts or None, iterations=run.config.attack_iterations)
    attack_seconds = time.perf_counter() - t0

    def without(batch):
        return explainer.base_map(batch, [c] * len(batch))

    def with_decoys(batch):
        return np.stack([explainer.explain(b, target=c) for b in batch])

    rep = attacks.robustness_report(x[None], x_adv, {"none": without, "decoys": with_decoys},
                                    k=k)
    label_adv = int(np.argmax(logits(x_adv, training=False).numpy()[0]))
    linf = float(np.max(np.abs(x_adv[0] - x)))
    if linf == 0.0:   # SS = ‖ΔE‖ / ‖Δx‖ is 0/0: flagged, never a silent number
        warnings.warn(f"attack {kind} left input {task.ids[i]} unchanged (its gradient "
                      "through the model's activations is zero): its sensitivity is "
                      "undefined (NaN) and the row is flagged attack_moved = false",
                      RuntimeWarning, stacklevel=2)
    row = {"task": task.name, "id": task.ids[i], "index": i, "method": m, "variant": v,
           "target": c, "label_after_attack": label_adv, "sf": {}, "k": k,
           "linf": linf, "attack_moved": linf > 0.0, "seconds": attack_seconds,
           "config": run.digest, "input": input_digest(x)}
    for name, vals in rep.items():
        for metric, arr in vals.items():
            row[f"{metric}_{name}"] = float(np.asarray(arr)[0])
    return row
