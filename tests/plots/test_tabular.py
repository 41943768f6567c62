"""The feature ranking of tabular explanations (S8): ranks, the ranking table, its
Markdown, the chart and the per-input normalised mean."""

import numpy as np
import pytest

from dance_tf.plots.tabular import (
    mean_normalised,
    ranking_table,
    ranks,
    save_ranking_chart,
    to_markdown,
)


def test_ranking_table_and_chart(tmp_path):
    names = ["a", "b", "c", "d"]
    np.testing.assert_array_equal(ranks(np.array([0.1, -3.0, 2.0, 0.1])), [3, 1, 2, 4])
    rows = ranking_table(names, {"without decoys": np.array([0.1, -3.0, 2.0, 0.1]),
                                 "with decoys": np.array([4.0, 1.0, 0.0, 2.0])}, top=2)
    assert [r["feature"] for r in rows] == ["a", "d", "b", "c"]
    assert rows[0]["without decoys rank"] == 3 and rows[0]["with decoys score"] == 4.0
    md = to_markdown(rows)
    assert md.splitlines()[0].startswith("| feature | without decoys rank")
    assert len(md.splitlines()) == 2 + 4
    path = save_ranking_chart(tmp_path / "rank.png", names,
                              {"without": np.ones(4), "with": np.arange(4.0)}, top=3)
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="expected 4 feature scores"):
        ranking_table(names, {"x": np.ones(3)})
    # two inputs, each scaled to its own maximum: (1, .5, 0) and (0, 1, .5) → mean
    np.testing.assert_allclose(mean_normalised([[2.0, -1.0, 0.0], [0.0, 4.0, 2.0]]),
                               [0.5, 0.75, 0.25])
