"""The default solver, the line search, solves Eq. 2 (§3.3): checked against feasible
points the test finds itself.

For a tiny CNN, an MLP and a text model, every decoy of the default solver is compared with
a brute-force grid of uniform shifts x + a·s·M computed here with the model's own layers
(not the package's sub-model or line search): its objective ‖((x̃ − x)·s)⁺ ∘ M‖₁ must reach
the best feasible shift's, it must move in its direction s, and unless pinned at the value
range its deviation at layer ℓ must be at the bound (≥ 0.9 ε).
"""

import numpy as np
import pytest

import dance_tf
from tests.decoys.conftest import CASES, mlp, prefix, signs_and_masks

GRID = 201
#: the line search closes its bracket to 2^−8 of the bracket (default line_bisect = 8)
RESOLUTION = 2.0 ** -8


def brute_force_floor(f_l, x, mask, s, lo, hi, eps):
    """Objective of the best uniform shift clip(x + a·s·M) on a 201-point grid of a over
    the value range with ‖F_ℓ − F_ℓ(x)‖∞ ≤ ε (a = 0, i.e. x itself, is always feasible)."""
    m = (mask > 0) & (hi > lo)
    a = np.linspace(0.0, float(np.max(hi - lo)), GRID, dtype=np.float32)
    pts = np.clip(x[None] + a.reshape((-1,) + (1,) * x.ndim) * s * m[None], lo, hi)
    dev = np.abs(f_l(pts) - f_l(x[None])).reshape(GRID, -1).max(axis=1)
    obj = (np.maximum((pts - x[None]) * s, 0.0) * m[None]).reshape(GRID, -1).sum(axis=1)
    return float(obj[dev <= eps].max())


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    build, layer, x, rng, opts = CASES[request.param]
    model = build()
    ex = dance_tf.Explainer(model, layer=layer, value_range=rng, **opts)
    r = ex.explain(x, return_details=True)
    lo = np.full_like(x, rng[0])
    hi = np.full_like(x, rng[1])
    return model, layer, x, lo, hi, ex, r


def test_certificates_with_an_independent_prefix(case):
    model, layer, x, lo, hi, _, r = case
    f_l = prefix(model, layer)
    _, masks = signs_and_masks(r)
    assert r.certified.all()
    dev = np.abs(f_l(r.decoys) - f_l(x[None])).reshape(len(r.decoys), -1).max(axis=1)
    assert np.all(dev <= r.epsilon * (1 + 1e-5))
    np.testing.assert_allclose(dev, r.max_deviation, rtol=1e-4, atol=1e-6)
    for d, m in zip(r.decoys, masks):
        np.testing.assert_array_equal(d[m == 0], x[m == 0])
        assert np.all(d >= lo) and np.all(d <= hi)


def test_every_decoy_moves_in_its_own_direction(case):
    _, _, x, _, _, _, r = case
    signs, masks = signs_and_masks(r)
    for d, m, s, obj in zip(r.decoys, masks, signs, r.objective):
        moved = (d - x)[m > 0] * s
        assert moved.min() >= 0.0  # one-sided: no feature moves against s
        assert moved.mean() > 0.0 or obj == 0.0
    assert np.all(r.against == 0)
    # the reported objective, recomputed: ‖((x̃ − x)·s)⁺ ∘ M‖₁
    obj = [np.sum(np.maximum((d - x) * s, 0) * (m > 0)) for d, m, s in zip(r.decoys, masks,
                                                                           signs)]
    np.testing.assert_allclose(r.objective, obj, rtol=1e-5, atol=1e-7)
    assert (r.objective > 0).mean() > 0.5


def test_objective_reaches_the_best_uniform_shift(case):
    model, layer, x, lo, hi, _, r = case
    f_l = prefix(model, layer)
    signs, masks = signs_and_masks(r)
    floors = np.array([brute_force_floor(f_l, x, m, s, lo, hi, r.epsilon)
                       for m, s in zip(masks, signs)])
    assert floors.max() > 0  # the check has something to compare with
    assert np.all(r.objective >= floors * (1 - RESOLUTION) - 1e-6), (r.objective, floors)


def test_constraint_is_active_unless_pinned(case):
    _, _, x, lo, hi, _, r = case
    signs, masks = signs_and_masks(r)
    for d, m, s, dev, pinned in zip(r.decoys, masks, signs, r.max_deviation, r.pinned):
        at_bound = np.where(s > 0, d >= hi, d <= lo)[(m > 0) & (hi > lo)].all()
        assert pinned == at_bound  # the package's flag, recomputed
        assert pinned or dev >= 0.9 * r.epsilon, (dev, r.epsilon)


def test_same_seed_same_decoys(case):
    _, _, x, _, _, ex, r = case
    again = ex.explain(x, return_details=True)
    np.testing.assert_array_equal(again.decoys, r.decoys)


def test_nothing_can_move_returns_x_and_warns():
    model = mlp()
    x = np.random.default_rng(3).random(12, dtype=np.float32)
    with pytest.warns(dance_tf.DecoyWarning, match="moved"):
        r = dance_tf.explain(model, x, layer="d2", value_range=(0, 1), epsilon=1e-30,
                             return_details=True)
    assert r.certified.all() and not r.informative
    np.testing.assert_array_equal(r.decoys, np.broadcast_to(x, r.decoys.shape))
    assert np.all(r.objective == 0) and not r.moved.any() and np.all(np.isfinite(r.saliency))
    assert np.all(r.saliency == 0)


def test_pinned_decoys_at_a_loose_bound():
    """ε so large that every decoy reaches the end of the value range."""
    model = mlp()
    x = np.random.default_rng(4).random(12, dtype=np.float32)
    r = dance_tf.explain(model, x, layer="d2", value_range=(0, 1), epsilon=1e6,
                         return_details=True)
    n = len(r.masks)
    assert r.pinned.all()
    np.testing.assert_allclose(r.decoys[:n][r.masks > 0], 1.0)
    np.testing.assert_allclose(r.decoys[n:][r.masks > 0], 0.0)


def test_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="solver"):
        dance_tf.Explainer(mlp(), solver="lbfgs")
