"""dance_tf.metrics.stats: paired statistics against worked examples."""

import numpy as np
import pytest

from dance_tf.metrics import (
    paired_stats,
)


def test_paired_stats_worked_example():
    ours = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    base = ours - np.array([-1.0, -2.0, -3.0, 0.0, -4.0])  # diff = ours − base
    st = paired_stats(ours, base)
    assert st.mean == pytest.approx(-2.0)
    assert st.se == pytest.approx(np.sqrt(2.5 / 5))
    # t = −2/√0.5 = −2.828, ν = 4; p = ½·I_{ν/(ν+t²)}(ν/2, ½) = ½·I_{1/3}(2, ½),
    # I_{1/3}(2, ½) = [4/3 − (2√(2/3) − (2/3)(2/3)^{3/2})] / (4/3) worked by hand
    inc = (4 / 3 - (2 * np.sqrt(2 / 3) - (2 / 3) * (2 / 3) ** 1.5)) / (4 / 3)
    assert st.p == pytest.approx(0.5 * inc, rel=1e-6)
    assert st.p == pytest.approx(0.02371, abs=1e-5)
    assert paired_stats(base, ours).p == pytest.approx(1 - 0.5 * inc, rel=1e-6)


def test_paired_stats_constant_and_nonfinite_pairs():
    m, se, p = paired_stats([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])  # unpacks as a triple
    assert (m, se, p) == (-1.0, 0.0, 0.0)
    st = paired_stats([1.0, np.nan, 3.0, 5.0], [0.0, 1.0, np.inf, 2.0])
    assert st.n == 2 and st.dropped == 2 and st.mean == pytest.approx(2.0)
    assert np.isnan(paired_stats([1.0, 1.0], [1.0, 1.0]).p)
