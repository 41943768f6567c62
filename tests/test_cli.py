"""The dance-tf command line (dance_tf.cli): help with the paper's defaults, explain on an
image / sentence / CSV row, export, delegation to evaluate and bench, clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import dance_tf
from dance_tf import cli
from tests.conftest import saved_tiny_cnn


def _run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _help(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv + ["--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["explain", "export"])
def test_help_shows_the_paper_defaults(command, capsys):
    text = " ".join(_help([command], capsys).split())
    for needed in ("--lambda0", "(default: 10000.0)", "--max-steps", "(default: 20)",
                   "--epsilon-rel", "(default: 0.05)", "--tau0", "(default: 1.0)",
                   "images 3", "images 100", "Table S1", "(default: range)",
                   "(default: paper)", "(default: gradient)"):
        assert needed in text, needed


def test_top_level_help_lists_the_four_commands(capsys):
    text = _help([], capsys)
    for command in ("explain", "evaluate", "export", "bench"):
        assert command in text


def test_evaluate_and_bench_delegate_their_help(capsys):
    assert "--task" in _help(["evaluate"], capsys)
    text = _help(["bench"], capsys)
    assert "--only" in text and "R1" in text


def test_console_script_is_installed():
    exe = shutil.which("dance-tf")
    if exe is None:
        pytest.skip("dance-tf console script not on PATH (package not installed)")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "explain" in proc.stdout


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    return saved_tiny_cnn(tmp_path_factory.mktemp("m"), (12, 12, 1), 3, "tiny_cli")


FAST = ["--patches-per-mask", "30", "--layer", "pool1"]


def test_explain_image_writes_png_npy_and_matches_the_library(image_model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    img = tmp_path / "digit.png"
    Image.fromarray((rng.random((20, 16)) * 255).astype(np.uint8), "L").save(img)
    code, _, err = _run(["explain", str(img), "--model", str(image_model),
                         "--out", str(tmp_path / "o"), *FAST], capsys)
    assert code == 0, err
    for name in ("panels.png", "dance.npy", "base.npy", "summary.json"):
        assert (tmp_path / "o" / name).is_file(), name
    got = np.load(tmp_path / "o" / "dance.npy")
    assert got.shape == (12, 12, 1)
    with Image.open(img) as im:
        x = np.asarray(im.convert("L").resize((12, 12), Image.BILINEAR), np.float32) / 255
    model = keras.models.load_model(image_model, compile=False)
    want = dance_tf.Explainer(model, layer="pool1", value_range=(0.0, 1.0),
                              patches_per_mask=30).explain(x[..., None])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    info = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert info["decoys"] == 2 * 4 and 0.0 <= info["fraction_certified"] <= 1.0
    with Image.open(tmp_path / "o" / "panels.png") as png:
        assert png.size[0] > 100


def test_explain_sentence_writes_html(tmp_path, capsys):
    from dance_tf.data.embedding import EmbeddingTable
    from dance_tf.models import sst

    words = ["a", "good", "bad", "movie", "."]
    vectors = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = sst.build(6, 2, filters=4)
    sst.SSTModel(model, EmbeddingTable(words, vectors), ("neg", "pos"), {}).save(tmp_path / "s")
    code, _, err = _run(["explain", "a good movie .", "--sentence", "--model",
                         str(tmp_path / "s"), "--out", str(tmp_path / "sent")], capsys)
    assert code == 0, err
    text = (tmp_path / "sent" / "words.html").read_text()
    assert "good" in text and "movie" in text and "class:" in text
    assert np.load(tmp_path / "sent" / "words.npy").shape == (4,)
    assert np.load(tmp_path / "sent" / "dance.npy").shape == (4, 6)


def test_explain_csv_row_writes_ranked_features(tmp_path, capsys):
    from dance_tf.data import ids2018
    from dance_tf.models import ids

    names = list(ids2018.FEATURES)
    rng = np.random.default_rng(2)
    rows = rng.integers(0, 100, size=(3, len(names)))
    csv = tmp_path / "flows.csv"
    lines = [",".join(names + ["Label"])]
    lines += [",".join(map(str, r)) + f",{lab}" for r, lab in zip(rows, ["Benign", "Bot",
                                                                        "Benign"])]
    csv.write_text("\n".join(lines) + "\n")
    keras.utils.set_random_seed(0)
    bundle = ids.IDSModel(ids.build(len(names), 2), ids.scaler_from_range(
        np.zeros(len(names)), np.full(len(names), 100.0)), names, ("benign", "attack"), {})
    bundle.save(tmp_path / "ids")
    code, _, err = _run(["explain", str(csv), "--row", "1", "--model", str(tmp_path / "ids"),
                         "--out", str(tmp_path / "row")], capsys)
    assert code == 0, err
    html = (tmp_path / "row" / "features.html").read_text()
    assert html.count("<tr>") == 21  # header + top 20 features
    assert np.load(tmp_path / "row" / "dance.npy").shape == (len(names),)


def test_export_command_writes_a_loadable_savedmodel(image_model, tmp_path, capsys):
    code, _, err = _run(["export", "--model", str(image_model), "--out",
                         str(tmp_path / "sm"), *FAST], capsys)
    assert code == 0, err
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    x = np.random.default_rng(3).random((2, 12, 12, 1)).astype(np.float32)
    maps = loaded.explain(x).numpy()
    model = keras.models.load_model(image_model, compile=False)
    live = dance_tf.Explainer(model, layer="pool1", value_range=(0.0, 1.0),
                              patches_per_mask=30)
    np.testing.assert_allclose(maps, live.explain_batch(x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("argv, message", [
    (["explain", "/nonexistent/x.png"], "no such image file"),
    (["explain", "some words", "--sentence", "--model", "digits"], "trained SST model"),
    (["explain", "x.png", "--model", "vgg_16"], "--checkpoint"),
    (["export", "--out", "/tmp/never", "--model", "nonexistent.bin"], "expected 'digits'"),
])
def test_bad_input_gives_a_one_line_error(argv, message, capsys, tmp_path):
    if argv[1] == "x.png":
        argv = argv.copy()
        argv[1] = str(tmp_path / "x.png")
        Image.new("RGB", (8, 8)).save(argv[1])
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert message in err and err.startswith("dance-tf: error:")


def test_memory_budget_too_small_says_what_to_lower(image_model, tmp_path, capsys):
    img = tmp_path / "i.png"
    Image.new("L", (12, 12)).save(img)
    code, _, err = _run(["explain", str(img), "--model", str(image_model),
                         "--memory-budget-mb", "0.0001", *FAST], capsys)
    assert code == 2
    assert "memory_budget_mb" in err and "lower" in err
