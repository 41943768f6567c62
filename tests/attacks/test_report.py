"""The robustness report of an attack: the sensitivity SS recomputed by hand on the
binarised top-K pixel maps."""

import numpy as np

from dance_tf.attacks import topk_attack


def test_robustness_report_with_and_without_decoys_shape(net, images):
    from dance_tf.attacks import robustness_report
    from dance_tf.saliency import gradient, smoothgrad

    t = np.argmax(net(images), 1)
    xa = topk_attack(net, images, iterations=5, k=10, value_range=(0.0, 1.0))
    rep = robustness_report(images, xa, {
        "gradient": lambda xs: gradient(net, xs, t),
        "smoothgrad": lambda xs: smoothgrad(net, xs, t, samples=4)}, k=0.2, topk_pixels=10)
    assert set(rep) == {"gradient", "smoothgrad"}
    g0 = np.abs(gradient(net, images, t)).sum(-1)
    g1 = np.abs(gradient(net, xa, t)).sum(-1)

    # SS by hand on the top-20% binarised pixel maps (29 of 144 pixels)
    def top(s):
        flat = s.reshape(len(s), -1)
        b = np.zeros_like(flat)
        np.put_along_axis(b, np.argsort(-flat, 1, kind="stable")[:, :29], 1.0, 1)
        return b

    want = np.linalg.norm(top(g0) - top(g1), axis=1) / np.linalg.norm(
        (images - xa).reshape(len(xa), -1), axis=1)
    np.testing.assert_allclose(rep["gradient"]["ss"], want, rtol=1e-6)
    assert rep["gradient"]["topk_intersection"].shape == (4,)
