"""The course's data sets, made reproducibly.

Every loader returns arrays in the course's layout: X (n_x, m) with examples as columns, labels
Y (1, m). Randomness comes from an explicit ``seed`` so that every run draws the same points.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from helpers.validate import check_xy

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _columns(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ascontiguousarray(X.T, dtype=float), y.reshape(1, -1).astype(float)


def load_circles(n_train: int = 300, n_test: int = 100, noise: float = 0.05, seed: int = 1):
    """Two concentric rings of points (scikit-learn's make_circles): X (2, m), Y (1, m).

    Returns (X_train, Y_train, X_test, Y_test)."""
    from sklearn.datasets import make_circles

    X, y = make_circles(n_train + n_test, noise=noise, factor=0.5, random_state=seed)
    X, Y = _columns(X, y)
    return X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]


def load_moons(n_train: int = 300, n_test: int = 100, noise: float = 0.2, seed: int = 3):
    """Two interleaving half-moons (scikit-learn's make_moons): X (2, m), Y (1, m).

    Returns (X_train, Y_train, X_test, Y_test)."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_train + n_test, noise=noise, random_state=seed)
    X, Y = _columns(X, y)
    return X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:]


def load_goalkeeper(path: Path | str | None = None):
    """The goalkeeper data set (data/goalkeeper.csv, made by data/make_goalkeeper.py).

    Where on the field (x1, x2) the goalkeeper kicked the ball, and whether one of our
    players (1) or the other team (0) headed it. Returns (X_train, Y_train, X_test, Y_test).
    """
    path = Path(path) if path is not None else DATA_DIR / "goalkeeper.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: it ships with the course in data/ "
            "(re-create it with `python data/make_goalkeeper.py`)"
        )
    rows = list(csv.DictReader(path.open()))
    out = []
    for split in ("train", "test"):
        sel = [r for r in rows if r["split"] == split]
        X = np.array([[float(r["x1"]), float(r["x2"])] for r in sel]).T
        Y = np.array([[float(r["label"]) for r in sel]])
        out += [X, Y]
    return tuple(out)


def load_digits():
    """scikit-learn's bundled 8x8 digits (1,797 images, offline): X (64, m) with pixel values
    0..16, labels (1, m) as integers 0..9. Standardise and split them in the notebook."""
    from sklearn.datasets import load_digits as _load

    d = _load()
    return np.ascontiguousarray(d.data.T, dtype=float), d.target.reshape(1, -1).astype(int)


def split(X, Y, fractions: Sequence[float], rng: np.random.Generator):
    """Shuffle the m examples with ``rng`` and cut them into len(fractions) disjoint parts
    (e.g. (0.6, 0.2, 0.2) for train/dev/test) that together hold every example once.

    Returns [X_0, Y_0, X_1, Y_1, ...]."""
    X, Y = check_xy(X, Y)
    fr = np.asarray(fractions, dtype=float)
    if fr.ndim != 1 or (fr < 0).any() or not np.isclose(fr.sum(), 1.0):
        raise ValueError(f"fractions must be non-negative and sum to 1, got {list(fractions)}")
    m = X.shape[1]
    perm = rng.permutation(m)
    cuts = np.round(np.cumsum(fr)[:-1] * m).astype(int)
    out = []
    for idx in np.split(perm, cuts):
        out += [X[:, idx], Y[:, idx]]
    return out
