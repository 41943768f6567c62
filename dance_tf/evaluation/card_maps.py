"""The maps ``evaluate_model`` scores: one per input × method × variant, from the explainer
(``Explainer(model, method=..., aggregation=..., perturbation=...)`` and its
``base_map``, as :mod:`~dance_tf.evaluation.runner` does) or the compute-matched variants
(:mod:`~dance_tf.evaluation.matched`); and the map function of each, for the metrics that
explain perturbed inputs (max- and avg-sensitivity)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dance_tf.evaluation.matched import MATCHED, matched_map
from dance_tf.evaluation.variants import EXPLAINER_VARIANTS

#: every variant evaluate_model knows: evaluate's and the compute-matched ones
CARD_VARIANTS = ("none", *EXPLAINER_VARIANTS, *MATCHED)


@dataclass
class MapResult:
    """One map (*S), the decoys it used (2n; 0 without), and its seconds."""

    saliency: np.ndarray
    n_decoys: int
    seconds: float


class MapSource:
    """The maps of one model. methods: {name: (method, options)}; explainer_options: the
    Explainer's own; noise: σ of the matched variants; seed: their noise seed."""

    def __init__(self, model, logits, methods: dict, explainer_options: dict,
                 noise: float, seed: int):
        self.model, self.logits, self.methods = model, logits, methods
        self.options, self.noise, self.seed = explainer_options, noise, seed
        self._explainers: dict = {}
        self._n_decoys: dict = {}   # (input index, method) → 2n

    def explainer(self, m: str, variant: str):
        """One Explainer per (method, variant); ``none`` uses the decoys one's base map."""
        from dance_tf import Explainer

        variant = "decoys" if variant == "none" or variant in MATCHED else variant
        if (m, variant) not in self._explainers:
            method, opts = self.methods[m]
            self._explainers[(m, variant)] = Explainer(
                self.model, method=method, method_options=dict(opts),
                **EXPLAINER_VARIANTS[variant], **self.options)
        return self._explainers[(m, variant)]

    def known_decoys(self, i: int, m: str, n_decoys: int) -> None:
        """Record 2n of input i's DANCE map (read from a finished row)."""
        self._n_decoys[(i, m)] = int(n_decoys)

    def n_decoys(self, i: int, m: str, x: np.ndarray, c: int) -> int:
        """2n of input i's DANCE map with method m (computed when not yet known)."""
        if (i, m) not in self._n_decoys:
            self.compute(i, m, "decoys", x, c)
        return self._n_decoys[(i, m)]

    def compute(self, i: int, m: str, v: str, x: np.ndarray, c: int) -> MapResult:
        """The map of input i (x, class c), method m, variant v."""
        t0 = time.perf_counter()
        if v == "none":
            sal, n = self.explainer(m, v).base_map(x, c), 0
        elif v in MATCHED:
            n = self.n_decoys(i, m, x, c)
            t0 = time.perf_counter()
            sal = self._matched(m, v, x, c, n)
        else:
            ex = self.explainer(m, v).explain(x, c, return_details=True)
            sal, n = ex.saliency, len(ex.decoys)
            if v == "decoys":
                self._n_decoys[(i, m)] = n
        return MapResult(np.asarray(sal, np.float32), int(n), time.perf_counter() - t0)

    def _matched(self, m: str, v: str, x: np.ndarray, c: int, n: int) -> np.ndarray:
        method, opts = self.methods[m]
        return matched_map(self.logits, x, c, method, dict(opts), n, MATCHED[v],
                           noise=self.noise, seed=self.seed)

    def explain_fn(self, i: int, m: str, v: str, x: np.ndarray, c: int):
        """``f(xs, targets) -> maps`` (N, *S) of method m, variant v (the matched variants
        keep input i's 2n)."""
        ex = self.explainer(m, v)
        n = self.n_decoys(i, m, x, c) if v in MATCHED else None

        def fn(xs, ts):
            xs, ts = self._inside(ex, np.asarray(xs, np.float32)), np.asarray(ts)
            if v == "none":
                return np.asarray(ex.base_map(xs, ts))
            if v in MATCHED:
                return np.stack([self._matched(m, v, xj, int(tj), n)
                                 for xj, tj in zip(xs, ts)])
            return np.asarray(ex(xs, ts))

        return fn

    @staticmethod
    def _inside(ex, xs: np.ndarray) -> np.ndarray:
        """Perturbed inputs (a robustness metric's draws) clipped into the explainer's
        value range: a decoy explainer refuses inputs outside it."""
        if ex.value_range is None:
            return xs
        from dance_tf.validate import value_range_pair

        lo, hi = value_range_pair(ex.value_range, xs.shape[1:])
        return np.clip(xs, lo, hi).astype(np.float32)
