"""Validation of the ``Explainer``'s own options where they enter (numbers finite, typed
and in range; names among the allowed ones): every refusal names the option."""

from __future__ import annotations

from dance_tf import ablations, aggregate, option_rules, validate
from dance_tf.decoys import DecoySettings
from dance_tf.errors import InputError
from dance_tf.masks import PACKINGS
from dance_tf.precision import PRECISIONS

#: the options of ``Explainer`` (appended to its docstring)
DOC = """
    Options:
      method: base method name (``gradient``, ``integrated_gradients``, ``smoothgrad``, ...)
        or a callable f(model, inputs, targets) -> maps [gradient]; method_options: a dict
        of the method's own options (extra keywords no explainer option uses go there
        too). base: a ``dance_tf.saliency.get(name, **options)`` object instead of both.
      layer: ℓ as a Keras layer name, slim end point or 1-based conv/pool/dense index
        [the paper's ℓ for known zoo models, else 2].
      value_range: (x_min, x_max), scalars or arrays broadcastable to x [the input's own
        min and max, with a warning].
      aggregation: ``range`` [Eq. 3], ``mean`` (§4.3) or ``range_covering`` (the range
        per feature over only the decoys whose mask covers it; see ``dance_tf.aggregate``).
      perturbation: ``decoys`` [§3.3], or the ablations ``constant`` / ``noise`` (§4.3).
      patch_size, stride, patches_per_mask: P, stride, m [images 3, 1, 100; text and
        tabular 1, 1, 1]. packing: ``paper`` [raster groups of m, S1.1], ``tiles`` (one
        compact block of about m windows per mask: few decoys on large images) or
        ``receptive_field`` (independent windows share a mask; never more masks than
        ``paper``); see ``dance_tf.masks``.
      epsilon / epsilon_rel: L∞ bound at layer ℓ [5% of max|F_ℓ(x)|].
      solver: ``line_search`` [one-sided decoys: a line search along s·M, then
        ``refine_steps`` certified refinements; ``dance_tf.decoy_line_search``] or ``adam``
        (S1.2's schedule; ``dance_tf.decoy_adam``). line_grid [8], line_bisect [8],
        refine_steps [0], refine_grid [6]: line-search settings.
      Adam solver only: lambda0 [1e4]; tau0 [1]; max_steps [20]; learning_rate [0.1];
        init_noise [0.01]; patience [2]; backoff [0.5] (undo a violating step and halve
        that decoy's step size).
      deviation_bound: per-feature bound b, |x̃ − x| ≤ b (Proposition 1) [none].
      constant: value of the constant ablation [mean pixel / mean of x per channel].
      noise_level: σ of the noise ablation relative to x_max − x_min [0.1].
      decoy_batch_size: decoys per optimised batch [fit to ``memory_budget_mb``, 1024].
      use_crops: run the line search's layer-ℓ evaluations on crops around compact masks
        where that is exact and saves half the positions or more (``dance_tf.crops``;
        checked against the full input when planned) [True].
      precision: ``float32`` or ``bfloat16`` for the decoy optimisation loop only; the
        certificate and the base method stay float32 (``dance_tf.precision``) [float32].
      seed: seeds the random starts (same seed → identical output).
"""

#: option → validate.number keywords (every numeric option of the explainer)
NUMBERS = option_rules.EXPLAINER

#: option → its allowed names
CHOICES = {"aggregation": aggregate.AGGREGATIONS, "perturbation": ablations.PERTURBATIONS,
           "packing": PACKINGS, "precision": PRECISIONS}


def checked(options: dict) -> dict:
    """The explainer options in ``options`` validated and converted (numbers as numbers,
    arrays as finite float32); raises ``InputError`` / ``TypeError`` naming the option."""
    out = dict(options)
    for name, allowed in CHOICES.items():
        if name in out and out[name] not in allowed:
            raise InputError(f"{name}: expected one of {allowed}, got {out[name]!r}")
    for name, rule in NUMBERS.items():
        if name in out:
            out[name] = validate.number(name, out[name], **rule)
    if "seed" in out:
        out["seed"] = validate.seed("seed", out["seed"])
    if out.get("value_range") is not None:
        out["value_range"] = validate.value_range_pair(out["value_range"])   # copies
    if out.get("deviation_bound") is not None:
        out["deviation_bound"] = validate.deviation_bound(out["deviation_bound"])
    if out.get("constant") is not None:
        out["constant"] = validate.finite_array("constant", out["constant"])
    return out


def decoy_settings(opts: dict) -> DecoySettings:
    """The solver's ``DecoySettings`` from checked options (λ's cap follows λ₀)."""
    taken = {name: opts[name] for name in option_rules.SOLVER if name in opts}
    return DecoySettings(solver=opts["solver"], **taken,
                         lambda_max=max(DecoySettings.lambda_max, opts["lambda0"] * 2.0 ** 20))
