"""How every numeric setting of the explainer and of the decoy solver is checked, written
once: keywords of :func:`dance_tf.validate.number` by name. ``DecoySettings``, the
``Explainer``'s option checks and the evaluation's ``--option`` checks all read these
tables. No TensorFlow here (the command line checks before the heavy imports)."""

from __future__ import annotations

POSITIVE = {"low": 0, "low_open": True}
NONNEG = {"low": 0}
COUNT = {"low": 1, "integer": True}
SHARE = {"low": 0, "low_open": True, "high": 1}        # a factor in (0, 1]

#: the decoy solver's settings (``dance_tf.decoys.DecoySettings``, §3.3, S1.2, Table S1)
SOLVER = {
    "epsilon": {**POSITIVE, "allow_none": True},
    "epsilon_rel": POSITIVE,
    "line_grid": {"low": 1, "high": 64, "integer": True},
    "line_bisect": {"low": 0, "high": 64, "integer": True},
    "refine_steps": {"low": 0, "integer": True},
    "refine_grid": {"low": 1, "high": 64, "integer": True},
    "lambda0": POSITIVE,
    "lambda_max": POSITIVE,
    "tau0": POSITIVE,
    "tau_decay": SHARE,
    "max_steps": COUNT,
    "learning_rate": POSITIVE,
    "init_noise": NONNEG,
    "patience": COUNT,
    "backoff": SHARE,
}

#: solver settings the explainer derives rather than takes (λ's cap follows λ₀; τ decays
#: at Table S1's rate)
DERIVED = ("lambda_max", "tau_decay")

#: every numeric option of ``dance_tf.Explainer``
EXPLAINER = {
    **{name: rule for name, rule in SOLVER.items() if name not in DERIVED},
    "patch_size": {**COUNT, "allow_none": True},
    "stride": COUNT,
    "patches_per_mask": {**COUNT, "allow_none": True},
    "noise_level": NONNEG,
    "decoy_batch_size": {**COUNT, "allow_none": True},
    "memory_budget_mb": POSITIVE,
}
