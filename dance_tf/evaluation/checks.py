"""Checks of the evaluation settings, shared by the command line (text) and
:class:`~dance_tf.evaluation.config.EvalConfig` (Python values).

Each check returns the value in its canonical type or raises (``TypeError`` for a value of
the wrong kind, ``ValueError`` otherwise) with a message that names the setting. No
TensorFlow here: the command line checks before the heavy imports.
"""

from __future__ import annotations

from collections.abc import Mapping

from dance_tf import option_flags, validate
from dance_tf import options as table
from dance_tf.evaluation.variants import ATTACKS, VARIANTS

INT1, NONNEG = validate.COUNT, validate.NONNEG
SEED = {"integer": True, "low": 0, "high": 2**32 - 1}
#: the numeric settings (flag ``--x-y`` sets ``x_y``) and how each is checked
NUMBERS = {
    "count": INT1, "attack_iterations": INT1, "ig_steps": INT1, "sg_samples": INT1,
    "sg_noise": NONNEG, "seed": SEED, "split_seed": SEED,
    "examples": {"integer": True, "low": 0}, "num_shards": INT1,
    "shard_index": {"integer": True, "low": 0},
}
#: numeric --option keys and how each is checked (dance_tf.validate): the explainer's own
#: table (dance_tf.options), plus the per-feature bound and the base methods' batch size
#: as scalars; the table's other options are checked by its rules too
OPTION_NUMBERS = {**table.NUMBERS, "deviation_bound": NONNEG, "batch_size": INT1}
#: --option keys that another flag sets (giving both would be ambiguous)
OPTION_RESERVED = {
    "seed": "--seed", "method": "--methods", "perturbation": "--variants",
    "aggregation": "--variants", "steps": "--ig-steps", "samples": "--sg-samples",
    "noise": "--sg-noise", "value_range": "the task", "constant": "the task",
}
STRATEGIES = ("none", "mirrored", "multi-worker")


def names(flag: str, value) -> tuple[str, ...]:
    """Comma-separated text or a sequence of names → the stripped, non-empty names."""
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, (bytes, Mapping)) or not hasattr(items, "__iter__"):
        raise TypeError(f"{flag}: expected comma-separated names or a sequence of names, "
                        f"got {items!r}")
    items = list(items)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{flag}: expected names (text), got {item!r}")
    return tuple(item.strip() for item in items if item.strip())


def methods(value) -> tuple[str, ...]:
    """Base method names, at least one (resolved by the explainer's method registry)."""
    out = names("--methods", value)
    if not out:
        raise ValueError("--methods: expected at least one method")
    return out


def some_of(flag: str, value, allowed) -> tuple[str, ...]:
    out = names(flag, value)
    bad = [v for v in out if v not in allowed]
    if bad:
        raise ValueError(f"{flag}: unknown {bad}; expected some of {list(allowed)}")
    return out


def variants(value) -> tuple[str, ...]:
    """Variant names, some of VARIANTS (none, decoys, mean, constant, noise, covering)."""
    return some_of("--variants", value, VARIANTS)


def attacks(value) -> tuple[str, ...]:
    """Attack names, some of ATTACKS (topk, targeted, mass_center)."""
    return some_of("--attacks", value, ATTACKS)


def k_values(value) -> tuple[float, ...]:
    """Top-K fractions in (0, 1], distinct: comma-separated text, one number or several."""
    spec = {"low": 0, "low_open": True, "high": 1}
    if isinstance(value, str):
        ks = [validate.number_from_text("--k", k, **spec) for k in value.split(",")]
    else:
        items = value if hasattr(value, "__iter__") else [value]
        ks = [validate.number("--k", k, **spec) for k in items]
    return validate.fractions("--k", ks)


def number(name: str, value):
    """A numeric setting of NUMBERS (``count`` may also be None: the task's default)."""
    spec = NUMBERS[name]
    if name == "count":
        spec = {**spec, "allow_none": True}
    return validate.number(name, value, **spec)


def shards(index: int, count: int) -> None:
    if not index < count:
        raise ValueError(f"--shard-index: expected 0 ≤ shard-index < num-shards ({count}), "
                         f"got {index}")


def choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return value


def option(key, value):
    """One explainer option given from Python: the numeric keys of OPTION_NUMBERS are
    validated (finite, typed, in range); another float must be finite."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"options: expected non-empty text keys, got {key!r}")
    if key in OPTION_RESERVED:
        raise ValueError(f"{key}: set it with {OPTION_RESERVED[key]}, not --option")
    if key in OPTION_NUMBERS:
        return validate.number(key, value, **OPTION_NUMBERS[key])
    if key in table.BY_NAME:
        return table.check(key, value)
    if isinstance(value, float):
        return validate.number(key, value)   # nan / inf refused
    return value


def options(value) -> dict:
    """The explainer options (a mapping of key → value), each checked by :func:`option`."""
    if not isinstance(value, Mapping):
        raise TypeError(f"options: expected a mapping of explainer options, got {value!r}")
    out = {key: option(key, v) for key, v in value.items()}
    table.refuse_misplaced(out)   # an option of a solver not in use
    return out


def option_from_text(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` → (key, typed value): the numeric keys of OPTION_NUMBERS are validated
    (finite, typed, in range); other values become int, finite float, True / False / None
    or text."""
    if "=" not in text:
        raise ValueError("expected KEY=VALUE")
    key, value = (part.strip() for part in text.split("=", 1))
    if not key:
        raise ValueError("expected KEY=VALUE, the key is empty")
    if key in OPTION_RESERVED:
        raise ValueError(f"{key}: set it with {OPTION_RESERVED[key]}, not --option")
    if key in OPTION_NUMBERS:
        return key, validate.number_from_text(key, value, **OPTION_NUMBERS[key])
    if key in table.BY_NAME:
        return key, option_flags.from_text(key, value)
    words = {"true": True, "false": False, "none": None}
    if value.lower() in words:
        return key, words[value.lower()]
    try:
        return key, int(value)
    except ValueError:
        pass
    try:
        parsed = float(value)
    except ValueError:
        return key, value
    return key, validate.number(key, parsed)   # nan / inf refused
