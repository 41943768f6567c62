"""Hostile inputs for the evaluation runner, the loaders, the Caffe converter and the
SavedModel export (issue 13): every case either works or fails loudly, naming the
argument, file or line; resumed results never mix configurations."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from dance_tf.data import glove, ids2018, sst
from dance_tf.evaluation import cli as ev_cli
from dance_tf.evaluation import runner
from dance_tf.evaluation.config import EvalConfig
from dance_tf.evaluation.report import report
from dance_tf.progress import progress
from dance_tf.tasks.base import Task
from tests.conftest import FIXTURES, ROOT, small_cnn


# ---------------------------------------------------------------------- evaluation runner
def tiny_task(name="digits", n=3, seed=0, model=None):
    rng = np.random.default_rng(seed)
    return Task(name=name, model=model or small_cnn(size=8, classes=3),
                inputs=list(rng.random((n, 8, 8, 1), dtype=np.float32)),
                ids=[f"x{i}" for i in range(n)], value_range=(0.0, 1.0),
                explainer_options={"layer": "pool1", "patch_size": 3,
                                   "patches_per_mask": 100},
                labels=[0] * n, feature_ndim=2)


def run_eval(out, *argv, task=None):
    """One evaluation + report in-process, as evaluate.main does it (no subprocess)."""
    args = ev_cli.parse(["--out", str(out), "--methods", "gradient", "--variants", "none",
                     "--quiet", "--examples", "0", *argv])
    task = task or tiny_task()
    task.explainer_options.update(args.options)
    runner.evaluate(task, EvalConfig.from_namespace(args), log=lambda *_: None)
    return report(Path(out), task, log=lambda *_: None)


def result_lines(out):
    return [json.loads(line) for p in sorted(Path(out).glob("results*.jsonl"))
            for line in p.read_text().splitlines()]


@pytest.mark.parametrize("first,second,named", [
    ((), ("--seed", "1"), "seed"),
    ((), ("--option", "line_grid=2"), "line_grid"),
    ((), ("--sg-samples", "7"), "sg_samples"),
    ((), ("--ig-steps", "9"), "ig_steps"),
])
def test_rerun_with_another_configuration_stops_naming_the_option(tmp_path, first, second,
                                                                   named):
    # before: only the missing rows were computed and one table mixed both settings
    run_eval(tmp_path, *first)
    n_before = len(result_lines(tmp_path))
    with pytest.raises(ValueError, match=named) as err:
        run_eval(tmp_path, *second)
    assert str(tmp_path) in str(err.value)
    assert len(result_lines(tmp_path)) == n_before   # nothing written


def test_same_configuration_resumes(tmp_path):
    run_eval(tmp_path)
    rows = result_lines(tmp_path)
    run_eval(tmp_path)                                # same settings: nothing to redo
    assert result_lines(tmp_path) == rows
    assert (tmp_path / "config.json").is_file()


def test_new_k_adds_its_table(tmp_path):
    # before: "0 rows to compute" and no K = 50 % table
    run_eval(tmp_path, "--k", "0.2")
    text = run_eval(tmp_path, "--k", "0.2,0.5")
    assert "K = 50%" in text and "K = 20%" in text
    latest = {(r["id"], r["method"], r["variant"]): r for r in result_lines(tmp_path)}
    assert all(set(r["sf"]) == {"0.2", "0.5"} for r in latest.values())


def test_a_k_list_without_the_old_k_keeps_it(tmp_path):
    run_eval(tmp_path, "--k", "0.2")
    first = {(r["id"], r["method"], r["variant"]): r["sf"]["0.2"]
             for r in result_lines(tmp_path)}
    text = run_eval(tmp_path, "--k", "0.5")
    latest = {(r["id"], r["method"], r["variant"]): r["sf"] for r in result_lines(tmp_path)}
    assert {key: sf["0.2"] for key, sf in latest.items()} == first
    assert all("0.5" in sf for sf in latest.values())
    assert "K = 20%" in text and "K = 50%" in text


def test_row_from_another_task_is_an_error(tmp_path):
    # before: the report was retitled with the other task's name
    run_eval(tmp_path)
    path = tmp_path / "results.jsonl"
    row = json.loads(path.read_text().splitlines()[0])
    row.update(task="sst", id="intruder")
    with open(path, "a") as handle:
        handle.write(json.dumps(row) + "\n")
    with pytest.raises(ValueError, match=r"results\.jsonl.*line 4.*sst"):
        report(tmp_path, tiny_task(), log=lambda *_: None)


def test_row_without_key_fields_names_file_and_line(tmp_path):
    # before: KeyError: 'id' on every rerun
    run_eval(tmp_path)
    path = tmp_path / "results.jsonl"
    with open(path, "a") as handle:
        handle.write(json.dumps({"method": "gradient"}) + "\n")
    with pytest.raises(ValueError, match=r"results\.jsonl: line 4.*'id'"):
        run_eval(tmp_path)


def test_corrupt_line_in_the_middle_names_file_and_line(tmp_path):
    run_eval(tmp_path)
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(1, "{not json\n")
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match=r"results\.jsonl: line 2"):
        report(tmp_path, tiny_task(), log=lambda *_: None)


def test_changed_input_under_the_same_id_is_an_error(tmp_path):
    run_eval(tmp_path)
    other = tiny_task(seed=5)
    with pytest.raises(ValueError, match=r"x0.*different input"):
        run_eval(tmp_path, task=other)


def test_changed_model_weights_are_a_different_configuration(tmp_path):
    run_eval(tmp_path)
    other = tiny_task(model=small_cnn(size=8, classes=3, seed=9))
    with pytest.raises(ValueError, match="model"):
        run_eval(tmp_path, task=other)


def _child(code: str, timeout=120):
    """Run ``code`` in a child with 1 GB of address space: an unbounded read fails fast."""
    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit)


@pytest.mark.parametrize("kind", ["fifo", "dev_full"])
def test_results_file_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    # before: a FIFO hangs in open(); /dev/full is read without end
    path = tmp_path / "results.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink("/dev/full", path)
    code = f"""
        from pathlib import Path
        from dance_tf.evaluation.results import ResultsFile
        try:
            ResultsFile(Path({str(path)!r}))
        except ValueError as err:
            print("REFUSED", err)
    """
    try:
        done = _child(code, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("opening a non-regular results file hung")
    assert "REFUSED" in done.stdout and "results.jsonl" in done.stdout, done.stderr[-2000:]
    assert "regular file" in done.stdout


@pytest.mark.parametrize("argv,named", [
    (["--count", "0"], "--count"),                 # before: ran 32 inputs
    (["--count", "-3"], "--count"),
    (["--seed", "-1"], "--seed"),
    (["--ig-steps", "0"], "--ig-steps"),
    (["--sg-samples", "0"], "--sg-samples"),
    (["--sg-noise", "nan"], "--sg-noise"),
    (["--attack-iterations", "0"], "--attack-iterations"),
    (["--examples", "-1"], "--examples"),
    (["--k", "0.2,0.2"], "--k"),
    (["--k", "nan"], "--k"),
    (["--k", "abc"], "--k"),
    (["--option", "max_steps=abc"], "max_steps"),  # before: string reached the explainer
    (["--option", "max_steps=nan"], "max_steps"),
    (["--option", "max_steps=2.5"], "max_steps"),
    (["--option", "memory_budget_mb=inf"], "memory_budget_mb"),
    (["--option", "epsilon=-1"], "epsilon"),
    (["--option", "seed=None"], "seed"),
    (["--option", "steps=3"], "steps"),
    (["--option", "nokey"], "--option"),
])
def test_bad_numbers_are_refused_at_parse_time(argv, named, capsys):
    with pytest.raises(SystemExit) as err:
        ev_cli.parse(argv)
    assert err.value.code == 2
    assert named in capsys.readouterr().err


def test_valid_options_are_typed():
    args = ev_cli.parse(["--option", "max_steps=5", "--option", "epsilon=none", "--option",
                     "solver=adam",
                     "--option", "packing=tiles", "--option", "layer=2",
                     "--option", "learning_rate=1e-2"])
    assert args.options == {"max_steps": 5, "epsilon": None, "solver": "adam",
                            "packing": "tiles", "layer": 2, "learning_rate": 0.01}
    assert type(args.options["max_steps"]) is int


def test_split_seed_is_separate_from_seed():
    args = ev_cli.parse(["--seed", "3"])
    assert args.seed == 3 and args.split_seed == 0
    assert ev_cli.parse(["--split-seed", "4"]).split_seed == 4


# ---------------------------------------------------------------------- progress
class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


def test_progress_in_a_log_is_plain_lines_with_the_whole_note():
    stream = _Stream(tty=False)
    note = "digits-test-0001 integrated_gradients decoys (a long note)"
    bar = progress(3, "digits", unit="rows", stream=stream, every=0.0)
    for _ in range(3):
        runner._step(bar, note)
    bar.close()
    text = stream.getvalue()
    assert "\r" not in text
    # started, after rows 1 and 2, and done: the last row is reported once, by close()
    assert text.count("\n") == 4 and note in text and "3/3 rows done" in text


def test_progress_on_a_terminal_is_a_tqdm_bar():
    stream = _Stream(tty=True)
    bar = progress(2, "digits", unit="rows", stream=stream)
    runner._step(bar, "a")
    runner._step(bar, "b")
    bar.close()
    assert "\r" in stream.getvalue() and "2/2" in stream.getvalue()


# ---------------------------------------------------------------------- digits split
def test_seed_does_not_touch_the_digits_split(tmp_path):
    # before: --seed 1 reseeded the split: 81 % of the "test" digits were training digits
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from dance_tf.data import digits as digits_data
    from dance_tf.tasks import digits as digits_task

    path = tmp_path / "m.keras"
    small_cnn(size=32, classes=10).save(path)
    data = load_digits()
    _, te = train_test_split(np.arange(len(data.images)), test_size=0.2, random_state=0,
                             stratify=data.target)
    expected = digits_data.upsample(data.images[te[:4]].astype(np.float32) / 16.0)
    task = digits_task.build_task({"count": 4, "seed": 1, "model": str(path),
                                   "log": lambda *_: None})
    np.testing.assert_array_equal(np.stack(task.inputs), expected)
    np.testing.assert_array_equal(task.labels, data.target[te[:4]])


def test_split_seed_uses_a_model_trained_on_that_split(tmp_path, monkeypatch):
    from dance_tf.models import digits as digits_model
    from dance_tf.tasks import digits as digits_task

    monkeypatch.setenv("DANCE_TF_MODELS", str(tmp_path))
    small_cnn(size=32, classes=10, seed=4).save(tmp_path / digits_model.FILE_NAME)
    trained = []

    def fake_train(seed=0, **_):
        trained.append(seed)
        return small_cnn(size=32, classes=10, seed=seed), 0.5

    monkeypatch.setattr(digits_model, "train", fake_train)
    task = digits_task.build_task({"count": 2, "split_seed": 3, "log": lambda *_: None})
    assert trained == [3]                      # not the cached split-0 model
    assert (tmp_path / "digits_cnn_split3.keras").is_file()
    with pytest.raises(ValueError, match="split_seed"):
        digits_task.build_task({"count": 2, "split_seed": float("nan")})
    assert task.explainer_options["layer"] == "pool1"


# ---------------------------------------------------------------------- loaders
def test_glove_non_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "g.txt"
    path.write_bytes(b"the 0.1 0.2\nca\xff 0.3 0.4\n")
    with pytest.raises(ValueError, match=r"g\.txt: line 2.*UTF-8"):
        glove.load(path)


def test_glove_bom_is_handled(tmp_path):
    path = tmp_path / "g.txt"
    path.write_bytes(b"\xef\xbb\xbfthe 0.1 0.2\ncat 0.3 0.4\n")
    words, vectors = glove.load(path)
    assert words == ["the", "cat"]
    np.testing.assert_allclose(vectors, [[0.1, 0.2], [0.3, 0.4]], rtol=1e-6)


def test_glove_tab_separator_is_a_clear_error(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("the 0.1 0.2\ncat\t0.3\t0.4\n")
    with pytest.raises(ValueError, match=r"g\.txt: line 2.*tab"):
        glove.load(path)


def test_sst_non_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "stsa.binary.dev"
    path.write_bytes(b"1 a fine film\n0 a d\xe9j\xe0 vu\n")
    with pytest.raises(ValueError, match=r"stsa\.binary\.dev: line 2.*UTF-8"):
        sst.load(path)


@pytest.mark.parametrize("label,kw,classes", [(str(10**30), {}, 5), ("7", {}, 5),
                                              ("2", {"num_classes": 2}, 2),
                                              ("-1", {"num_classes": 2}, 2)])
def test_sst_labels_checked_against_the_class_count(tmp_path, label, kw, classes):
    # before: 10**30 raised OverflowError without a file or line; 7 passed silently
    path = tmp_path / "stsa.binary.dev"
    path.write_text(f"1 a fine film\n{label} not so fine\n")
    with pytest.raises(ValueError,
                       match=rf"stsa\.binary\.dev: line 2.*{label}.*{classes} classes"):
        sst.load(path, **kw)


def test_sst_bom_is_handled(tmp_path):
    path = tmp_path / "stsa.binary.dev"
    path.write_bytes(b"\xef\xbb\xbf1 a fine film\n0 dull\n")
    sentences, labels = sst.load(path, num_classes=2)
    assert sentences == [["a", "fine", "film"], ["dull"]] and labels.tolist() == [1, 0]


def test_ids_non_utf8_names_file_and_line(tmp_path):
    lines = (FIXTURES / "ids2018" / "sample_rows.csv").read_bytes().splitlines(keepends=True)
    path = tmp_path / "flows.csv"
    path.write_bytes(b"".join(lines[:3]) + lines[3].replace(b"Benign", b"B\xe9nign")
                     + b"".join(lines[4:6]))
    with pytest.raises(ValueError, match=r"flows\.csv: line 4.*UTF-8"):
        ids2018.read_csv(path)


def test_ids_bom_is_handled(tmp_path):
    src = FIXTURES / "ids2018" / "sample_rows.csv"
    path = tmp_path / "flows.csv"
    path.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    X, _, names = ids2018.load_csv(path)
    X0, _, _ = ids2018.load_csv(src)
    assert names[0] == "Dst Port"
    np.testing.assert_array_equal(X, X0)


# ---------------------------------------------------------------------- Caffe converter
class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_convert_caffe_alexnet_needs_an_explicit_opt_in(tmp_path):
    # before: convert_caffe_alexnet(src, dst) unpickled with no opt-in; the payload ran
    from dance_tf.models.caffe_alexnet import convert_caffe_alexnet

    marker = tmp_path / "payload_ran"
    src = tmp_path / "bvlc_alexnet.npy"
    np.save(src, np.array({"conv1": _Payload(str(marker))}, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle=True") as err:
        convert_caffe_alexnet(src, tmp_path / "out")
    assert not marker.exists()
    assert "convert_caffe_alexnet(src, dst)" not in str(err.value)  # no false advice
    assert not (tmp_path / "out.npz").exists()


def test_convert_caffe_alexnet_never_writes_over_a_file(tmp_path):
    from dance_tf.models.caffe_alexnet import convert_caffe_alexnet

    marker = tmp_path / "payload_ran"
    src = tmp_path / "bvlc_alexnet.npy"
    np.save(src, np.array({"conv1": _Payload(str(marker))}, dtype=object), allow_pickle=True)
    (tmp_path / "w.npz").write_text("someone else's file")
    with pytest.raises(FileExistsError, match=r"w\.npz"):
        convert_caffe_alexnet(src, tmp_path / "w", allow_pickle=True)
    assert (tmp_path / "w.npz").read_text() == "someone else's file"
    assert not marker.exists()       # refused before anything was unpickled


# ---------------------------------------------------------------------- SavedModel export
def _explainer(model=None, **kw):
    import dance_tf

    kw = {"layer": "pool1", "value_range": (0.0, 1.0), "patches_per_mask": 100, **kw}
    return dance_tf.Explainer(model or small_cnn(size=8, classes=3), **kw)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from dance_tf import export

    path = tmp_path_factory.mktemp("export") / "m"
    export.save(_explainer(), path)
    return tf.saved_model.load(str(path))


@pytest.mark.parametrize("where", ["one_pixel", "all", "inf"])
def test_exported_model_refuses_non_finite_inputs(exported, where):
    # before: one NaN pixel → a map for another class, fraction_certified 1.0
    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    if where == "one_pixel":
        x[1, 3, 4, 0] = np.nan
    elif where == "all":
        x[:] = np.nan
    else:
        x[0, 0, 0, 0] = np.inf
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"x: .*finite"):
        exported.signatures["serving_default"](x=tf.constant(x))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"x: .*finite"):
        exported.explain(tf.constant(x))


def test_exported_model_still_explains_finite_inputs(exported):
    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    out = exported.signatures["serving_default"](x=tf.constant(x))
    assert np.all(np.isfinite(out["saliency"].numpy()))


def test_model_with_a_nan_weight_is_not_certified():
    # before: certified 1.0 with NaN in the map
    from dance_tf import export

    model = small_cnn(size=8, classes=3)
    kernel = model.get_layer("conv1").kernel
    w = kernel.numpy()
    w[0, 0, 0, 0] = np.nan
    kernel.assign(w)
    x = np.random.default_rng(0).random((1, 8, 8, 1), dtype=np.float32)
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError), match="non-finite"):
        fn = export.batch_function(_explainer(model))
        fn(tf.constant(x), tf.constant([-1], tf.int32))


@pytest.mark.parametrize("value_range,err", [((np.nan, 1.0), ValueError),
                                             ((0.0, np.inf), ValueError),
                                             ((np.array([0.0, np.nan]), 1.0), ValueError),
                                             (("0", 1.0), TypeError)])
def test_export_validates_value_range(tmp_path, value_range, err):
    # before: export.save accepted value_range=(nan, 1)
    from dance_tf import export

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, name="d1"),
                              keras.layers.Dense(2, name="logits")])
    with pytest.raises(err, match="value_range"):
        export.save(_explainer(model, value_range=value_range, layer="d1"), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_export_refuses_a_non_empty_folder_it_did_not_create(tmp_path):
    from dance_tf import export

    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"mine.*not empty"):
        export.save(_explainer(), target)
    assert (target / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]
    with pytest.raises(FileExistsError, match="not a dance_tf export"):
        export.save(_explainer(), target, overwrite=True)
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(FileExistsError, match="a_file"):
        export.save(_explainer(), afile)


def test_export_overwrites_its_own_export_only_when_asked(tmp_path):
    from dance_tf import export

    target = tmp_path / "m"
    export.save(_explainer(), target)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export.save(_explainer(), target)
    export.save(_explainer(), target, overwrite=True)
    assert (target / export.CONFIG_FILE).is_file()


def test_export_input_shape_is_validated(tmp_path):
    # before: input_shape=(8.7, 8, 1) was truncated to 8 silently
    from dance_tf import export

    for bad, err in [((8.7, 8, 1), ValueError), ((np.nan, 8, 1), ValueError),
                     (("8", 8, 1), TypeError), ("881", TypeError)]:
        with pytest.raises(err, match=r"input_shape"):
            export.save(_explainer(), tmp_path / "m", input_shape=bad)
    assert not (tmp_path / "m").exists()


def test_digits_split_arguments_are_validated():
    from dance_tf.data import digits as digits_data

    for kw in ({"seed": -1}, {"seed": 1.5}, {"test_fraction": 0.0},
               {"test_fraction": float("nan")}, {"size": 4}):
        with pytest.raises(ValueError, match=next(iter(kw))):
            digits_data.load(**kw)


def test_embedding_length_is_validated():
    from dance_tf.data.embedding import EmbeddingTable

    table = EmbeddingTable(["a", "b"], np.eye(2))
    with pytest.raises(ValueError, match="length"):
        table.embed([["a", "b"]], length=2.5)     # before: truncated to 2
    with pytest.raises(TypeError, match="length"):
        table.embed([["a"]], length="3")
    assert table.embed([["a"]], length=3).shape == (1, 3, 2)
