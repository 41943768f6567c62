"""The decoy solver's settings (§3.3, S1.2, Table S1): each field with its default and the
rule it is checked by (keywords of ``dance_tf.validate.number``), side by side. No
TensorFlow here: the evaluation's command line checks ``--option`` values with the same
rules (``dance_tf.option_rules``) before the heavy imports."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from dance_tf import validate
from dance_tf.validate import COUNT, NONNEG, POSITIVE, SHARE

SOLVERS = ("line_search", "adam")

GRID = {"high": 64, "integer": True}                    # grid points, halvings


def _setting(default, **rule):
    """A field with its default and its check (``validate.number`` keywords)."""
    return field(default=default, metadata={"rule": rule})


@dataclass(frozen=True)
class DecoySettings:
    """Solver settings.

    solver: ``line_search`` [default] or ``adam`` (S1.2). epsilon: absolute L∞ bound on the
    layer-ℓ deviation; None → ``epsilon_rel`` × max|F_ℓ(x)|.
    Line search: line_grid (geometric grid points around the slope estimate), line_bisect
    (halvings of the bracket), refine_steps (refinement rounds), refine_grid (grid points of
    each refinement's line search).
    Adam (Table S1: λ₀ = 1e4, τ₀ = 1): learning_rate (Adam step on w, tanh space),
    init_noise (σ of the one-sided random start, [0, 1] units), max_steps, patience
    (consecutive violating steps before a decoy that has met the bound stops; 1 = the
    paper's rule), backoff (step-size factor after a violating step, which is undone;
    1 = plain Adam, no undo). lambda_max caps λ's doubling (at least lambda0).
    """

    solver: str = "line_search"
    epsilon: float | None = _setting(None, allow_none=True, **POSITIVE)
    epsilon_rel: float = _setting(0.05, **POSITIVE)
    # the line search (decoy_line_search.py)
    line_grid: int = _setting(8, low=1, **GRID)
    line_bisect: int = _setting(8, low=0, **GRID)
    refine_steps: int = _setting(0, low=0, integer=True)
    refine_grid: int = _setting(6, low=1, **GRID)
    # Adam (decoy_adam.py, Table S1): the penalty's λ and τ schedules, steps, step sizes
    lambda0: float = _setting(1e4, **POSITIVE)
    lambda_max: float = _setting(1e4 * 2.0 ** 20, **POSITIVE)
    tau0: float = _setting(1.0, **POSITIVE)
    tau_decay: float = _setting(0.95, **SHARE)
    max_steps: int = _setting(20, **COUNT)
    learning_rate: float = _setting(0.1, **POSITIVE)
    init_noise: float = _setting(0.01, **NONNEG)
    patience: int = _setting(2, **COUNT)
    backoff: float = _setting(0.5, **SHARE)

    def __post_init__(self):
        if self.solver not in SOLVERS:
            raise ValueError(f"solver: expected one of {SOLVERS}, got {self.solver!r}")
        for name, rule in RULES.items():   # checked, and ints as ints
            object.__setattr__(self, name, validate.number(name, getattr(self, name), **rule))
        if self.lambda_max < self.lambda0:
            raise ValueError(f"lambda_max: expected at least lambda0 = {self.lambda0}, "
                             f"got {self.lambda_max}")


#: field name → its rule (every field but ``solver``)
RULES = {f.name: f.metadata["rule"] for f in fields(DecoySettings) if "rule" in f.metadata}
