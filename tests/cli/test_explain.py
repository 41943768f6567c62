"""dance-tf explain (dance_tf.cli.explain): an image, a sentence and a CSV row each write
their files, the image's map equals the library's and its summary the model's probability;
refusals during the run (a layer, a target, a patch size, a memory budget) are one line
and leave no output folder."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from PIL import Image

import dance_tf
from dance_tf import cli
from tests.cli.conftest import FAST, grey_png, one_error_line, run
from tests.conftest import small_cnn


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(a tiny .keras model, a 12×12 grey PNG) in a temporary folder."""
    folder = tmp_path_factory.mktemp("cli")
    small_cnn().save(folder / "tiny.keras")
    pixels = (np.random.default_rng(0).random((12, 12)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(folder / "x.png")
    return folder / "tiny.keras", folder / "x.png"


def test_explain_image_writes_png_npy_and_matches_the_library(grey_model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    img = tmp_path / "digit.png"
    Image.fromarray((rng.random((20, 16)) * 255).astype(np.uint8), "L").save(img)
    code, _, err = run(["explain", str(img), "--model", str(grey_model),
                         "--out", str(tmp_path / "o"), *FAST], capsys)
    assert code == 0, err
    for name in ("panels.png", "dance.npy", "base.npy", "summary.json"):
        assert (tmp_path / "o" / name).is_file(), name
    got = np.load(tmp_path / "o" / "dance.npy")
    assert got.shape == (12, 12, 1)
    with Image.open(img) as im:
        x = np.asarray(im.convert("L").resize((12, 12), Image.BILINEAR), np.float32) / 255
    model = keras.models.load_model(grey_model, compile=False)
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
    code, _, err = run(["explain", "a good movie .", "--sentence", "--model",
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
    code, _, err = run(["explain", str(csv), "--row", "1", "--model", str(tmp_path / "ids"),
                         "--out", str(tmp_path / "row")], capsys)
    assert code == 0, err
    html = (tmp_path / "row" / "features.html").read_text()
    assert html.count("<tr>") == 21  # header + top 20 features
    assert np.load(tmp_path / "row" / "dance.npy").shape == (len(names),)


def test_memory_budget_too_small_says_what_to_lower(grey_model, tmp_path, capsys):
    img = tmp_path / "i.png"
    Image.new("L", (12, 12)).save(img)
    code, _, err = run(["explain", str(img), "--model", str(grey_model),
                         "--memory-budget-mb", "0.0001", *FAST], capsys)
    assert code == 2
    assert "memory_budget_mb" in err and "lower" in err


def test_summary_json_reports_the_probability(grey_model, tmp_path):
    img = grey_png(tmp_path / "d.png")
    assert cli.main(["explain", str(img), "--model", str(grey_model), "--out",
                     str(tmp_path / "o"), *FAST]) == 0
    info = json.loads((tmp_path / "o" / "summary.json").read_text())
    model = keras.models.load_model(grey_model, compile=False)
    with Image.open(img) as im:
        x = np.asarray(im.convert("L").resize((12, 12), Image.BILINEAR), np.float32) / 255
    z = np.asarray(model(x[None, ..., None]), np.float64)[0]
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert info["target"] == int(np.argmax(z))
    assert info["probability"] == pytest.approx(p.max(), rel=1e-5)


@pytest.mark.parametrize("flags, names", [
    (["--method", "gradcam", "--method-option", "layer=conv9"], "layer"),
    (["--layer", "99"], "layer"),
    (["--target", "7"], "target"),
    (["--patch-size", "100"], "patch_size"),
])
def test_refusals_during_the_run_are_one_line(files, flags, names, capsys, tmp_path):
    model, image = files
    code = cli.main(["explain", str(image), "--model", str(model), "--out",
                     str(tmp_path / "o"), *flags])
    assert code == 2
    assert names in one_error_line(capsys)
    assert not (tmp_path / "o").exists()
