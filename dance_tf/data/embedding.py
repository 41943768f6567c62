"""Turning tokens into the embedded sentence DANCE perturbs (§4.3.2).

Policy, written once here and used by the SST model and its tasks:

- **Lookup.** A token is looked up as is, then through PTB aliases (``-lrb-`` → ``(``,
  ``\\/`` → ``/`` ...), since the GloVe vocabulary spells brackets and slashes plainly.
- **Out-of-vocabulary tokens** stay in the sentence (so word saliency has one value per
  token of the sentence) and embed as the **zero vector**: an unknown word carries no
  information, the same as a word "removed" by the fidelity metric, which zeroes the
  embeddings of the words it drops (§4.2). A sentence whose tokens are all unknown, or
  that has no token at all, is an error.
- **Padding.** Sentences are never padded for explanation: the SST model accepts any
  length (it pads internally up to its widest convolution, see
  :mod:`dance_tf.models.sst`). Batches of sentences of different lengths are padded at
  the end with zero vectors, which is documented where it happens.
- **Value range.** DANCE's legal range [x_min, x_max] is the per-dimension minimum and
  maximum of the table including the zero vector (S1.2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dance_tf import validate
from dance_tf.data.tokenize import tokenize

PTB_ALIASES = {
    "-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}",
    "``": '"', "''": '"',
}


class EmbeddingTable:
    """Fixed word vectors with the OOV and padding policy of this module.

    Parameters
    ----------
    words : V distinct tokens.
    vectors : float array (V, D), row i the vector of ``words[i]``.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ValueError(
                f"vectors: expected shape ({len(words)}, D), got {vectors.shape}")
        self.words = list(words)
        self.vectors = vectors
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("words: the vocabulary has repeated words")

    @property
    def dim(self) -> int:
        """Embedding dimension D."""
        return int(self.vectors.shape[1])

    @property
    def value_range(self) -> tuple[np.ndarray, np.ndarray]:
        """(x_min, x_max), each float32 (D,): per-dimension range incl. the zero vector."""
        lo = np.minimum(self.vectors.min(axis=0), 0.0).astype(np.float32)
        hi = np.maximum(self.vectors.max(axis=0), 0.0).astype(np.float32)
        return lo, hi

    @property
    def mean_vector(self) -> np.ndarray:
        """The mean embedding of the dictionary, float32 (D,) (constant ablation, §4.3.2)."""
        return self.vectors.mean(axis=0).astype(np.float32)

    def lookup(self, token: str) -> int | None:
        """Row of ``token`` (directly, or through a PTB alias), None if unknown."""
        row = self.index.get(token)
        if row is None:
            alias = PTB_ALIASES.get(token, token.replace("\\/", "/"))
            row = self.index.get(alias)
        return row

    def tokens(self, sentence: str | Sequence[str]) -> list[str]:
        """A raw string is tokenised (:func:`dance_tf.data.tokenize.tokenize`); a token
        list is used as is."""
        if isinstance(sentence, str):
            return tokenize(sentence)
        return [str(t) for t in sentence]

    def embed_one(self, sentence: str | Sequence[str]) -> np.ndarray:
        """Embedded sentence, float32 (T, D) with T = number of tokens (OOV rows zero).

        Raises ValueError if the sentence is empty or has only unknown tokens.
        """
        tokens = self.tokens(sentence)
        if not tokens:
            raise ValueError(f"sentence is empty: {sentence!r}")
        rows = [self.lookup(t) for t in tokens]
        if all(r is None for r in rows):
            raise ValueError(
                f"sentence has only out-of-vocabulary tokens: {tokens[:10]}")
        out = np.zeros((len(tokens), self.dim), dtype=np.float32)
        for i, row in enumerate(rows):
            if row is not None:
                out[i] = self.vectors[row]
        return out

    def embed(self, sentences: Sequence[str | Sequence[str]], length: int | None = None
              ) -> np.ndarray:
        """Embedded batch, float32 (N, T, D); shorter sentences end in zero rows.

        T = ``length`` if given (longer sentences are an error) else the longest sentence.
        """
        if isinstance(sentences, str):
            raise TypeError("sentences: expected a list of sentences, got one string")
        rows = [self.embed_one(s) for s in sentences]
        longest = max(len(r) for r in rows) if rows else 0
        size = longest if length is None else validate.number("length", length, low=1,
                                                               integer=True)
        if size < longest:
            raise ValueError(f"length: {size} is shorter than the longest sentence ({longest})")
        out = np.zeros((len(rows), size, self.dim), dtype=np.float32)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r
        return out
