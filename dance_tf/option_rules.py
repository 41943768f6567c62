"""How every numeric setting of the explainer is checked, in one table (keywords of
:func:`dance_tf.validate.number` by name): the decoy solver's own rules, which
``DecoySettings`` declares beside each field, and the explainer's other numbers. The
``Explainer``'s option checks and the evaluation's ``--option`` checks read it. No
TensorFlow here (the command line checks before the heavy imports)."""

from __future__ import annotations

from dance_tf.decoy_settings import RULES
from dance_tf.validate import COUNT, NONNEG, POSITIVE

#: the decoy solver's settings (``dance_tf.decoys.DecoySettings``, §3.3, S1.2, Table S1)
SOLVER = RULES

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
    "memory_budget_mb": {**POSITIVE, "allow_none": True},
}
