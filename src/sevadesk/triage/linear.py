"""A multinomial linear model over sparse binary features, stored as one .npz file.

Training uses scikit-learn and SciPy's sparse matrices; inference needs only NumPy, and
scores a whole batch at once (`probabilities`). SciPy is imported only where a matrix is
built, which keeps a fifth of a second off the start of `seva triage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse


@dataclass
class LinearModel:
    version: str
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: np.ndarray  # (n_features, n_classes), float32
    bias: np.ndarray  # (n_classes,)

    def _rows(self, batch: Sequence[Sequence[str]]) -> tuple[list[int], list[int]]:
        """The vocabulary indices of each post's known features (each once), CSR style."""
        indptr = [0]
        indices: list[int] = []
        get = self.vocabulary.get
        for feats in batch:
            row = set(map(get, feats))  # one lookup per feature, in C
            row.discard(None)
            indices.extend(row)  # type: ignore[arg-type]  # None was discarded
            indptr.append(len(indices))
        return indices, indptr

    def matrix(self, batch: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        from scipy import sparse

        indices, indptr = self._rows(batch)
        data = np.ones(len(indices), dtype=np.float32)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(batch), len(self.vocabulary)))

    def probabilities(self, batch: Sequence[Sequence[str]]) -> np.ndarray:
        n_classes = len(self.classes)
        if not batch:
            return np.zeros((0, n_classes), dtype=np.float32)
        indices, indptr = self._rows(batch)
        # The sparse product, done as "sum the weight rows of each post's features": no
        # sparse matrix to build and check, a sixth less time per post than scipy's.
        scores = np.zeros((len(batch), n_classes), dtype=np.float32)
        if indices:
            ptr = np.array(indptr, dtype=np.intp)
            filled = ptr[1:] > ptr[:-1]  # reduceat cannot sum an empty row
            sums = np.add.reduceat(self.weights[np.array(indices, dtype=np.intp)], ptr[:-1][filled])
            scores[filled] = sums
        scores += self.bias
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

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
