"""The ``Explainer``'s options checked once, where they enter, into a frozen object:
each value by the rule the options table declares for it (``dance_tf.options``), the
solver's by ``DecoySettings``; an option of a solver that is not in use is refused. Every
refusal names the option. No TensorFlow here."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dance_tf import options
from dance_tf.decoys.settings import FIELDS, DecoySettings

#: the options of ``Explainer``, appended to its docstring
DOC = options.docstring()


class ExplainerOptions(Mapping):
    """Checked options, frozen: ``opts["max_steps"]`` or ``opts.max_steps``; ``settings``
    is the solver's ``DecoySettings``. Made by :func:`checked`."""

    __slots__ = ("_values", "settings", "__dict__")

    def __init__(self, values: Mapping, settings: DecoySettings):
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))
        object.__setattr__(self, "settings", settings)
        self.__dict__.update(values)   # opts.name without a Python-level lookup

    def __getitem__(self, name: str):
        return self._values[name]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no explainer option {name!r}") from None

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __setattr__(self, name, value):
        raise AttributeError("explainer options are frozen; make new ones with checked()")

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items()
                   if not options.is_default(k, v)}
        return f"ExplainerOptions({changed})"


def checked(values: Mapping) -> ExplainerOptions:
    """``values`` (option → value; the rest take their defaults) checked once and
    converted (numbers as int / float, arrays as finite float32). Raises ``InputError``
    / ``TypeError`` naming the option, also for an option of the solver not in use."""
    unknown = sorted(set(values) - set(options.BY_NAME))
    if unknown:
        raise TypeError(f"unknown explainer option(s) {unknown}")
    given = {**options.DEFAULTS, **values}
    out = {name: options.check(name, value) for name, value in given.items()
           if name not in FIELDS}
    settings = DecoySettings(**{name: given[name] for name in FIELDS})
    out.update({name: getattr(settings, name) for name in FIELDS})
    options.refuse_misplaced(out)
    return ExplainerOptions({name: out[name] for name in options.BY_NAME}, settings)
