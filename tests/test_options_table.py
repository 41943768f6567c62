"""dance_tf.options: every Explainer option declared once. The Explainer's signature,
``dance_tf.explain``, the flags of ``dance-tf explain`` / evaluate's ``--option`` and the
README's table are compared with it; an option of a solver that is not in use is refused
by the command line (checked once, into a frozen object, and refused by the API:
test_explainer_options.py; the solver's hand cases: decoys/test_settings.py)."""

import inspect
import math
import re
import subprocess
import sys
import textwrap

import pytest

import dance_tf
from dance_tf import cli, explainer_options, option_flags, options
from dance_tf.cli import explainer_flags
from dance_tf.decoys.settings import FIELDS, DecoySettings
from dance_tf.evaluation import checks
from dance_tf.evaluation import cli as ev_cli
from dance_tf.evaluation.config import EvalConfig
from tests.conftest import ROOT, load_script, small_cnn

SOLVER_OPTIONS = [o for o in options.OPTIONS if o.solver]
#: command-line flags of explain that are not explainer options
COMMAND_FLAGS = {"-h", "--help", "--sentence", "--row", "--target", "--label", "--out",
                 "--model", "--checkpoint", "--random-weights", "--force", "--verbose",
                 "--ig-steps", "--sg-samples", "--sg-noise"}


def _other_value(opt) -> list[str]:
    """Command-line words giving ``opt`` a valid value other than its default."""
    if opt.kind == "flag":
        return ["--no-" + opt.flag[2:] if opt.default else opt.flag]
    if opt.kind == "choice":
        return [opt.flag, next(c for c in opt.choices if c != opt.default)]
    if opt.kind == "name_or_index":
        return [opt.flag, "pool1"]
    if opt.kind == "value_range":
        return [opt.flag, "0", "2"]
    if opt.kind == "method":
        return [opt.flag, "ig"]
    if opt.kind in ("seed", "bound", "array") or opt.default is None:
        return [opt.flag, "2"]
    if opt.rule.get("integer"):
        return [opt.flag, str(opt.default + 1)]
    return [opt.flag, repr(opt.default / 2)]


def _explain_args(*words):
    return cli.build_parser().parse_args(["explain", "x.png", *words])


def _subparser(name: str):
    action = next(a for a in cli.build_parser()._actions if a.dest == "command")
    return action.choices[name]


# ---------------------------------------------------------------- one declaration
def test_the_explainer_signature_is_the_table():
    params = inspect.signature(dance_tf.Explainer.__init__).parameters
    taken = {n: p.default for n, p in params.items()
             if n not in ("self", "model", "extra_method_options")}
    assert len(taken) >= 34                                  # the signature was read
    assert set(taken) == set(options.DEFAULTS)
    for name, default in taken.items():
        want = options.DEFAULTS[name]
        assert default == want and type(default) is type(want), name


def test_explain_takes_the_table_defaults():
    params = inspect.signature(dance_tf.explain).parameters
    named = {n: p.default for n, p in params.items()
             if n not in ("model", "x", "target", "return_details", "options")}
    assert {"method", "layer", "solver", "seed"} <= set(named)
    for name, default in named.items():
        assert name in options.DEFAULTS, name
        assert default == options.DEFAULTS[name], name


def test_decoy_settings_are_the_solver_slice_of_the_table():
    belongs = {o.name for o in options.OPTIONS if o.solver} - {"use_crops"}   # planning's
    assert belongs <= set(FIELDS)
    assert set(FIELDS) - belongs == {"solver", "epsilon", "epsilon_rel"}
    plain = DecoySettings()
    for name in FIELDS:
        assert getattr(plain, name) == options.DEFAULTS[name], name
    assert plain.lambda_max == 1e4 * 2 ** 20 and plain.tau_decay == 0.95


def test_choices_are_the_modules_own():
    from dance_tf import aggregate, layers, masks
    from dance_tf.decoys import ablations
    from dance_tf.saliency import registry

    by = options.BY_NAME
    assert by["perturbation"].choices == ablations.PERTURBATIONS
    assert by["aggregation"].choices == aggregate.AGGREGATIONS
    assert by["packing"].choices == masks.PACKINGS
    assert by["precision"].choices == layers.PRECISIONS
    for method in registry.BUILT_IN:
        assert method in by["method"].help, method


def test_the_readme_holds_the_generated_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert options.markdown() in readme
    table = readme[readme.index("## Options"):]
    table = table[:table.index("\n\n", table.index("| option |"))]
    listed = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert listed == [o.name for o in options.OPTIONS]


# ---------------------------------------------------------------- the command line
def test_every_option_is_a_flag_of_explain_and_every_dance_flag_an_option():
    """Both lists derived from the table: each option's flag (or the flags that set it)
    is in ``dance-tf explain --help``, and every flag there is an option or a command's
    own flag."""
    expected = set()
    for o in options.OPTIONS:
        expected.update(option_flags.BY_OTHER_FLAGS.get(o.name, (o.flag,)))
    expected |= {"--no-use-crops"}
    parser = _subparser("explain")
    shown = {s for a in parser._actions for s in a.option_strings}
    assert shown - COMMAND_FLAGS == expected
    text = parser.format_help()
    for flag in expected:
        assert re.search(rf"{re.escape(flag)}\b", text), flag
    assert _subparser("export").format_help().count("--max-steps") >= 1


@pytest.mark.parametrize("opt", SOLVER_OPTIONS, ids=lambda o: o.name)
def test_solver_only_flags_sit_in_their_solver_group(opt):
    parser = _subparser("explain")
    group = next(g for g in parser._action_groups
                 if any(opt.flag in a.option_strings for a in g._group_actions))
    assert group.title.startswith(f"{opt.solver} solver")
    others = [a.dest for a in group._group_actions]
    assert all(options.BY_NAME[d].solver == opt.solver for d in others)


@pytest.mark.parametrize("opt", SOLVER_OPTIONS, ids=lambda o: o.name)
def test_a_flag_of_the_solver_not_in_use_is_one_line_exit_2(opt, capsys):
    other = next(s for s in options.SOLVERS if s != opt.solver)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain", "x.png", "--solver", other, *_other_value(opt)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dance-tf: error: ")
    assert opt.flag in err and f"{opt.solver} solver" in err
    # with its solver it reaches the explainer
    args = _explain_args("--solver", opt.solver, *_other_value(opt))
    assert opt.name in explainer_flags.explainer_options(args)


def test_a_solver_flag_is_refused_even_at_its_default(capsys):
    with pytest.raises(SystemExit):
        cli.main(["explain", "x.png", "--max-steps", "20"])
    assert "--max-steps" in capsys.readouterr().err


@pytest.mark.parametrize("opt", [o for o in options.OPTIONS if o.kind != "method"
                                 and o.name not in option_flags.PASSED_BY_COMMAND],
                         ids=lambda o: o.name)
def test_every_option_reaches_the_explainer_from_explain(opt):
    solver = ["--solver", opt.solver] if opt.solver and opt.name != "solver" else []
    packing = ["--packing", opt.packing] if opt.packing else []
    args = _explain_args(*solver, *packing, *_other_value(opt))
    kwargs = explainer_flags.explainer_options(args)
    assert opt.name in kwargs and not options.is_default(opt.name, kwargs[opt.name])
    checked = explainer_options.checked({k: v for k, v in kwargs.items()
                                         if k not in ("steps", "samples", "noise")})
    assert checked[opt.name] == options.check(opt.name, kwargs[opt.name])


def test_defaults_on_the_command_line_give_no_keywords():
    assert explainer_flags.explainer_options(_explain_args()) == {}


def test_method_option_reaches_the_method():
    args = _explain_args("--method", "ig", "--method-option", "steps=7",
                         "--method-option", "baseline=0.5")
    kwargs = explainer_flags.explainer_options(args)
    assert kwargs["method_options"] == {"steps": 7, "baseline": 0.5}
    assert "steps" not in kwargs                 # the paper's 50 steps yield to the option


def test_bad_numbers_are_refused_when_parsed(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain", "x.png", "--epsilon-rel", "-1"])
    assert exit_.value.code == 2 and "epsilon_rel" in capsys.readouterr().err


# ---------------------------------------------------------------- the old rule table
@pytest.mark.parametrize("name", sorted(options.NUMBERS))
def test_explainer_and_evaluation_refuse_the_same_nan(name):
    with pytest.raises(ValueError, match=name):
        dance_tf.Explainer(small_cnn(), **{name: math.nan})
    with pytest.raises(ValueError, match=name):
        checks.option(name, math.nan)


def test_evaluate_refuses_an_option_of_the_solver_not_in_use(capsys):
    with pytest.raises(SystemExit) as exit_:
        ev_cli.parse(["--option", "max_steps=5"])
    assert exit_.value.code == 2
    assert "max_steps: an option of the adam solver" in capsys.readouterr().err
    assert ev_cli.parse(["--option", "solver=adam", "--option", "max_steps=5"]).options == {
        "solver": "adam", "max_steps": 5}
    with pytest.raises(ValueError, match="line_grid"):
        EvalConfig(options={"solver": "adam", "line_grid": 4})
    with pytest.raises(ValueError, match="packing"):
        checks.option("packing", "tile")


def test_explain_image_settings_are_accepted():
    script = load_script("explain_image")
    for settings in (script.PAPER, script.CPU):
        explainer_options.checked(settings)


# ---------------------------------------------------------------- no TensorFlow
def test_the_table_and_the_flags_import_no_tensorflow():
    code = textwrap.dedent("""
        import sys
        from dance_tf import explainer_options, option_flags, options
        from dance_tf.decoys import settings
        from dance_tf.cli import build_parser
        build_parser().parse_args(["explain", "x.png", "--solver", "adam"])
        explainer_options.checked({"solver": "adam", "max_steps": 3})
        print("TF" if "tensorflow" in sys.modules else "NO-TF")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "NO-TF"


def test_subpackages_are_reachable_after_import_dance_tf():
    code = textwrap.dedent("""
        import sys
        import dance_tf
        assert "dance_tf.saliency" not in sys.modules and "tensorflow" not in sys.modules
        assert callable(dance_tf.saliency.gradient)
        assert dance_tf.models.__name__ == "dance_tf.models"
        assert dance_tf.metrics.__name__ == "dance_tf.metrics"
        print("OK")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("OK")
