"""The explainer's flags of ``dance-tf explain`` / ``export``: every option of the table
(``dance_tf.option_flags``), the base method by name or alias, the base methods' step /
sample / noise numbers, and the :class:`dance_tf.Explainer` they configure (the paper's
IG steps and SmoothGrad samples unless given). No TensorFlow at import (``--help``)."""

from __future__ import annotations

import argparse

from dance_tf import option_flags
from dance_tf.cli.console import CLIError

#: every base method of ``dance_tf.saliency.registry.BUILT_IN`` (kept here so that --help
#: needs no TensorFlow; tests/cli/test_explainer_flags.py checks it equals the registry)
METHODS = ("gradient", "integrated_gradients", "smoothgrad", "expected_gradients",
           "vargrad", "smoothgrad_range", "ig_uniform", "gradcam")
#: the registry's aliases (same check)
ALIASES = {"grad": "gradient", "ig": "integrated_gradients", "intgrad": "integrated_gradients",
           "sg": "smoothgrad", "expgrad": "expected_gradients", "eg": "expected_gradients",
           "sgrange": "smoothgrad_range", "sgradrange": "smoothgrad_range",
           "intuniform": "ig_uniform", "grad_cam": "gradcam", "grad-cam": "gradcam"}
#: methods that take --ig-steps as ``steps`` / --sg-samples, --sg-noise as samples, noise
STEP_METHODS = ("integrated_gradients", "ig_uniform")
NOISE_METHODS = ("smoothgrad", "vargrad", "smoothgrad_range")
PAPER_DEFAULTS = {"integrated_gradients": {"steps": 50},
                  "smoothgrad": {"samples": 50, "noise": 0.15}}


def _method(value: str) -> str:
    name = ALIASES.get(value.lower(), value.lower())
    if name not in METHODS:
        raise argparse.ArgumentTypeError(f"unknown base method {value!r}; expected one of "
                                         f"{', '.join(METHODS)}")
    return name


def _method_number(option: str):
    """An argparse ``type`` checking a base method's number by the methods' own rule
    (``dance_tf.saliency.checks.NUMBERS``), so --sg-samples 0 is refused at parse time."""
    def parse(text: str):
        from dance_tf import validate
        from dance_tf.saliency.checks import NUMBERS  # only when the flag is given

        try:
            return validate.number_from_text(option, text, **NUMBERS[option])
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = option
    return parse


def add_dance_options(p: argparse.ArgumentParser) -> None:
    """Every explainer option as a flag (generated from ``dance_tf.options``), and the
    base methods' step / sample / noise flags."""
    g = option_flags.add(p, _method, "base method: " + ", ".join(METHODS) + " (the paper's "
                         "main three are the first three; aliases: ig, sg, eg, grad-cam, ...)")
    g.add_argument("--ig-steps", type=_method_number("steps"), default=None,
                   help="path steps of integrated_gradients [50, the paper's] and "
                        "ig_uniform [its own default, 25]")
    g.add_argument("--sg-samples", type=_method_number("samples"), default=None,
                   help="noisy samples of smoothgrad [50, the paper's], vargrad and "
                        "smoothgrad_range [their own default, 25]")
    g.add_argument("--sg-noise", type=_method_number("noise"), default=None,
                   help="relative noise level of smoothgrad, vargrad, smoothgrad_range "
                        "[0.15]")


def explainer_options(args) -> dict:
    """Explainer keyword arguments from parsed DANCE options (every option that differs
    from its default; the paper's steps / samples of IG and SmoothGrad unless given)."""
    opts = option_flags.explainer_kwargs(args)
    name = ALIASES.get(args.method.lower(), args.method.lower())
    given = opts.get("method_options", {})
    extra = {k: v for k, v in PAPER_DEFAULTS.get(name, {}).items() if k not in given}
    if name in STEP_METHODS and args.ig_steps is not None:
        extra["steps"] = args.ig_steps
    if name in NOISE_METHODS:
        if args.sg_samples is not None:
            extra["samples"] = args.sg_samples
        if args.sg_noise is not None:
            extra["noise"] = args.sg_noise
    opts.update(extra)
    return opts


def value_range(args, default):
    """--value-range if given, else the model's ``default``."""
    return default if args.value_range is None else tuple(args.value_range)


def explainer(model, value_range, args):
    """The :class:`dance_tf.Explainer` the parsed flags configure (refusals: CLIError)."""
    import dance_tf

    try:
        return dance_tf.Explainer(model, value_range=value_range, **explainer_options(args))
    except (TypeError, ValueError) as err:
        raise CLIError(str(err)) from err
