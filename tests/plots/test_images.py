"""The figures (dance_tf.plots): returned as (fig, axes) without touching matplotlib's
backend; Fig. 2's panels share one scale per row and label the difference; one map draws no
difference axis; every box shows its median in black."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


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


def test_saved_figures_never_go_through_a_link_and_leave_no_temporary(tmp_path):
    """A figure saved where a symbolic link stands is refused and the link's target kept
    (savefig straight to the path would overwrite it); a plain save leaves one PNG."""
    from dance_tf.errors import OutputError
    from dance_tf.plots import images

    target = tmp_path / "someone_elses.png"
    target.write_bytes(b"theirs")
    link = tmp_path / "box.png"
    link.symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link"):
        images.save_boxplot(link, {"G": {"a": [1, 2, 3]}})
    assert target.read_bytes() == b"theirs"
    out = images.save_boxplot(tmp_path / "fresh" / "box.png", {"G": {"a": [1, 2, 3]}})
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["box.png"]
