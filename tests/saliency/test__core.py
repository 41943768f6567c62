"""The shared edges of the base methods (``saliency._core``): tensors in give tensors out,
and targets and counts are checked before anything runs."""

import numpy as np
import pytest
import tensorflow as tf

from dance_tf import saliency
from tests.conftest import small_cnn


def test_tensor_in_tensor_out_and_bad_targets():
    model = small_cnn()
    x = tf.random.uniform((2, 12, 12, 1))
    assert tf.is_tensor(saliency.gradient(model, x, tf.constant([0, 1])))
    with pytest.raises(ValueError, match="targets"):
        saliency.gradient(model, np.zeros((2, 12, 12, 1), np.float32), [0, 9])
    with pytest.raises(TypeError, match="targets"):
        saliency.gradient(model, np.zeros((2, 12, 12, 1), np.float32), [0.5, 1.0])
    with pytest.raises(ValueError, match="steps"):
        saliency.integrated_gradients(model, np.zeros((1, 12, 12, 1), np.float32), [0],
                                      steps=0)
