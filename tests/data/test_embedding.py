"""The embedding lookup: OOV rows are zero and PTB aliases resolve, the value range per
dimension includes zero, batches are zero-padded at the end, bad sentences and lengths are
refused; and a real SST sentence in the GloVe fixture."""

import numpy as np
import pytest

from dance_tf.data import glove, sst
from dance_tf.data.embedding import EmbeddingTable
from tests.conftest import FIXTURES

DEV = FIXTURES / "sst" / "stsa.binary.dev"
GLOVE = FIXTURES / "glove" / "glove.6B.50d.fixture.txt"


def small_table():
    words = ["good", "(", "/", "bad"]
    vectors = np.float32([[1.0, -2.0], [0.5, 0.5], [3.0, 1.0], [-1.0, 4.0]])
    return EmbeddingTable(words, vectors)


def test_oov_rows_are_zero_and_aliases_resolve():
    table = small_table()
    x = table.embed_one(["good", "-lrb-", "unknownword", "a\\/b", "\\/", "bad"])
    expected = np.float32([[1, -2], [0.5, 0.5], [0, 0], [0, 0], [3, 1], [-1, 4]])
    np.testing.assert_array_equal(x, expected)


def test_value_range_is_per_dimension_and_includes_zero():
    lo, hi = small_table().value_range
    np.testing.assert_array_equal(lo, [-1.0, -2.0])
    np.testing.assert_array_equal(hi, [3.0, 4.0])
    vectors = np.float32([[1.0, 2.0], [3.0, 5.0]])  # all positive: zero widens the range
    lo, hi = EmbeddingTable(["a", "b"], vectors).value_range
    np.testing.assert_array_equal(lo, [0.0, 0.0])
    np.testing.assert_array_equal(hi, [3.0, 5.0])


def test_batch_is_zero_padded_at_the_end():
    batch = small_table().embed([["good"], "Bad good (bad)"])
    assert batch.shape == (2, 5, 2)
    np.testing.assert_array_equal(batch[0, 1:], 0.0)
    np.testing.assert_array_equal(batch[1, 2], [0.5, 0.5])  # "(" → -lrb- → "("


@pytest.mark.parametrize("sentence, message", [
    ("", "sentence is empty"),
    ([], "sentence is empty"),
    ("zzz qqq", "only out-of-vocabulary tokens"),
])
def test_bad_sentences(sentence, message):
    with pytest.raises(ValueError, match=message):
        small_table().embed_one(sentence)


def test_real_fixture_oov_sentence():
    words, vectors = glove.load(GLOVE)
    table = EmbeddingTable(words, vectors)
    sentences, _ = sst.load(DEV)
    tokens = sentences[-1]  # "-lrb- a -rrb- shapeless blob of desperate entertainment ."
    x = table.embed_one(tokens)
    assert x.shape == (len(tokens), 50)
    oov = [i for i, t in enumerate(tokens) if t in ("-lrb-", "-rrb-")]
    assert oov == [0, 2]
    np.testing.assert_array_equal(x[oov], 0.0)
    np.testing.assert_array_equal(x[1], vectors[words.index("a")])


def test_embedding_length_is_validated():
    table = EmbeddingTable(["a", "b"], np.eye(2))
    with pytest.raises(ValueError, match="length"):
        table.embed([["a", "b"]], length=2.5)     # before: truncated to 2
    with pytest.raises(TypeError, match="length"):
        table.embed([["a"]], length="3")
    assert table.embed([["a"]], length=3).shape == (1, 3, 2)
