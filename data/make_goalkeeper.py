"""Make data/goalkeeper.csv: where the goalkeeper's kicks landed, and who headed the ball.

The field is the square [-1, 1] x [-1, 1] seen from above (x1 across, x2 along the pitch).
Our players (label 1) tend to win headers on one side of a gently curved line; the other team
(label 0) on the other. Near the line either team can win, and a few balls are won "against the
odds" far from it (a slip, a lucky bounce). Those few points are what a large, unregularized net
bends its boundary around: it fits the noise of the training set and does worse on new kicks.

Run `python data/make_goalkeeper.py` to re-create the file; it is deterministic (seed 2026).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 2026
N_TRAIN, N_TEST = 210, 200


def boundary(x1: np.ndarray) -> np.ndarray:
    """The curved line between the two teams' zones."""
    return 0.35 * np.sin(2.2 * x1) - 0.1


def make(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1, 1, size=(n, 2))
    margin = X[:, 1] - boundary(X[:, 0])
    # Probability that our player wins the header: a soft step across the line...
    p = 1.0 / (1.0 + np.exp(-margin / 0.12))
    y = (rng.random(n) < p).astype(int)
    # ...plus a few surprises far from it.
    flip = rng.random(n) < 0.06
    y[flip] = 1 - y[flip]
    return X, y


def main(path: Path = Path(__file__).with_name("goalkeeper.csv")) -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        X, y = make(n, rng)
        rows += [(f"{a:.5f}", f"{b:.5f}", int(c), split) for (a, b), c in zip(X, y)]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2", "label", "split"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {path}")


if __name__ == "__main__":
    main()
