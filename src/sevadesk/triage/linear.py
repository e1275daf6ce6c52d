"""A multinomial linear model over sparse binary features, stored as one .npz file.

Training uses scikit-learn; inference needs only NumPy and SciPy, and scores a whole batch
with one sparse matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse


@dataclass
class LinearModel:
    version: str
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: np.ndarray  # (n_features, n_classes), float32
    bias: np.ndarray  # (n_classes,)

    def matrix(self, batch: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        indptr = [0]
        indices: list[int] = []
        vocab = self.vocabulary
        get = vocab.get
        for feats in batch:
            row = {j for f in feats if (j := get(f)) is not None}  # one lookup per feature
            indices.extend(row)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(batch), len(vocab)))

    def probabilities(self, batch: Sequence[Sequence[str]]) -> np.ndarray:
        if not batch:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        scores = self.matrix(batch) @ self.weights + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return np.asarray(scores)

    def save(self, path: Path) -> None:
        terms = np.array(sorted(self.vocabulary, key=self.vocabulary.__getitem__), dtype=object)
        np.savez_compressed(
            path,
            version=np.array(self.version),
            classes=np.array(self.classes),
            terms=terms.astype(str),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
        )

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with np.load(path, allow_pickle=False) as data:
            terms = [str(t) for t in data["terms"]]
            return cls(
                version=str(data["version"]),
                classes=tuple(str(c) for c in data["classes"]),
                vocabulary={t: i for i, t in enumerate(terms)},
                weights=data["weights"],
                bias=data["bias"],
            )
