"""The word-saliency figure of a sentence: per-word scores, a PNG and an HTML page whose
shading is each row's maximum-scaled score."""

import re

import numpy as np
import pytest


def test_word_saliency_figure(tmp_path):
    from dance_tf.plots.text import save_word_saliency, word_scores

    tokens = ["not", "good", "."]
    sal = np.array([[1.0, -3.0], [0.5, 0.5], [0.0, 0.0]])
    np.testing.assert_allclose(word_scores(sal), [2.0, 0.5, 0.0])
    png, page = save_word_saliency(tmp_path / "fig", tokens,
                                   {"Gradient": sal, "Gradient + decoys": np.array([0, 2, 1.0])},
                                   title="a <test>")
    assert png.suffix == ".png" and png.stat().st_size > 1000
    html = page.read_text()
    assert html.count("<span") == 6 and "a &lt;test&gt;" in html
    assert re.search(r"title='1.000' style='[^']*'>not</span>", html)  # row 1 max → 1
    assert re.search(r"title='0.250' style='[^']*'>good</span>", html)
    with pytest.raises(ValueError, match="2 word scores for 3 tokens"):
        save_word_saliency(tmp_path / "bad", tokens, {"x": np.ones((2, 4))})
