"""The decoy solver's settings (§3.3, S1.2, Table S1): the solver's slice of the options
table (``dance_tf.options``: defaults and rules declared there), plus the two settings
the explainer derives rather than takes. No TensorFlow here."""

from __future__ import annotations

from dataclasses import dataclass, fields

from dance_tf import options
from dance_tf.options import DEFAULTS
from dance_tf.validate import POSITIVE, SHARE, number

#: settings the explainer derives rather than takes, name → (default, rule): λ's cap
#: (None: λ₀ · 2^20, at least 1e4 · 2^20), τ's decay per step that meets the bound
#: (Table S1's rate)
DERIVED = {"lambda_max": (None, POSITIVE), "tau_decay": (0.95, SHARE)}
LAMBDA_MAX = 1e4 * 2.0 ** 20


@dataclass(frozen=True)
class DecoySettings:
    """Solver settings; each field is the option of the same name (``dance_tf.options``:
    its default, rule and help), checked here once, when the settings are made.

    solver: ``line_search`` or ``adam`` (S1.2). epsilon / epsilon_rel: the layer-ℓ L∞
    bound. Line search: line_grid, line_bisect, refine_steps, refine_grid. Adam: lambda0,
    tau0, max_steps, learning_rate, init_noise, patience, backoff; lambda_max caps λ's
    doubling (at least lambda0; None: λ₀ · 2^20, at least 1e4 · 2^20), tau_decay is τ's
    factor per step that meets the bound.
    """

    solver: str = DEFAULTS["solver"]
    epsilon: float | None = DEFAULTS["epsilon"]
    epsilon_rel: float = DEFAULTS["epsilon_rel"]
    line_grid: int = DEFAULTS["line_grid"]
    line_bisect: int = DEFAULTS["line_bisect"]
    refine_steps: int = DEFAULTS["refine_steps"]
    refine_grid: int = DEFAULTS["refine_grid"]
    lambda0: float = DEFAULTS["lambda0"]
    lambda_max: float | None = DERIVED["lambda_max"][0]
    tau0: float = DEFAULTS["tau0"]
    tau_decay: float = DERIVED["tau_decay"][0]
    max_steps: int = DEFAULTS["max_steps"]
    learning_rate: float = DEFAULTS["learning_rate"]
    init_noise: float = DEFAULTS["init_noise"]
    patience: int = DEFAULTS["patience"]
    backoff: float = DEFAULTS["backoff"]

    def __post_init__(self):
        for f in fields(self):   # checked, and ints as ints
            value = getattr(self, f.name)
            if f.name == "lambda_max" and value is None:
                value = max(LAMBDA_MAX, self.lambda0 * 2.0 ** 20)
            elif f.name in DERIVED:
                value = number(f.name, value, **DERIVED[f.name][1])
            else:
                value = options.check(f.name, value)
            object.__setattr__(self, f.name, value)
        if self.lambda_max < self.lambda0:
            raise ValueError(f"lambda_max: expected at least lambda0 = {self.lambda0}, "
                             f"got {self.lambda_max}")


#: the fields that are explainer options (all but the derived ones)
FIELDS = tuple(f.name for f in fields(DecoySettings) if f.name not in DERIVED)
