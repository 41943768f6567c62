"""Command-line flags generated from the options table (``dance_tf.options``): every
``Explainer`` option is a flag of ``dance-tf explain`` / ``export`` (``--max-steps`` for
``max_steps``; the base method's own options through ``--method-option KEY=VALUE``),
grouped as the table sections them, so that solver-only flags sit under their solver;
evaluate's ``--option KEY=VALUE`` text is read by the same table. A flag of a solver that
is not in use is refused at parse time. No TensorFlow here (``--help`` stays light)."""

from __future__ import annotations

import argparse

from dance_tf import options, validate
from dance_tf.errors import InputError

#: options the command line sets through other flags (the method's own flags)
BY_OTHER_FLAGS = {"base": ("--method", "--method-option"),
                  "method_options": ("--method-option",)}
#: options given on the command line but passed by the command itself (the model's range)
PASSED_BY_COMMAND = ("value_range",)
#: defaults the command line sets otherwise than the API
CLI_SHOWN = {"value_range": "the model's: digits and .keras images 0 1; zoo nets the "
                            "mean-subtracted pixel range; SST the embedding table's range"}
#: section → argparse group title
TITLES = {
    "method": "DANCE options (paper defaults, Table S1 / §3.3 / S1.2)",
    "dance": None, "masks": None, "resources": None,   # the same group
    "line_search": "line_search solver (the default; --solver line_search only)",
    "adam": "adam solver (--solver adam only; S1.2's schedule)",
    "ablations": "ablations (--perturbation constant / noise only)",
}


class _Given(argparse.Action):
    """Stores the value and records that the flag was given (``namespace._given``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        _record(namespace, self.dest)


class _GivenFlag(argparse.BooleanOptionalAction):
    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        _record(namespace, self.dest)


class _GivenAppend(argparse._AppendAction):
    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        _record(namespace, self.dest)


def _record(namespace, dest: str) -> None:
    given = set(getattr(namespace, "_given", ()))
    given.add(dest)
    namespace._given = given


def _typed(name: str, convert):
    """An argparse ``type`` that converts text with ``convert`` (message names ``name``)."""
    def parse(text):
        try:
            return convert(text)
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = name
    return parse


def name_or_index(text: str):
    """``"3"`` → 3, ``"pool1"`` → ``"pool1"``, ``"none"`` → None (a layer or an output)."""
    t = text.strip()
    if t.lower() == "none":
        return None
    return int(t) if t.lstrip("-").isdigit() else t


def from_text(name: str, text: str):
    """Option ``name``'s value from command-line text, checked by the table's rule."""
    opt = options.BY_NAME[name]
    if opt.kind == "number":
        return validate.number_from_text(name, text, **opt.rule)
    if opt.kind == "seed":
        return validate.seed(name, validate.number_from_text(name, text))
    if opt.kind == "flag":
        words = {"true": True, "false": False}
        if text.strip().lower() not in words:
            raise InputError(f"{name}: expected true or false, got {text!r}")
        return words[text.strip().lower()]
    if opt.kind == "name_or_index":
        return name_or_index(text)
    if opt.kind in ("bound", "array"):   # one number for every feature
        return options.check(name, validate.number_from_text(name, text, allow_none=True))
    return options.check(name, text.strip())


def add(p: argparse.ArgumentParser, method_type, method_help: str):
    """Add a flag for every explainer option (``method_type`` resolves ``--method``);
    returns the "base method options" group (``--method-option`` is its first flag)."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for opt in options.OPTIONS:
        if opt.name in BY_OTHER_FLAGS:
            continue
        title = TITLES[opt.section] or TITLES["method"]
        group = groups.setdefault(title, p.add_argument_group(title))
        help_text = opt.help.replace("`", "").replace("%", "%%")
        shown = CLI_SHOWN.get(opt.name, opt.shown)
        if shown is not None:
            help_text += f" [{shown}]".replace("%", "%%")
        kw = {"default": opt.default, "help": help_text, "action": _Given}
        if opt.name == "method":
            kw.update(type=method_type, help=method_help)
        elif opt.kind == "choice":
            kw["choices"] = opt.choices
        elif opt.kind == "flag":
            kw["action"] = _GivenFlag
        elif opt.kind == "value_range":
            kw.update(nargs=2, metavar=("LO", "HI"),
                      type=_typed(opt.name, lambda t: validate.number_from_text("value_range",
                                                                                t)))
        else:
            kw["type"] = _typed(opt.name, lambda t, n=opt.name: from_text(n, t))
        group.add_argument(opt.flag, **kw)
    group = p.add_argument_group("base method options")
    group.add_argument(
        "--method-option", action=_GivenAppend, default=[], metavar="KEY=VALUE",
        type=_typed("--method-option", method_option),
        help="an option of the base method, e.g. baseline=0.5 (repeatable; numbers, "
             "true / false / none, or text)")
    return group


def method_option(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` → (key, value as int, finite float, True / False / None or text)."""
    key, sep, value = (part.strip() for part in text.partition("="))
    if not sep or not key:
        raise InputError(f"expected KEY=VALUE, got {text!r}")
    words = {"true": True, "false": False, "none": None}
    if value.lower() in words:
        return key, words[value.lower()]
    for kind in (int, float):
        try:
            return key, validate.number(key, kind(value))
        except ValueError:
            continue
    return key, value


def misplaced(args) -> str | None:
    """The refusal of a given flag (even at its default) that belongs to a solver or a
    packing not in use, else None."""
    solver = getattr(args, "solver", options.DEFAULTS["solver"])
    packing = getattr(args, "packing", options.DEFAULTS["packing"])
    for name in sorted(getattr(args, "_given", ())):
        opt = options.BY_NAME.get(name)
        if opt is None:
            continue
        if opt.solver not in (None, solver):
            return (f"{opt.flag}: an option of the {opt.solver} solver, which is not in use "
                    f"(--solver {solver}); add --solver {opt.solver}, or drop {opt.flag}")
        if opt.packing not in (None, packing):
            return (f"{opt.flag}: an option of --packing {opt.packing}, which is not in use "
                    f"(--packing {packing}); add --packing {opt.packing}, or drop {opt.flag}")
    return None


def explainer_kwargs(args) -> dict:
    """``Explainer`` keywords from parsed flags: every option that differs from its
    default (``value_range`` is left to the command), and ``method_options``."""
    out = {}
    for opt in options.OPTIONS:
        if opt.name in BY_OTHER_FLAGS or opt.name in PASSED_BY_COMMAND:
            continue
        value = getattr(args, opt.name)
        if not options.is_default(opt.name, value):
            out[opt.name] = value
    extra = dict(args.method_option)
    if extra:
        out["method_options"] = extra
    return out


class OptionParser(argparse.ArgumentParser):
    """A parser that refuses, as one line with exit status 2, a flag of a solver or a
    packing that is not in use (``misplaced``)."""

    def parse_known_args(self, args=None, namespace=None):
        parsed, rest = super().parse_known_args(args, namespace)
        problem = misplaced(parsed) if hasattr(parsed, "solver") else None
        if problem:
            self.exit(2, f"dance-tf: error: {problem}\n")
        return parsed, rest
