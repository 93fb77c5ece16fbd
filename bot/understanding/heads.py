"""Linear heads on sentence embeddings: multinomial logistic regression, stored as plain arrays.

A head is trained with scikit-learn at build time and applied at run time with NumPy alone (one
matrix product and a softmax), so the action server needs no scikit-learn model object and a head
loads in microseconds. Retraining after a small edit starts from the previous weights (warm start):
the one new variant of an editor goes live in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class LinearHead:
    classes: list[str]
    weights: np.ndarray  # (classes, dims); for two classes a single row (the positive class)
    bias: np.ndarray  # (classes,)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities for (n, dims) vectors."""
        logits = vectors @ self.weights.T + self.bias
        if len(self.classes) == 2:  # scikit-learn's binary form: one logit for classes[1]
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([1.0 - positive, positive], axis=1)
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        np.savez(path, classes=np.array(self.classes), weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        data = np.load(path, allow_pickle=False)
        return cls([str(c) for c in data["classes"]], data["weights"], data["bias"])


def train_head(
    vectors: np.ndarray,
    labels: list[str],
    c: float = 10.0,
    class_weight: str | dict | None = None,
    previous: LinearHead | None = None,
    seed: int = 0,
) -> LinearHead:
    """Fit a logistic-regression head; warm-started from ``previous`` when it has the same classes."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=5000, class_weight=class_weight, random_state=seed)
    classes = sorted(set(labels))
    if previous is not None and previous.classes == classes and previous.weights.shape[1] == vectors.shape[1]:
        model.set_params(warm_start=True)
        model.classes_ = np.array(classes)
        model.coef_ = previous.weights.copy()
        model.intercept_ = previous.bias.copy()
    model.fit(vectors, labels)
    return LinearHead(
        [str(c) for c in model.classes_], model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
    )
