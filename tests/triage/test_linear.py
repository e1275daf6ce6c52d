"""The stored linear model scores a batch as the sparse product over its binary features."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sevadesk.triage.linear import LinearModel

KNOWN = ["late", "train", "dirty", "toilet", "S:first=True", "E:pnr"]
UNKNOWN = ["never-seen", "@user x"]


def _model() -> LinearModel:
    rng = np.random.default_rng(7)
    return LinearModel(
        version="test",
        classes=("grievance", "noise", "sos"),
        vocabulary={f: i for i, f in enumerate(KNOWN)},
        weights=rng.normal(size=(len(KNOWN), 3)).astype(np.float32),
        bias=rng.normal(size=3).astype(np.float32),
    )


MODEL = _model()


@given(st.lists(st.lists(st.sampled_from(KNOWN + UNKNOWN), max_size=8), max_size=10))
def test_probabilities_are_the_softmax_of_the_sparse_product(batch: list[list[str]]) -> None:
    """Posts with no known feature (first, last, several in a row) score the bias alone, and a
    feature said twice counts once."""
    scores = np.asarray(MODEL.matrix(batch) @ MODEL.weights + MODEL.bias, dtype=np.float64)
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = MODEL.probabilities(batch)
    assert got.shape == (len(batch), 3)
    assert np.allclose(got, expected.reshape(len(batch), 3), atol=1e-5)
