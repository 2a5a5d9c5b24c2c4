"""Time per training update of the course's core, beside scikit-learn and the matmul floor.

For each network the same work is timed three ways, in one run:
  helpers   helpers.training.train (dict parameters, caches, divergence checks, binding)
  sklearn   sklearn.neural_network.MLPClassifier, plain SGD (no momentum, no L2, no early
            stopping), same layers, same batch size, same number of updates
  floor     only the matrix multiplications one update needs (forward W A, backward dZ A^T
            and W^T dZ), with preallocated arrays: no framework can do the update with less
Targets (issue 2): helpers >= 4x faster than scikit-learn on the course nets, and <= 1.6x the
matmul floor on the large net. Printed, never asserted. Run: .venv/bin/python bench/core_speed.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from helpers.data import load_digits, load_goalkeeper, load_moons
from helpers.network import backward_from_output, glorot_uniform
from helpers.training import train


def softmax_pieces() -> dict:
    """A mean softmax cross-entropy for the 10-class net (the core has none: softmax is
    notebook 06's exercise), as train()'s cost= and backward=."""
    def probabilities(Z):
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        return E / E.sum(axis=0, keepdims=True)

    def cost(AL, Y):
        return float(-(Y * np.log(np.maximum(probabilities(AL), 1e-12))).sum() / Y.shape[1])

    def backward(AL, Y, cache):
        return backward_from_output(probabilities(AL) - Y, cache)

    return {"cost": cost, "backward": backward, "output": "linear"}


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def helpers_time(X, Y, dims, epochs, batch, output):
    rng = np.random.default_rng(0)
    m = X.shape[1]

    def batches(X, Y, mini_batch_size, rng):
        idx = rng.permutation(X.shape[1])
        return [(X[:, idx[k:k + batch]], Y[:, idx[k:k + batch]]) for k in range(0, m, batch)]

    kw = dict(num_epochs=epochs, mini_batches=batches) if batch < m else dict(num_iterations=epochs)

    if output == "softmax":
        kw.update(softmax_pieces())
    else:
        kw["output"] = output

    def run():
        h = train(X, Y, dims, init=glorot_uniform, rng=rng, learning_rate=0.05, progress=False,
                  **kw)
        run.updates = h.updates

    t = best_of(run)
    return t / run.updates, run.updates


def sklearn_time(X, y, dims, updates_per_epoch, epochs, batch):
    clf = MLPClassifier(hidden_layer_sizes=tuple(dims[1:-1]), activation="relu", solver="sgd",
                        learning_rate_init=0.05, momentum=0.0, alpha=0.0, batch_size=batch,
                        max_iter=epochs, tol=0.0, n_iter_no_change=10**9, shuffle=batch < len(y),
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = best_of(lambda: clf.fit(X.T, y))
    return t / (updates_per_epoch * epochs)


def floor_time(X, dims, batch, reps):
    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(dims[l], dims[l - 1])) for l in range(1, len(dims))]
    Xb = np.ascontiguousarray(X[:, :batch])
    As = [Xb] + [np.empty((n, batch)) for n in dims[1:]]
    dWs = [np.empty_like(W) for W in Ws]
    dAs = [np.empty((n, batch)) for n in dims[:-1]]

    def step():
        for l, W in enumerate(Ws):
            np.matmul(W, As[l], out=As[l + 1])
        for l in range(len(Ws) - 1, -1, -1):
            np.matmul(As[l + 1], As[l].T, out=dWs[l])
            if l > 0:
                np.matmul(Ws[l].T, As[l + 1], out=dAs[l])

    def run():
        for _ in range(reps):
            step()

    return best_of(run) / reps


def main() -> None:
    Xg, Yg, _, _ = load_goalkeeper()
    Xm, Ym, _, _ = load_moons()
    digits = load_digits()
    Xd, yd = np.hstack(digits[0::2]), np.hstack(digits[1::2])
    reps = 4096 // Xd.shape[1] + 1
    Xl = np.tile((Xd - Xd.mean(axis=1, keepdims=True)) / (Xd.std(axis=1, keepdims=True) + 1e-8), reps)[:, :4096]
    yl = np.tile(yd, reps)[:, :4096]
    Yl = np.eye(10)[:, yl.ravel()]
    cases = [
        ("[2,20,3,1] full batch, goalkeeper (210 pts)", Xg, Yg, [2, 20, 3, 1], 3000, Xg.shape[1], "sigmoid"),
        ("[2,5,2,1] mini-batch 64, moons (300 pts)", Xm, Ym, [2, 5, 2, 1], 600, 64, "sigmoid"),
        ("[64,256,256,10] full batch, 4096 digits", Xl, Yl, [64, 256, 256, 10], 20, 4096, "softmax"),
    ]
    print(f"{'network':48s} {'helpers':>10s} {'sklearn':>10s} {'floor':>10s} {'skl/helpers':>12s} {'helpers/floor':>14s}")
    for name, X, Y, dims, epochs, batch, output in cases:
        m = X.shape[1]
        per_epoch = -(-m // batch)
        th, updates = helpers_time(X, Y, dims, epochs, batch, output)
        y = Y.ravel() if Y.shape[0] == 1 else Y.argmax(axis=0)
        ts = sklearn_time(X, y, dims, per_epoch, epochs, batch)
        tf = floor_time(X, dims, batch, reps=max(10, min(200, updates)))
        print(f"{name:48s} {th * 1e6:8.1f}µs {ts * 1e6:8.1f}µs {tf * 1e6:8.1f}µs {ts / th:11.2f}x {th / tf:13.2f}x")
    print("targets: sklearn/helpers >= 4x on the first two (course nets); helpers/floor <= 1.6x on the large net")


if __name__ == "__main__":
    main()
