"""Make data/goalkeeper.csv: where the goalkeeper's kicks landed, and who headed the ball.

The field is the square [-1, 1] x [-1, 1] seen from above (x1 across, x2 along the pitch).
Our players (label 1) win headers on one side of a gently curved line, the other team (label 0)
on the other; close to the line either team can win. A few balls (3%) are won "against the
odds" anywhere on the field (a slip, a lucky bounce).

The training kicks also hold five small *clusters of surprises*: groups of five balls that
landed close together on one side of the line but were won by the other team (one unlucky
afternoon). They are noise: the held-out kicks have no such clusters. The column `cluster` is 1
for these 25 training kicks (notebook 02 marks them), 0 for every other kick. A large unregularized net
bends its boundary around these clusters (high train accuracy, lower accuracy on new kicks),
which is what notebooks 02 (L2) and 03 (dropout) regularize away.

Run `python data/make_goalkeeper.py` to re-create the file; it is deterministic (SEED below).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 1
N_TRAIN, N_TEST = 210, 200
N_CLUSTERS, CLUSTER_SIZE = 5, 5  # surprise clusters in the training kicks only
FLIP_RATE = 0.03  # scattered surprises, in both splits


def boundary(x1: np.ndarray) -> np.ndarray:
    """The curved line between the two teams' zones."""
    return 0.35 * np.sin(2.2 * x1) - 0.1


def make(n: int, rng: np.random.Generator,
         n_clusters: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n kicks: positions X (n, 2), labels y (n,), and a mask (n,) of the kicks that were moved
    into the n_clusters surprise clusters."""
    X = rng.uniform(-1, 1, size=(n, 2))
    margin = X[:, 1] - boundary(X[:, 0])
    # Probability that our player wins the header: a soft step across the line...
    p = 1.0 / (1.0 + np.exp(-margin / 0.04))
    y = (rng.random(n) < p).astype(int)
    # ...plus a few scattered surprises...
    flip = rng.random(n) < FLIP_RATE
    y[flip] = 1 - y[flip]
    # ...and small clusters of surprises a little way from the line (moved existing kicks).
    k = n_clusters * CLUSTER_SIZE
    idx = rng.choice(n, size=k, replace=False)
    for c in range(n_clusters):
        x1 = rng.uniform(-0.85, 0.85)
        side = rng.choice([-1, 1])
        centre = np.array([x1, boundary(x1) + side * rng.uniform(0.15, 0.35)])
        sel = idx[c * CLUSTER_SIZE:(c + 1) * CLUSTER_SIZE]
        X[sel] = np.clip(centre + rng.normal(0, 0.06, size=(CLUSTER_SIZE, 2)), -1, 1)
        y[sel] = int(side < 0)  # won by the team whose zone it is *not*
    in_cluster = np.zeros(n, dtype=bool)
    in_cluster[idx] = True
    return X, y, in_cluster


CSV_PATH = Path(__file__).with_name("goalkeeper.csv")


def main(path: Path = CSV_PATH) -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for split, n, n_clusters in (("train", N_TRAIN, N_CLUSTERS), ("test", N_TEST, 0)):
        X, y, in_cluster = make(n, rng, n_clusters)
        rows += [(f"{a:.5f}", f"{b:.5f}", int(c), split, int(k))
                 for (a, b), c, k in zip(X, y, in_cluster)]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x1", "x2", "label", "split", "cluster"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {path}")


if __name__ == "__main__":
    main()
