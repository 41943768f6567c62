"""Shared by the base-method tests: a small tanh MLP, a linear model, and the noisy
gradients of an explicit loop that VarGrad, SmoothGrad-range and SmoothGrad reduce."""

import keras
import numpy as np
import pytest
import tensorflow as tf

#: the settings of the explicit loop (7 noisy copies at 20 % noise, seed 3)
NOISY = {"samples": 7, "noise": 0.2, "seed": 3}


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(4)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="tanh"),
                             keras.layers.Dense(3)])


@pytest.fixture(scope="module")
def linear():
    keras.utils.set_random_seed(5)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])


def _grad(model, x, c):
    xt = tf.constant(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = model(xt)[:, c]
    return tape.gradient(out, xt).numpy()


def _noisy_grads_loop(model, x, targets, samples, noise, seed):
    """Explicit loop: σ = noise·(max − min) per input, noise from stateless seed [seed, i]."""
    sigma = noise * (x.max(1) - x.min(1))[:, None]
    out = []
    for i in range(samples):
        eps = tf.random.stateless_normal(x.shape, seed=[seed, i]).numpy()
        xi = x + sigma * eps
        out.append(np.stack([_grad(model, xi[n:n + 1], targets[n])[0] for n in range(len(x))]))
    return np.stack(out)  # (S, N, F)


@pytest.fixture(scope="module")
def noisy_grads(mlp):
    """Inputs x, targets t and the loop's gradients g (S, N, F) of ``mlp`` at ``NOISY``: the
    same noisy copies each sampled method must reduce at the same seed."""
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    t = np.array([0, 2, 1])
    return x, t, _noisy_grads_loop(mlp, x, t, **NOISY)
