"""The settings of one evaluation run, typed and checked where they are built."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType

from dance_tf.evaluation import checks
from dance_tf.evaluation.variants import DEFAULT_VARIANTS, METHODS


@dataclass(frozen=True)
class EvalConfig:
    """What ``evaluate`` runs: the fields of the command line's flags (``--ig-steps`` is
    ``ig_steps``), with the same defaults and checks. Lists may be given as sequences or
    as comma-separated text; ``out`` defaults to ``outputs/<task>``; ``options`` are the
    explainer options of ``--option`` (read-only). A bad value raises TypeError or
    ValueError naming the setting, e.g.
    ``EvalConfig(task="digits", count=4, methods=("gradient",), k=(0.2, 0.5))``.
    ``force``: write into an ``out`` that holds files dance-tf did not write (never over
    them, never through a link).
    """

    task: str = "digits"
    input: str | None = None
    model: str | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    count: int | None = None
    out: Path | None = None
    methods: tuple[str, ...] = METHODS
    variants: tuple[str, ...] = DEFAULT_VARIANTS
    k: tuple[float, ...] = (0.2,)
    attacks: tuple[str, ...] = ()
    attack_iterations: int = 300
    ig_steps: int = 50
    sg_samples: int = 50
    sg_noise: float = 0.15
    seed: int = 0
    split_seed: int = 0
    examples: int = 4
    num_shards: int = 1
    shard_index: int = 0
    strategy: str = "none"
    report_only: bool = False
    quiet: bool = False
    force: bool = False

    def __post_init__(self):
        for name, value in _checked(self).items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_namespace(cls, ns) -> EvalConfig:
        """The configuration of parsed command-line arguments (``evaluate.parse``); an
        attribute that ``ns`` lacks keeps its default, one that is not a field is ignored."""
        return cls(**{f.name: getattr(ns, f.name) for f in fields(cls) if hasattr(ns, f.name)})

    def as_dict(self) -> dict:
        """The fields as a dict (``options`` a plain dict): ``EvalConfig(**c.as_dict())``."""
        return {f.name: (dict(self.options) if f.name == "options" else getattr(self, f.name))
                for f in fields(self)}

    def __reduce__(self):   # pickle and deepcopy (a read-only mapping does not pickle)
        return (_rebuild, (self.as_dict(),))


def _rebuild(values: dict) -> EvalConfig:
    return EvalConfig(**values)


def _path(name: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a path or None, got {value!r}")
    return os.fspath(value)


def _checked(c: EvalConfig) -> dict:
    """Every field of ``c`` checked and in its canonical type."""
    if not isinstance(c.task, str) or not c.task:
        raise TypeError(f"task: expected a task name, got {c.task!r}")
    out = {name: checks.number(name, getattr(c, name)) for name in checks.NUMBERS}
    checks.shards(out["shard_index"], out["num_shards"])
    return {
        **out,
        "input": _path("input", c.input),
        "model": _path("model", c.model),
        "out": Path(_path("out", c.out) or os.path.join("outputs", c.task)),
        "options": MappingProxyType(checks.options(c.options)),
        "methods": checks.methods(c.methods),
        "variants": checks.variants(c.variants),
        "attacks": checks.attacks(c.attacks),
        "k": checks.k_values(c.k),
        "strategy": checks.choice("strategy", c.strategy, checks.STRATEGIES),
        "report_only": checks.flag("report_only", c.report_only),
        "quiet": checks.flag("quiet", c.quiet),
        "force": checks.flag("force", c.force),
    }
