"""Validation of the ``Explainer``'s own options where they enter (numbers finite, typed
and in range; names among the allowed ones): every refusal names the option."""

from __future__ import annotations

from dance_tf import ablations, aggregate, validate
from dance_tf.errors import InputError
from dance_tf.masks import PACKINGS
from dance_tf.precision import PRECISIONS

#: option → validate.number keywords (every numeric option of the explainer)
NUMBERS = {
    "patch_size": {"low": 1, "integer": True, "allow_none": True},
    "stride": {"low": 1, "integer": True},
    "patches_per_mask": {"low": 1, "integer": True, "allow_none": True},
    "epsilon": {"low": 0, "low_open": True, "allow_none": True},
    "epsilon_rel": {"low": 0, "low_open": True},
    "line_grid": {"low": 1, "high": 64, "integer": True},
    "line_bisect": {"low": 0, "high": 64, "integer": True},
    "refine_steps": {"low": 0, "integer": True},
    "refine_grid": {"low": 1, "high": 64, "integer": True},
    "lambda0": {"low": 0, "low_open": True},
    "tau0": {"low": 0, "low_open": True},
    "max_steps": {"low": 1, "integer": True},
    "learning_rate": {"low": 0, "low_open": True},
    "init_noise": {"low": 0},
    "patience": {"low": 1, "integer": True},
    "backoff": {"low": 0, "high": 1, "low_open": True},
    "noise_level": {"low": 0},
    "decoy_batch_size": {"low": 1, "integer": True, "allow_none": True},
    "memory_budget_mb": {"low": 0, "low_open": True},
}

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
        validate.value_range_pair(out["value_range"])
    if out.get("deviation_bound") is not None:
        out["deviation_bound"] = validate.deviation_bound(out["deviation_bound"])
    if out.get("constant") is not None:
        out["constant"] = validate.finite_array("constant", out["constant"])
    return out
