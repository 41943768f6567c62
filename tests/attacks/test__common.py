"""What every attack shares (``attacks._common``): the label is kept even when a step
would flip it, a softmax model is attacked on its logits, and any base method (by name or
a callable) gives the saliency the attack lowers."""

import keras
import numpy as np

from dance_tf.attacks import mass_center_attack, topk_attack


def test_label_kept_even_when_step_would_flip(images):
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((12, 12, 3)), keras.layers.Flatten(),
                          keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    xa = topk_attack(m, images, epsilon=0.5, alpha=0.1, iterations=10, k=0.1,
                     value_range=(0.0, 1.0))
    np.testing.assert_array_equal(np.argmax(m(xa), 1), np.argmax(m(images), 1))


def test_softmax_model_is_attacked_on_logits(images):
    keras.utils.set_random_seed(2)
    inp = keras.Input((12, 12, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    h = keras.layers.Flatten()(h)
    logits = keras.layers.Dense(3, name="logits")(h)
    probs = keras.layers.Softmax()(logits)
    with_softmax = keras.Model(inp, probs)
    xa, info = mass_center_attack(with_softmax, images, iterations=3, value_range=(0.0, 1.0),
                                  return_info=True)
    # the loss is computed on the logit gradient map: same as on the logits-only model
    plain = keras.Model(inp, logits)
    _, info2 = mass_center_attack(plain, images, iterations=3, value_range=(0.0, 1.0),
                                  return_info=True)
    np.testing.assert_allclose(info.loss_after, info2.loss_after, rtol=1e-4, atol=1e-6)


def test_attack_through_other_base_methods(net, images):
    from dance_tf.saliency import integrated_gradients

    x = images[:2]
    _, by_name = topk_attack(net, x, iterations=4, k=10, value_range=(0.0, 1.0),
                             method="ig", method_options={"steps": 4}, return_info=True)
    assert np.all(by_name.loss_after <= by_name.loss_before)
    assert np.any(by_name.loss_after < by_name.loss_before)

    def user_ig(model, xs, ts):
        return integrated_gradients(model, xs, ts, steps=4)

    _, by_callable = topk_attack(net, x, iterations=4, k=10, value_range=(0.0, 1.0),
                                 method=user_ig, return_info=True)
    np.testing.assert_allclose(by_callable.loss_after, by_name.loss_after, rtol=1e-5)
