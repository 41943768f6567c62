"""The compute-matched variants: the base method given as many model evaluations as its
DANCE map used, so that a comparison can tell the decoys from the extra work (issue 25).

A DANCE map of input x runs the base method on 2n decoys (§3.3), n the number of masks.
``matched`` averages the base method over 2n noisy copies x + N(0, σ²), σ = noise ×
(max − min of x) (SmoothGrad's noise, Smilkov et al. 2017); ``matched_range`` takes their
range max − min per feature, like DANCE's range aggregation (Eq. 3) over noise instead of
decoys; ``matched_vargrad`` their variance (VarGrad, Adebayo et al. 2018). For the
gradient these are SmoothGrad / SmoothGrad-range / VarGrad with 2n samples; for
SmoothGrad, VarGrad and SmoothGrad-range with s samples, the same with 2n × s samples,
one noise draw per gradient. Any other method (integrated gradients, a user callable)
runs once on each of the 2n noisy copies.
"""

from __future__ import annotations

import numpy as np

#: the variant name → its form (mean or range)
MATCHED = {"matched": "mean", "matched_range": "range", "matched_vargrad": "variance"}
#: the noisy-gradient method of each form (one noise draw per gradient)
SAMPLERS = {"mean": "smoothgrad", "range": "smoothgrad_range", "variance": "vargrad"}
#: the methods made of noisy gradients: their own sample count multiplies 2n
NOISY_GRADIENTS = ("smoothgrad", "vargrad", "smoothgrad_range")
NOISE = 0.15


def samples_per_call(method: str, options: dict) -> int:
    """Logit gradients per call of a gradient method (1 for the gradient, ``samples``
    for the noisy-gradient methods: their default when not given); 0 for any other."""
    if method == "gradient":
        return 1
    if method in NOISY_GRADIENTS:
        import inspect

        from dance_tf.saliency import resolve_method

        default = inspect.signature(resolve_method(method)[1]).parameters["samples"].default
        return int(options.get("samples", default))
    return 0


def matched_map(logits, x: np.ndarray, target: int, method, options: dict, n_decoys: int,
                form: str, noise: float = NOISE, seed: int = 0) -> np.ndarray:
    """The compute-matched map (*S) of one input x (*S) for class ``target``.

    logits: the model's logits model; method: a registry name or a callable
    f(model, x, targets); options: its own options; n_decoys: 2n, the decoys of x's DANCE
    map (``len(Explanation.decoys)``); form: "mean", "range" or "variance"; noise:
    relative σ.
    """
    from dance_tf.saliency import get

    if form not in SAMPLERS:
        raise ValueError(f"form: expected one of {tuple(SAMPLERS)}, got {form!r}")
    if int(n_decoys) < 1:
        raise ValueError(f"n_decoys: expected ≥ 1 decoys, got {n_decoys}")
    xb = np.asarray(x, np.float32)[None]
    name = method if isinstance(method, str) else None
    per_call = samples_per_call(name, options) if name else 0
    if per_call:
        sampler = SAMPLERS[form]
        keep = {k: v for k, v in options.items() if k == "batch_size"}
        base = get(sampler, samples=int(n_decoys) * per_call,
                   noise=float(options.get("noise", noise)), seed=seed, **keep)
        return np.asarray(base(logits, xb, np.array([target])))[0]
    base = get(method, **options)
    rng = np.random.default_rng(seed)
    sigma = noise * float(xb.max() - xb.min())
    copies = xb + sigma * rng.standard_normal((int(n_decoys),) + xb.shape[1:]).astype(
        np.float32)
    maps = np.asarray(base(logits, copies, np.full(len(copies), target)))
    if form == "variance":
        return maps.var(axis=0)
    return maps.mean(axis=0) if form == "mean" else maps.max(axis=0) - maps.min(axis=0)
