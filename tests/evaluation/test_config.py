"""EvalConfig: the typed settings of an evaluation run, built from Python or from the
command line, checked where they are built; the runner given one writes the rows the
command line's Namespace writes."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle
from pathlib import Path

import pytest

from dance_tf.evaluation import cli as ev_cli
from dance_tf.evaluation import runner
from dance_tf.evaluation.config import EvalConfig


# ---------------------------------------------------------------------- construction
def test_python_defaults_equal_the_parsed_default_command_line():
    from_cli = EvalConfig.from_namespace(ev_cli.parse([]))
    assert EvalConfig() == from_cli
    # spelled out, so that a default changed on one side only fails here
    assert from_cli.task == "digits" and from_cli.count is None
    assert from_cli.out == Path("outputs") / "digits"
    assert from_cli.methods == ("gradient", "integrated_gradients", "smoothgrad")
    assert from_cli.variants == ("none", "decoys", "mean", "constant", "noise")
    assert from_cli.k == (0.2,) and from_cli.attacks == () and dict(from_cli.options) == {}
    assert (from_cli.attack_iterations, from_cli.ig_steps, from_cli.sg_samples) == (300, 50, 50)
    assert from_cli.sg_noise == 0.15 and (from_cli.seed, from_cli.split_seed) == (0, 0)
    assert (from_cli.examples, from_cli.num_shards, from_cli.shard_index) == (4, 1, 0)
    assert from_cli.strategy == "none" and not from_cli.report_only and not from_cli.quiet


def test_python_config_equals_the_parsed_command_line():
    argv = ["--task", "sst", "--count", "4", "--methods", "gradient, smoothgrad",
            "--variants", "none,decoys", "--k", "0.5,0.2", "--attacks", "topk",
            "--ig-steps", "8", "--sg-samples", "8", "--sg-noise", "0", "--seed", "3",
            "--option", "line_grid=5", "--option", "epsilon=none", "--out", "o",
            "--num-shards", "2", "--shard-index", "1", "--quiet"]
    built = EvalConfig(task="sst", count=4, methods=["gradient", "smoothgrad"],
                       variants="none,decoys", k=[0.5, 0.2], attacks=("topk",), ig_steps=8,
                       sg_samples=8, sg_noise=0, seed=3,
                       options={"line_grid": 5.0, "epsilon": None}, out="o", num_shards=2,
                       shard_index=1, quiet=True)
    assert built == EvalConfig.from_namespace(ev_cli.parse(argv))
    assert type(built.options["line_grid"]) is int and type(built.sg_noise) is float
    assert built.out == Path("o") and built.k == (0.5, 0.2)


def test_config_is_frozen_copyable_and_pickles():
    config = EvalConfig(count=2, options={"line_grid": 5})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.count = 3
    with pytest.raises(TypeError):
        config.options["line_grid"] = float("nan")   # read-only: no way around the checks
    assert pickle.loads(pickle.dumps(config)) == config
    assert copy.deepcopy(config) == config
    assert dataclasses.replace(config, count=3).count == 3
    with pytest.raises(ValueError, match="count"):
        dataclasses.replace(config, count=0)


@pytest.mark.parametrize("kwargs,named", [
    ({"count": 0}, "count"),
    ({"count": math.nan}, "count"),
    ({"count": 2.5}, "count"),
    ({"k": 0.0}, "--k"),
    ({"k": (0.2, 1.5)}, "--k"),
    ({"k": (math.nan,)}, "--k"),
    ({"k": (0.2, 0.2)}, "--k"),
    ({"k": ()}, "--k"),
    ({"variants": ("none", "sparkle")}, "--variants"),
    ({"methods": ()}, "--methods"),
    ({"methods": " , "}, "--methods"),
    ({"attacks": ("fgsm",)}, "--attacks"),
    ({"sg_noise": math.inf}, "sg_noise"),
    ({"ig_steps": 0}, "ig_steps"),
    ({"seed": -1}, "seed"),
    ({"split_seed": 2**32}, "split_seed"),
    ({"attack_iterations": 0}, "attack_iterations"),
    ({"examples": -1}, "examples"),
    ({"num_shards": 2, "shard_index": 2}, "--shard-index"),
    ({"strategy": "tpu"}, "strategy"),
    ({"options": {"max_steps": math.nan}}, "max_steps"),
    ({"options": {"learning_rate": -1.0}}, "learning_rate"),
    ({"options": {"layer_scale": math.inf}}, "layer_scale"),
    ({"options": {"seed": 1}}, "--seed"),
])
def test_bad_values_raise_a_value_error_naming_the_setting(kwargs, named):
    with pytest.raises(ValueError, match=named.replace("-", r"\-")):
        EvalConfig(**kwargs)


@pytest.mark.parametrize("kwargs,named", [
    ({"count": "4"}, "count"), ({"seed": True}, "seed"), ({"quiet": "yes"}, "quiet"),
    ({"methods": ["gradient", 3]}, "--methods"), ({"options": [("a", 1)]}, "options"),
    ({"task": None}, "task"), ({"out": 5}, "out"),
])
def test_values_of_the_wrong_kind_raise_a_type_error(kwargs, named):
    with pytest.raises(TypeError, match=named.replace("-", r"\-")):
        EvalConfig(**kwargs)


# ---------------------------------------------------------------------- the runner
def _rows(out: Path) -> list[dict]:
    lines = (out / "results.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


def test_runner_with_a_config_writes_the_rows_of_the_namespace(digits_model_path, tmp_path):
    argv = ["--model", str(digits_model_path), "--count", "1", "--methods", "gradient",
            "--variants", "none,decoys", "--option", "line_grid=5", "--quiet",
            "--examples", "1", "--out", str(tmp_path / "cli")]
    args = ev_cli.parse(argv)
    config = EvalConfig(model=digits_model_path, count=1, methods=("gradient",),
                        variants=("none", "decoys"), options={"line_grid": 5}, quiet=True,
                        examples=1, out=tmp_path / "py")
    quiet = lambda *_: None   # noqa: E731
    from_cli = EvalConfig.from_namespace(args)
    runner.evaluate(runner.load_task(from_cli, quiet), from_cli, log=quiet)
    path = runner.evaluate(runner.load_task(config, quiet), config, log=quiet)
    assert path == tmp_path / "py" / "results.jsonl"
    got, want = _rows(tmp_path / "py"), _rows(tmp_path / "cli")
    assert [r["variant"] for r in got] == ["none", "decoys"]
    assert got == want
    assert ((tmp_path / "py" / "config.json").read_bytes()
            == (tmp_path / "cli" / "config.json").read_bytes())
    name = "digits-test-0000__gradient__decoys.npy"
    assert (tmp_path / "py" / "maps" / name).read_bytes() == \
        (tmp_path / "cli" / "maps" / name).read_bytes()


def test_unknown_method_stops_before_anything_is_written(digits_model_path, tmp_path):
    config = EvalConfig(model=digits_model_path, count=1, methods=("gradient", "sparkle"),
                        variants=("none",), quiet=True, out=tmp_path / "out")
    task = runner.load_task(config, lambda *_: None)
    with pytest.raises(ValueError, match="method: unknown 'sparkle'"):
        runner.evaluate(task, config, log=lambda *_: None)
    assert not (tmp_path / "out").exists()
