"""The explainer's flags (dance_tf.cli.explainer_flags): help shows the paper's defaults
and every base method, the static method list is the registry's, the base methods' numbers
reach the method they belong to and are refused at parse time (issue 24: they were refused
only after the model loaded), an unknown method is refused while parsing."""

from __future__ import annotations

import pytest

from dance_tf import cli
from dance_tf.cli import explainer_flags
from tests.cli.conftest import help_text, one_error_line


@pytest.mark.parametrize("command", ["explain", "export"])
def test_help_shows_the_paper_defaults(command, capsys):
    text = " ".join(help_text([command], capsys).split())
    for needed in ("--lambda0", "(default: 10000.0)", "--max-steps", "(default: 20)",
                   "--epsilon-rel", "(default: 0.05)", "--tau0", "(default: 1.0)",
                   "images 3", "images 100", "Table S1", "(default: range)",
                   "(default: paper)", "(default: gradient)"):
        assert needed in text, needed


def test_the_static_method_list_is_the_registry():
    from dance_tf.saliency import registry

    assert set(explainer_flags.METHODS) == set(registry.BUILT_IN)
    assert explainer_flags.ALIASES == registry.ALIASES


def test_help_lists_every_base_method(capsys):
    with pytest.raises(SystemExit):
        cli.main(["explain", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for method in explainer_flags.METHODS:
        assert method in text, method


@pytest.mark.parametrize("argv, want", [
    (["--method", "vargrad", "--sg-samples", "7"], {"samples": 7}),
    (["--method", "sg"], {"samples": 50, "noise": 0.15}),
    (["--method", "ig", "--ig-steps", "9"], {"steps": 9}),
    (["--method", "ig_uniform"], {}),
    (["--method", "gradcam"], {}),
])
def test_method_options_reach_the_method_they_belong_to(argv, want):
    args = cli.build_parser().parse_args(["explain", "x.png", *argv])
    opts = explainer_flags.explainer_options(args)
    extra = {k: opts[k] for k in ("steps", "samples", "noise") if k in opts}
    assert extra == want


def test_an_unknown_method_is_refused_at_parse_time(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain", "x.png", "--method", "gradients"])
    assert exit_.value.code == 2
    assert "integrated_gradients" in capsys.readouterr().err


@pytest.mark.parametrize("flags, names", [
    (["--method", "sg", "--sg-samples", "0"], "--sg-samples: samples"),
    (["--method", "sg", "--sg-samples", "2.5"], "--sg-samples: samples"),
    (["--method", "ig", "--ig-steps", "0"], "--ig-steps: steps"),
    (["--method", "ig", "--ig-steps", "nan"], "--ig-steps: steps"),
    (["--method", "sg", "--sg-noise", "-1"], "--sg-noise: noise"),
    (["--method", "sg", "--sg-noise", "inf"], "--sg-noise: noise"),
    (["--method", "sg", "--sg-noise", "lots"], "--sg-noise: noise"),
])
@pytest.mark.parametrize("command", ["explain", "export"])
def test_base_method_numbers_are_refused_at_parse_time(command, flags, names, capsys,
                                                       tmp_path):
    """The model named does not exist: only a refusal while parsing names the flag."""
    where = ["in.png"] if command == "explain" else ["--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, *where, "--model", str(tmp_path / "missing.keras"), *flags])
    assert exit_.value.code == 2
    line = one_error_line(capsys)
    assert names in line, line
    assert "missing.keras" not in line


def test_valid_base_method_numbers_parse():
    args = cli.build_parser().parse_args(["explain", "x.png", "--method", "sg",
                                          "--sg-samples", "3", "--sg-noise", "0.2"])
    opts = explainer_flags.explainer_options(args)
    assert opts["samples"] == 3 and opts["noise"] == pytest.approx(0.2)
