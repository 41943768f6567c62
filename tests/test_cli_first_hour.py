"""Issue 16, a practitioner's first hour: the CLI never destroys a file, parses before
importing TensorFlow, lists every base method, refuses inputs that do not fit the model;
figures come back as (fig, axes) without touching matplotlib's backend; progress writes
plain lines into logs."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

from dance_tf import cli
from tests.conftest import FIXTURES, saved_tiny_cnn


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def grey_model(tmp_path_factory):
    return saved_tiny_cnn(tmp_path_factory.mktemp("m"), (12, 12, 1), 3, "tiny_grey")


FAST = ["--patches-per-mask", "30", "--layer", "pool1"]


def _grey_png(path, size=(16, 16), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random(size[::-1]) * 255).astype(np.uint8), "L").save(path)
    return path


# ----------------------------------------------------------------- never destroy a file
def test_explain_leaves_its_input_byte_identical_and_writes_a_folder(grey_model, tmp_path,
                                                                     monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    img = _grey_png(tmp_path / "digit.png")
    before = _sha(img)
    code = cli.main(["explain", "digit.png", "--model", str(grey_model), *FAST])
    err = capsys.readouterr().err
    assert code == 0, err
    assert _sha(img) == before
    out = tmp_path / "outputs" / "explain" / "digit"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".dance-tf.json", "panels.png", "dance.npy", "base.npy", "summary.json"])
    # a rerun into the same folder replaces only what dance-tf wrote there
    assert cli.main(["explain", "digit.png", "--model", str(grey_model), *FAST]) == 0
    assert _sha(img) == before


def test_a_folder_with_foreign_files_is_refused_without_force(grey_model, tmp_path, capsys):
    img = _grey_png(tmp_path / "digit.png")
    out = tmp_path / "out"
    assert cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(out),
                     *FAST]) == 0
    foreign = out / "notes.txt"
    foreign.write_text("mine")
    capsys.readouterr()
    code = cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(out),
                     *FAST])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("dance-tf: error:") and "notes.txt" in err and "--force" in err
    assert foreign.read_text() == "mine"
    # an existing file of the same name as an output, not written by dance-tf
    other = tmp_path / "other"
    other.mkdir()
    (other / "panels.png").write_bytes(b"not ours")
    assert cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(other),
                     *FAST]) == 2
    assert (other / "panels.png").read_bytes() == b"not ours"


def test_force_never_writes_over_the_input(grey_model, tmp_path, capsys):
    img = _grey_png(tmp_path / "panels.png")  # named like an output, in the output folder
    before = _sha(img)
    code = cli.main(["explain", str(img), "--model", str(grey_model), "--out", str(tmp_path),
                     "--force", *FAST])
    err = capsys.readouterr().err
    assert code == 2 and "is the input" in err
    assert _sha(img) == before
    assert not (tmp_path / "dance.npy").exists()  # refused before any work


def test_export_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("x")
    code = cli.main(["export", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "not empty" in err and "--force" in err
    assert (tmp_path / "keep.txt").read_text() == "x"


# ----------------------------------------------------------------- fast, quiet, listed
def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


def test_help_does_not_import_tensorflow():
    proc = _python("""
        import sys
        from dance_tf.cli import main
        for argv in (["--help"], ["explain", "--help"], ["export", "--help"],
                     ["evaluate", "--help"]):
            try:
                main(argv)
            except SystemExit:
                pass
        print("TF-IMPORTED" if "tensorflow" in sys.modules else "TF-NOT-IMPORTED")
    """)
    assert proc.returncode == 0, proc.stderr
    assert "TF-NOT-IMPORTED" in proc.stdout
    assert "usage: dance-tf evaluate" in proc.stdout


def test_the_static_method_list_is_the_registry():
    from dance_tf.saliency import registry

    assert set(cli.METHODS) == set(registry.BUILT_IN)
    assert cli.ALIASES == registry.ALIASES


def test_help_lists_every_base_method(capsys):
    with pytest.raises(SystemExit):
        cli.main(["explain", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for method in cli.METHODS:
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
    opts = cli.explainer_options(args)
    extra = {k: opts[k] for k in ("steps", "samples", "noise") if k in opts}
    assert extra == want


def test_an_unknown_method_is_refused_at_parse_time(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain", "x.png", "--method", "gradients"])
    assert exit_.value.code == 2
    assert "integrated_gradients" in capsys.readouterr().err


# ----------------------------------------------------------------- inputs that do not fit
def test_a_colour_photo_is_refused_by_a_greyscale_model(grey_model, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[..., 0] = 200  # red: clearly colour
    Image.fromarray(rgb).save(photo)
    code = cli.main(["explain", str(photo), "--model", str(grey_model), "--out",
                     str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"dance-tf: error: {photo}: a colour image")
    assert "--model" in err and "12×12 greyscale" in err
    assert not (tmp_path / "o" / "dance.npy").exists()


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n garbage", b"", b"hello"])
def test_an_unreadable_image_is_a_one_line_error(content, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    code = cli.main(["explain", str(bad), "--model", "digits", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"dance-tf: error: {bad}:") and err.count("\n") == 1


def test_a_16_bit_png_is_scaled_by_its_own_depth(grey_model, tmp_path):
    raw = np.random.default_rng(4).integers(0, 65536, size=(12, 12), dtype=np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(raw).save(path)
    model = keras.models.load_model(grey_model, compile=False)
    x, _ = cli.read_image(path, model, "keras")
    np.testing.assert_allclose(x[..., 0], raw / 65535.0, atol=1e-6)


# ----------------------------------------------------------------- figures
def test_plotting_api_returns_figures_without_touching_the_backend():
    proc = _python("""
        import matplotlib
        matplotlib.use("svg")
        import numpy as np
        from matplotlib.figure import Figure
        from dance_tf.plots import images, tabular, text
        rng = np.random.default_rng(0)
        maps = {"Gradient": {"without decoys": rng.random((8, 8)),
                             "with decoys": rng.random((8, 8))}}
        figs = [images.panels(rng.random((8, 8, 1)), maps)[0],
                images.boxplot({"G": {"a": [1, 2, 3]}})[0],
                tabular.ranking_chart(["a", "b"], {"m": np.array([1.0, 2.0])})[0],
                text.word_figure(["a", "b"], {"m": np.array([1.0, 2.0])})[0]]
        assert all(isinstance(f, Figure) for f in figs)
        import sys
        print(matplotlib.get_backend(), "pyplot" in sys.modules)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["svg", "False"]


def _images(ax):
    return ax.get_images()


def test_panels_share_one_scale_per_row_and_label_the_difference():
    from dance_tf.plots import images

    rng = np.random.default_rng(1)
    without = rng.normal(size=(10, 10, 3))
    with_ = 5.0 * rng.normal(size=(10, 10, 3))
    fig, axes = images.panels(rng.random((10, 10, 3)), {"G": {"without decoys": without,
                                                              "with decoys": with_}},
                              prediction=(3, 0.25), label=4)
    assert axes.shape == (1, 4)
    top = max(np.percentile(np.abs(m).mean(-1), 99) for m in (without, with_))
    for ax in axes[0, 1:3]:
        assert _images(ax)[0].get_clim() == pytest.approx((0.0, top))
    diff = np.abs(with_).mean(-1) - np.abs(without).mean(-1)
    lim = np.percentile(np.abs(diff), 99)
    im = _images(axes[0, 3])[0]
    assert im.get_clim() == pytest.approx((-lim, lim))
    np.testing.assert_allclose(im.get_array(), diff, rtol=1e-6)
    assert axes[0, 3].get_title() == "with − without"
    assert len(fig.axes) == 4 + 2  # two colorbars
    assert "p = 0.250" in fig._suptitle.get_text() and "true label 4" in fig._suptitle.get_text()


def test_one_map_draws_no_difference_axis():
    from dance_tf.plots import images

    fig, axes = images.panels(np.zeros((6, 6, 1)), {"G": {"with decoys": np.ones((6, 6))}})
    assert axes.shape == (1, 2)
    assert "with − without" not in [ax.get_title() for ax in fig.axes]


def test_every_box_shows_its_median_in_black():
    from matplotlib.colors import to_rgba

    from dance_tf.plots import images

    rng = np.random.default_rng(2)
    scores = {m: {v: rng.normal(size=9) for v in ("without decoys", "with decoys")}
              for m in ("A", "B")}
    fig, ax = images.boxplot(scores)
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2
             and ln.get_ydata()[0] == ln.get_ydata()[1]]
    medians = sorted(float(np.median(s)) for per in scores.values() for s in per.values())
    drawn = sorted(float(ln.get_ydata()[0]) for ln in lines
                   if to_rgba(ln.get_color()) == to_rgba("black"))
    for m in medians:
        assert any(abs(m - d) < 1e-9 for d in drawn), m


# ----------------------------------------------------------------- progress
def test_progress_writes_plain_lines_when_not_a_terminal():
    from dance_tf.progress import progress, ticker

    stream = io.StringIO()
    bar = progress(total=5, desc="training", unit="step", stream=stream, every=0.0)
    for _ in range(5):
        bar.update()
    bar.close()
    with ticker("exporting", stream=stream, every=60):
        pass
    text = stream.getvalue()
    assert "\r" not in text
    assert "training: 5/5 step done" in text
    assert "exporting ..." in text and "exporting: done in" in text


def test_summary_json_reports_the_probability(grey_model, tmp_path):
    img = _grey_png(tmp_path / "d.png")
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


def test_default_image_model_follows_the_picture(tmp_path):
    """No --model: a colour photo goes to the trained ImageNet net (when its extra is
    installed, as in the test extra), a small grey picture to the digits CNN."""

    photo = FIXTURES / "imagenet" / "n01440764_tench.jpg"
    assert cli._default_image_model(photo) == "efficientnet_lite0"
    grey = tmp_path / "digit.png"
    Image.fromarray((np.arange(32 * 32) % 256).reshape(32, 32).astype(np.uint8)).save(grey)
    assert cli._default_image_model(grey) == "digits"
