"""Robustness of saliency methods to an attack (§4.4, Fig. 4, Tables S6, S10, S11)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from dance_tf.metrics.attack_report import attack_report, pixel_scores
from dance_tf.metrics.sensitivity import sensitivity


def robustness_report(x, x_adv, explainers: Mapping[str, Callable], k: float | None = 0.2,
                      topk_pixels: int | float = 0.1) -> dict[str, dict[str, np.ndarray]]:
    """Per method: sensitivity SS and Ghorbani et al.'s measures between the maps of x and
    of its attacked copy x_adv.

    x, x_adv: (N, H, W, C) inputs; explainers: name → f(inputs) → maps (N, H, W[, C]), the
    model and targets bound by the caller (e.g. ``lambda xs: gradient(model, xs, t)``, or a
    loop over a DANCE ``Explainer``) — "with and without decoys" are two entries. k: the
    top-K fraction binarising the pixel maps Σ_c|map| before SS (20% as the paper; None for
    raw maps); topk_pixels: k of the top-k intersection (count or fraction). Returns
    {name: {"ss", "topk_intersection", "rank_correlation", "center_shift"}} of (N,) arrays.
    """
    out = {}
    for name, explain in explainers.items():
        m0 = pixel_scores(explain(x))
        m1 = pixel_scores(explain(x_adv))
        row = {"ss": sensitivity(m0, m1, x, x_adv, k=k)}
        row.update(attack_report(m0, m1, topk_pixels))
        out[name] = row
    return out
