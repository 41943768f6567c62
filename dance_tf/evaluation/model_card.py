"""``evaluate_model``: any saliency method on any Keras classifier and any data, without
and with decoys and against the compute-matched baselines, scored by the chosen metrics
in one call (issue 25; the paper's comparison of §4.2–4.3 on the user's own model).

Rows are input × method × variant × metric; with ``out=`` they stream to
``OUT/rows.jsonl`` (flushed per row, a rerun resumes without duplicates, a folder holds
one configuration: ``OUT/config.json``) and the report ``OUT/report.html`` /
``OUT/report.md`` is built from that rows file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dance_tf.evaluation import stop_request
from dance_tf.evaluation.card_maps import CARD_VARIANTS, MapSource
from dance_tf.evaluation.card_metrics import METRICS, chosen
from dance_tf.evaluation.card_result import CardResult
from dance_tf.evaluation.card_rows import card_config, number, open_rows
from dance_tf.evaluation.digests import input_digest
from dance_tf.evaluation.results import EvaluationError
from dance_tf.evaluation.run_config import config_digest

if TYPE_CHECKING:
    import keras
    from numpy.typing import ArrayLike

DEFAULT_VARIANTS = ("none", "decoys", "matched")


def _methods(methods, method_options) -> dict[str, tuple]:
    """{row name: (registry name or callable, its options)}; names resolved now."""
    from dance_tf.saliency import get

    if isinstance(methods, (str, Callable)):
        methods = [methods]
    method_options = dict(method_options or {})
    out = {}
    for method in methods:
        name = get(method).name   # an unknown name stops before anything is written
        if name in out:
            raise ValueError(f"methods: {name!r} given twice")
        opts = method_options.pop(name, method_options.pop(method, {})
                                  if isinstance(method, str) else {})
        get(method, **opts)   # unknown options are refused here
        out[name] = (method, dict(opts))
    if method_options:
        raise ValueError(f"method_options: {sorted(method_options)} are not among the "
                         f"methods {sorted(out)}")
    if not out:
        raise ValueError("methods: expected at least one method")
    return out


def _variants(variants) -> tuple[str, ...]:
    from dance_tf.evaluation import checks

    return checks.some_of("variants", variants, CARD_VARIANTS)


def score(spec, options: dict, model, x: np.ndarray, sal: np.ndarray, c: int,
          mask, explain_fn) -> tuple[float, list | None]:
    """(score, curve or None) of one map ``sal`` (*S) of input x (*S) by metric ``spec``."""
    from dance_tf.features import feature_axes, feature_scores

    fn = spec.function()
    nf = feature_axes(x.shape)
    maps = feature_scores(sal[None], nf + 1, "abs_mean") if spec.features else sal[None]
    targets = np.array([c])
    if spec.curves:
        options = {**options, spec.curves: True}
    if spec.call == "model":
        out = fn(model, x[None], maps, targets, **options)
    elif spec.call == "explain":
        def reduced(xs, ts):
            return feature_scores(explain_fn(xs, ts), nf + 1, "abs_mean")

        out = fn(reduced if spec.features else explain_fn, x[None], targets, **options)
    elif spec.call == "maps":
        out = fn(maps, **options)
    else:
        out = fn(maps, np.asarray(mask)[None], **options)
    curve = None
    if spec.curves:
        out, curves = out
        curve = [float(v) for v in np.asarray(curves, np.float64)[0]]
    values = np.asarray(out, np.float64).ravel()
    if values.size != 1:
        raise EvaluationError(f"metric {spec.name!r}: expected one score per input, got "
                              f"{values.size}")
    return float(values[0]), curve


def evaluate_model(model: keras.Model, inputs: ArrayLike, labels: ArrayLike | None = None, *,
                   methods=("gradient",),
                   variants=DEFAULT_VARIANTS, metrics=None, out=None, masks=None,
                   method_options: Mapping | None = None, matched_noise: float = 0.15,
                   examples: int = 4, quiet: bool = False, log=print, report: bool = True,
                   **explainer_options) -> CardResult:
    """Score ``methods`` × ``variants`` × ``metrics`` on every input (issue 25).

    model: a Keras classifier (logits or a final softmax); inputs: (N, *S) numpy or
    tensor, a tf.data dataset of inputs or (x, y) pairs (then y are the labels), or a
    list of inputs of several shapes (a model with variable axes: sentences);
    labels: (N,) classes or one-hot rows; None: the predicted classes are explained.
    methods: registry names (``dance_tf.saliency.get``) or callables f(model, x, targets)
    -> maps; method_options: {method: its options}. variants: some of ``none``,
    ``decoys``, ``mean``, ``constant``, ``noise``, ``covering`` (§4.2–4.3) and ``matched``
    / ``matched_range`` (the base method given the DANCE map's model evaluations,
    :mod:`~dance_tf.evaluation.matched`; σ = ``matched_noise`` × range of x). metrics:
    names of ``card_metrics.METRICS`` or {name: options}; None: the defaults this version
    ships. masks: (N, *F) 0/1 object masks (pointing game, relevance mass). out: a folder
    for ``rows.jsonl`` (resumable), ``config.json``, ``report.html`` and ``report.md``;
    examples: inputs drawn as panels there; report: False writes only the rows and
    config (a pre-registered run that must not show its statistics before it stops).
    explainer_options: the Explainer's
    (``patch_size``, ``seed``, ``value_range``, ...). Returns a :class:`CardResult`.
    """
    from dance_tf import validate
    from dance_tf.evaluation.card_inputs import gather, targets
    from dance_tf.model_contract import logits_model

    noise = validate.number("matched_noise", matched_noise, low=0)
    examples = validate.number("examples", examples, integer=True, low=0)
    for name, flag in (("quiet", quiet), ("report", report)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name}: expected True or False, got {flag!r}")
    specs = chosen(metrics, log)
    table = _methods(methods, method_options)
    variants = _variants(variants)
    if not variants:
        raise ValueError("variants: expected at least one variant")
    x, labels = gather(model, inputs, labels)
    if any(METRICS[m].needs_masks for m in specs):
        if masks is None:
            raise ValueError(f"masks: the metrics {[m for m in specs if METRICS[m].needs_masks]}"
                             " need object masks (N, *F)")
        masks = np.asarray(masks)
        if len(masks) != len(x):
            raise ValueError(f"masks: expected {len(x)} masks, got {len(masks)}")
    logits, _ = logits_model(model, np.shape(x[0]))
    cs = targets(logits, x, labels)
    cfg = card_config(model, labels, {k: v[1] for k, v in table.items()}, explainer_options,
                      specs, noise)
    run = _Run(model, logits, x, cs, labels, masks, specs, table, variants, cfg,
               MapSource(model, logits, table, explainer_options, noise,
                         int(explainer_options.get("seed", 0))), out)
    rows = run.compute(examples, quiet)
    result = CardResult(rows)
    if out is not None and report:
        from dance_tf.evaluation.report_html import write_report

        write_report(Path(out), log=log)
    return result


class _Run:
    """One evaluate_model run: what is left to compute and the rows it writes."""

    def __init__(self, model, logits, x, cs, labels, masks, specs, table, variants, cfg,
                 source: MapSource, out):
        self.model, self.logits, self.x, self.cs = model, logits, x, cs
        self.labels, self.masks, self.specs = labels, masks, specs
        self.table, self.variants, self.source = table, variants, source
        self.out = None if out is None else Path(out)
        for m in table:   # a bad explainer option stops before anything is written
            for v in variants:
                source.explainer(m, v)
        if self.out is None:
            self.file, self.digest, self.done = None, config_digest(cfg), {}
        else:
            self.file, self.digest = open_rows(self.out, cfg)
            self.done = self.file.done

    def compute(self, examples: int, quiet: bool) -> list[dict]:
        from dance_tf.progress import progress

        pending = todo(self)
        bar = progress(sum(len(t) for t in pending.values()), desc="evaluate_model",
                       unit="row", enabled=not quiet)
        store = None
        if self.out is not None:
            from dance_tf.evaluation.card_examples import ExampleStore

            store = ExampleStore(self.out)
        try:
            for (i, m, v), metrics in pending.items():
                x, c = self.x[i], int(self.cs[i])
                res = self.source.compute(i, m, v, x, c)
                if store is not None and i < examples:
                    store.add(i, m, v, x, res.saliency)
                    store.save()   # now: a kill -9 skips the finally, and a resumed run
                    # never recomputes the map of a finished row
                for metric in metrics:
                    self._row(i, m, v, metric, res)
                    bar.update(1)
                bar.set_postfix_str(f"input {i} {m} {v}")
                stop_request.check()   # a time limit (reproduce.py --minutes), between rows
        finally:
            bar.close()
            if self.file is not None:
                self.file.close()
            if store is not None:
                store.save()
        keys = {(i, m, v, k) for i in range(len(self.x)) for m in self.table
                for v in self.variants for k in self.specs}
        return [r for key, r in self.done.items() if key in keys]

    def _row(self, i: int, m: str, v: str, metric: str, res) -> None:
        spec = METRICS[metric]
        x, c = self.x[i], int(self.cs[i])
        explain_fn = (self.source.explain_fn(i, m, v, x, c) if spec.call == "explain"
                      else None)
        mask = None if self.masks is None else self.masks[i]
        value, curve = score(spec, self.specs[metric], self.model, x, res.saliency, c, mask,
                             explain_fn)
        row = {"index": i, "input": input_digest(x), "method": m, "variant": v,
               "metric": metric, "value": number(value), "direction": spec.better(),
               "target": c, "label": None if self.labels is None else int(self.labels[i]),
               "n_decoys": res.n_decoys, "map_seconds": res.seconds, "config": self.digest}
        if curve is not None:
            row["curve"] = curve
        if self.file is not None:
            self.file.write(row)
        else:
            self.done[(i, m, v, metric)] = row


def todo(run: _Run) -> dict:
    """{(input, method, variant): [metrics still to score]} of ``run``; a finished row of
    another input under the same index is an EvaluationError. Records the 2n of each
    finished decoys row (the matched variants of a resumed run need it)."""
    out: dict = {}
    for i in range(len(run.x)):
        digest = input_digest(run.x[i])
        for m in run.table:
            for v in run.variants:
                for metric in run.specs:
                    row = run.done.get((i, m, v, metric))
                    if row is None:
                        out.setdefault((i, m, v), []).append(metric)
                        continue
                    if row["input"] != digest:
                        raise EvaluationError(
                            f"{run.out}: the row of input {i} ({m}, {v}, {metric}) was "
                            "computed on a different input (the data changed?); use "
                            "another out folder")
                    if v == "decoys" and row.get("n_decoys"):
                        run.source.known_decoys(i, m, row["n_decoys"])
    return out
