"""The HTML pages of explain (dance_tf.cli.pages): a sentence's words shaded by saliency,
escaped; a CSV row's features ranked, the top ``top_k`` only."""

from __future__ import annotations

from dance_tf.cli.pages import features_html, words_html


def test_words_are_escaped_and_shaded_by_their_share_of_the_top_score():
    page = words_html(["<b>", "film"], [0.0, 2.0], title="class: 1 & more")
    assert "&lt;b&gt;" in page and "<b>" not in page
    assert "class: 1 &amp; more" in page
    assert "rgba(220, 40, 30, 0.000)" in page and "rgba(220, 40, 30, 1.000)" in page
    assert words_html([], []).count("<span") == 0


def test_features_are_ranked_by_saliency_and_cut_at_top_k():
    names = [f"f{i}" for i in range(5)]
    page = features_html(names, [0.1, 0.5, 0.3, 0.0, 0.2], [1, 2, 3, 4, 5], top_k=3)
    assert page.count("<tr>") == 1 + 3
    assert page.index("f1") < page.index("f2") < page.index("f4")
    assert "f0" not in page and "f3" not in page
