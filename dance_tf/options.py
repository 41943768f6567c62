"""Every option of ``dance_tf.Explainer``, declared once: its default, how it is checked,
its choices, one line of help, and the solver or perturbation it belongs to.

Read by: the ``Explainer``'s signature and ``dance_tf.explain`` (checked against this table
by tests/test_options_table.py), the checked options object
(``dance_tf.explainer_options``), the solver's ``DecoySettings``, the command-line flags
of ``dance-tf explain`` / ``export`` and evaluate's ``--option`` (generated,
``dance_tf.option_flags``), ``Explainer.__doc__`` and the README's option table
(:func:`markdown`). No TensorFlow here: the command line checks before the heavy imports.

An option that belongs to a solver (``solver="adam"`` or ``"line_search"``) does nothing
under the other one; giving it a value other than its default there is refused
(:func:`misplaced`). Options of the §4.3 ablations (``constant``, ``noise_level``) are
marked with their perturbation; they are not refused under ``decoys`` (the evaluation
passes one configuration to every variant).
"""

from __future__ import annotations

import numbers
import textwrap
from dataclasses import dataclass

import numpy as np

from dance_tf import validate
from dance_tf.errors import InputError
from dance_tf.validate import COUNT, NONNEG, POSITIVE, SHARE

GRID = {"high": 64, "integer": True}                    # grid points, halvings
SOLVERS = ("line_search", "adam")


@dataclass(frozen=True)
class Option:
    """One explainer option. kind: how a value is checked (:func:`check`): ``number``
    (``rule``: keywords of ``validate.number``), ``choice`` (``choices``), ``flag``
    (a bool), ``seed``, ``value_range``, ``bound``, ``array``, ``name_or_index`` (None, a
    name or an int), or ``method`` (checked by ``dance_tf.saliency.base``). shown: the
    default in words where the value alone does not say it. solver / perturbation /
    packing: the one it belongs to (None: all). section: where docs and ``--help`` list it."""

    name: str
    default: object
    help: str
    kind: str = "number"
    rule: dict | None = None
    choices: tuple | None = None
    shown: str | None = None
    solver: str | None = None
    perturbation: str | None = None
    packing: str | None = None
    section: str = "dance"

    @property
    def flag(self) -> str:
        """Its command-line flag, ``--max-steps`` for ``max_steps``."""
        return "--" + self.name.replace("_", "-")

    @property
    def default_text(self) -> str:
        return self.shown if self.shown is not None else _text(self.default)


def _text(value) -> str:
    return "none" if value is None else f"`{value}`" if isinstance(value, str) else repr(value)


def _o(name, default, help, **kw) -> Option:
    return Option(name, default, help, **kw)


_ADAM = {"solver": "adam", "section": "adam"}
_LINE = {"solver": "line_search", "section": "line_search"}

#: the options, in the order the docs list them
OPTIONS: tuple[Option, ...] = (
    _o("method", "gradient", "base method: a name (gradient, integrated_gradients, "
       "smoothgrad, expected_gradients, vargrad, smoothgrad_range, ig_uniform, gradcam) or "
       "a callable f(model, inputs, targets) -> maps", kind="method", section="method"),
    _o("method_options", None, "the base method's own options (a dict: Grad-CAM's "
       "`layer`, SmoothGrad's `seed` stay its own); keywords no option uses go there too",
       kind="method", shown="none", section="method"),
    _o("base", None, "a `dance_tf.saliency.get(name, **options)` object instead of method "
       "and method_options", kind="method", section="method"),
    _o("layer", None, "ℓ: a layer path (`outer/inner/layer` through nested models), "
       "Keras layer name, slim end point (`vgg_16/pool1`), 1-based index over "
       "conv/pool/dense layers (Table S1), or a keras.Model computing F_ℓ (subclassed "
       "models); a layer after a global operation warns", kind="name_or_index",
       shown="Table S1 for the zoo nets and Keras' VGG16 / ResNet50; else chosen from the "
             "graph: the first pooling at total stride ≤ 4, a ViT's patch embedding, or "
             "the narrowest layer at stride ≤ 4, before any global operation "
             "(`dance_tf.default_layer`)"),
    _o("output", None, "which model output holds the logits when the model returns a "
       "dict, list or tuple (a key or an index)", kind="name_or_index"),
    _o("value_range", None, "legal (x_min, x_max), scalars or arrays broadcastable to x",
       kind="value_range", shown="the input's own min and max (with a warning)"),
    _o("patch_size", None, "P, the side of a swappable window (S1.1)",
       rule={**COUNT, "allow_none": True}, shown="images 3, text and tabular 1",
       section="masks"),
    _o("stride", 1, "stride between windows", rule=COUNT, section="masks"),
    _o("patches_per_mask", None, "m, windows packed into one mask (S1.1)",
       rule={**COUNT, "allow_none": True}, shown="images 100, text and tabular 1",
       section="masks"),
    _o("packing", "paper", "`paper`: raster groups of m (S1.1); `tiles`: one compact block "
       "of about m windows per mask (few decoys on large images: vgg_16 at 224² with m = "
       "500 makes 2n = 200 instead of 986); `receptive_field`: windows that cannot interact "
       "at ℓ share a mask (never more masks than paper); `auto`: the paper's packing when it "
       "makes at most `target_decoys` decoys, else tiles sized to stay within it (224²: "
       "2n = 200 instead of 986; with `target_decoys=50` confirmed non-inferior to the "
       "paper's for SmoothGrad on ImageNet; not the default, as the gradient scored "
       "better under the paper's: README, REPRODUCTION.md)", kind="choice",
       choices=("paper", "tiles", "receptive_field", "auto"), section="masks"),
    _o("target_decoys", 200, "with `packing=\"auto\"`: the most decoys 2n (≥ 2)",
       rule={"low": 2, "integer": True}, packing="auto", section="masks"),
    _o("aggregation", "range", "`range`: max − min over the decoys (Eq. 3); `mean` "
       "(ablation, §4.3); `range_covering`: the range over only the decoys whose mask "
       "covers the feature", kind="choice", choices=("range", "mean", "range_covering")),
    _o("perturbation", "decoys", "`decoys` (§3.3), or the ablations `constant` / `noise` "
       "(§4.3)", kind="choice", choices=("decoys", "constant", "noise")),
    _o("epsilon", None, "absolute L∞ bound on the layer-ℓ deviation of a decoy",
       rule={**POSITIVE, "allow_none": True}, shown="epsilon_rel × max|F_ℓ(x)|"),
    _o("epsilon_rel", 0.05, "L∞ bound relative to max|F_ℓ(x)| (when epsilon is none)",
       rule=POSITIVE),
    _o("deviation_bound", None, "per-feature bound b on |x̃ − x| (Proposition 1)",
       kind="bound"),
    _o("solver", "line_search", "how Eq. 2 is solved: `line_search` (one-sided decoys "
       "from a line search along s·M; `dance_tf.decoys.line_search`) or `adam` (S1.2's "
       "schedule; `dance_tf.decoys.adam`)", kind="choice", choices=SOLVERS),
    _o("seed", 0, "seeds the random starts of the adam solver and the noise ablation "
       "(same seed → same output)", kind="seed"),
    _o("line_grid", 8, "grid points of the line search around ε / slope",
       rule={"low": 1, **GRID}, **_LINE),
    _o("line_bisect", 8, "bisection halvings of the bracket (the bound is met to 2^−8 "
       "of it)", rule={"low": 0, **GRID}, **_LINE),
    _o("refine_steps", 0, "certified refinement rounds after the line search (each a "
       "gradient of the near-binding units and a line search along a reweighted "
       "direction)", rule={"low": 0, "integer": True}, **_LINE),
    _o("refine_grid", 6, "grid points of each refinement's line search",
       rule={"low": 1, **GRID}, **_LINE),
    _o("use_crops", True, "run the line search on a crop around each compact mask that "
       "holds every layer-ℓ unit the mask can move (exact; checked against the full input "
       "when planned; used where it saves half the positions or more)", kind="flag",
       **_LINE),
    _o("lambda0", 1e4, "λ₀, initial Lagrange multiplier of Eq. S2 (doubles while the "
       "bound is violated)", rule=POSITIVE, **_ADAM),
    _o("tau0", 1.0, "τ₀ of Eq. S2 (× 0.95 while the bound is met)", rule=POSITIVE, **_ADAM),
    _o("max_steps", 20, "Adam steps, at most (the paper gives none; 20 keeps maps within "
       "10% of 100 steps, BENCHMARKS.md)", rule=COUNT, **_ADAM),
    _o("learning_rate", 0.1, "Adam step on w (tanh space)", rule=POSITIVE, **_ADAM),
    _o("init_noise", 0.01, "σ of the one-sided random start, in [0, 1] units",
       rule=NONNEG, **_ADAM),
    _o("patience", 2, "violating steps before a decoy that has met the bound stops (1: "
       "the paper's rule)", rule=COUNT, **_ADAM),
    _o("backoff", 0.5, "step-size factor after a violating step, which is undone (1: plain "
       "Adam; patience 1 with backoff 1 is S1.2 to the letter)", rule=SHARE, **_ADAM),
    _o("constant", None, "value of the constant ablation", kind="array",
       shown="the mean of x per channel",
       perturbation="constant", section="ablations"),
    _o("noise_level", 0.1, "σ of the noise ablation relative to x_max − x_min",
       rule=NONNEG, perturbation="noise", section="ablations"),
    _o("decoy_batch_size", None, "decoys optimised per batch (chunks balanced so that "
       "little is padded)", rule={**COUNT, "allow_none": True},
       shown="fit to memory_budget_mb", section="resources"),
    _o("memory_budget_mb", None, "memory for one chunk of decoys, MB",
       rule={**POSITIVE, "allow_none": True},
       shown="½ of a GPU's free memory, else ¼ of the host's available memory",
       section="resources"),
    _o("precision", "float32", "dtype of the decoy optimisation loop only (`bfloat16`: a "
       "bfloat16 copy of layers 1..ℓ aiming at 0.8 ε); certificates and the base method "
       "stay float32", kind="choice", choices=("float32", "bfloat16"), section="resources"),
)

#: name → Option
BY_NAME = {o.name: o for o in OPTIONS}
#: name → default
DEFAULTS = {o.name: o.default for o in OPTIONS}
#: options of one solver: solver → names
SOLVER_OPTIONS = {s: tuple(o.name for o in OPTIONS if o.solver == s) for s in SOLVERS}
#: the numeric options and their rules (keywords of ``validate.number``)
NUMBERS = {o.name: o.rule for o in OPTIONS if o.kind == "number"}


def _name_or_index(name: str, value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if name == "layer" and callable(value) and hasattr(value, "layers"):
        return value   # a keras.Model computing F_ℓ (checked when the plan is built)
    raise TypeError(f"{name}: expected a name (text), an integer index or None, got "
                    f"{value!r} ({type(value).__name__})")


def check(name: str, value):
    """``value`` of option ``name`` checked and converted (numbers as int / float, arrays
    as finite float32); raises ``InputError`` / ``TypeError`` naming the option."""
    opt = BY_NAME[name]
    if opt.kind == "number":
        return validate.number(name, value, **opt.rule)
    if opt.kind == "choice":
        if not isinstance(value, str) or value not in opt.choices:
            raise InputError(f"{name}: expected one of {opt.choices}, got {value!r}")
        return value
    if opt.kind == "flag":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: expected True or False, got {value!r}")
        return bool(value)
    if opt.kind == "seed":
        return validate.seed(name, value)
    if opt.kind == "name_or_index":
        return _name_or_index(name, value)
    if value is None or opt.kind == "method":   # the method's checks: saliency.base
        return value
    if opt.kind == "value_range":   # copies: the caller may change its arrays later
        return validate.value_range_pair(value)
    if opt.kind == "bound":
        return validate.deviation_bound(value)
    return validate.finite_array(name, value)   # array


def misplaced(values: dict) -> list[tuple[str, str]]:
    """(option, its solver) for every option in ``values`` that belongs to a solver other
    than ``values["solver"]`` (default ``line_search``) and differs from its default: an
    option that would do nothing."""
    return _not_in_use(values, "solver")


def misplaced_packing(values: dict) -> list[tuple[str, str]]:
    """(option, its packing) for every option in ``values`` that belongs to a packing
    other than ``values["packing"]`` and differs from its default (it would do nothing)."""
    return _not_in_use(values, "packing")


def _not_in_use(values: dict, field: str) -> list[tuple[str, str]]:
    """(option, its ``field`` value) for each non-default option tied to another choice of
    ``field`` (``"solver"`` or ``"packing"``) than the one ``values`` makes."""
    chosen = values.get(field, DEFAULTS[field])
    return [(name, getattr(BY_NAME[name], field)) for name, value in values.items()
            if name in BY_NAME and getattr(BY_NAME[name], field) not in (None, chosen)
            and not is_default(name, value)]


def is_default(name: str, value) -> bool:
    """Whether ``value`` (checked) is option ``name``'s default."""
    default = DEFAULTS[name]
    if value is None or default is None or isinstance(value, np.ndarray):
        return value is default
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


def refuse_misplaced(values: dict) -> None:
    """InputError naming the first option of a solver or packing that is not in use."""
    for name, solver in misplaced(values):
        chosen = values.get("solver", DEFAULTS["solver"])
        raise InputError(f"{name}: an option of the {solver} solver, which is not in use "
                         f"(solver={chosen!r}); pass solver={solver!r}, or leave {name} at "
                         f"its default {DEFAULTS[name]!r}")
    for name, packing in misplaced_packing(values):
        chosen = values.get("packing", DEFAULTS["packing"])
        raise InputError(f"{name}: an option of packing={packing!r}, which is not in use "
                         f"(packing={chosen!r}); pass packing={packing!r}, or leave {name} "
                         f"at its default {DEFAULTS[name]!r}")


#: section → title, in the order the docs list them
SECTIONS = {
    "method": "the base method",
    "dance": "DANCE (paper defaults, Table S1 / §3.3 / S1.2)",
    "masks": "windows and masks (S1.1)",
    "line_search": "line_search solver (the default) only",
    "adam": "adam solver (solver=\"adam\") only",
    "ablations": "ablations (perturbation=\"constant\" / \"noise\") only",
    "resources": "memory and precision",
}


def docstring() -> str:
    """The options as the ``Explainer``'s docstring lists them (appended to it)."""
    lines = ["", "    Options (the paper's defaults in brackets):"]
    for section, title in SECTIONS.items():
        lines.append(f"      {title[0].upper() + title[1:]}:")
        for o in OPTIONS:
            if o.section == section:
                text = f"{o.name}: {o.help} [{o.default_text}]".replace("`", "")
                lines += textwrap.wrap(text, 90, initial_indent=" " * 8,
                                       subsequent_indent=" " * 10)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The README's option table (tests/test_options_table.py checks README.md holds it)."""
    rows = ["| option | meaning | default | applies to |", "|---|---|---|---|"]
    for o in OPTIONS:
        where = (f"`solver=\"{o.solver}\"`" if o.solver else
                 f"`perturbation=\"{o.perturbation}\"`" if o.perturbation else
                 f"`packing=\"{o.packing}\"`" if o.packing else "all")
        rows.append(f"| `{o.name}` | {_cell(o.help)} | {_cell(o.default_text)} | {where} |")
    return "\n".join(rows) + "\n"
