"""The checks of notebook 02 (train/dev/test, bias and variance, L2): what its test cells call,
and the sentence that names each mistake.

Each check takes the learner's function as an argument. None computes a graded answer: a split
is judged on examples that carry their index (sizes, disjointness, labels kept with their
examples), a diagnosis on situations whose verdict the notebook's table gives, the L2 cost on
weights whose squared norms are known by hand, the L2 gradient by how it must change with
lambd and against the course's plain backpropagation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from helpers.checks import (
    Snapshot,
    as_array,
    check,
    check_gradient_dict,
    check_plain_backprop,
    fail,
    random_parameters,
)
from helpers.network import binary_cross_entropy

# ---------------------------------------------------------------- split_train_dev_test
SETS = ["X_train", "Y_train", "X_dev", "Y_dev", "X_test", "Y_test"]


def _split_parts(split: Callable, X: np.ndarray, Y: np.ndarray, fractions: tuple,
                 seed: int) -> list[np.ndarray]:
    """Your split of (X, Y): X, Y and fractions left unchanged, six 2-D arrays returned, each
    with the rows of X or Y."""
    args = Snapshot(X=X, Y=Y, fractions=fractions)
    out = split(X, Y, fractions, np.random.default_rng(seed))
    args.check_unchanged("split_train_dev_test", "shuffle copies (X[:, order] makes one), not "
                         "the caller's arrays in place (rng.shuffle(X) changes them)")
    check(isinstance(out, (tuple, list)) and len(out) == 6,
          "return the six arrays X_train, Y_train, X_dev, Y_dev, X_test, Y_test (in that order)")
    parts = [as_array(a, "each returned set") for a in out]
    rows, want_rows = [a.shape[0] if a.ndim == 2 else -1 for a in parts], [X.shape[0], Y.shape[0]] * 3
    check(rows == want_rows or sorted(rows) != sorted(want_rows), "your six arrays have the rows "
          f"{rows}, those of X and Y but in another order: return X_train, Y_train, X_dev, Y_dev, "
          "X_test, Y_test, in that order")
    for name, a, rows in zip(SETS, parts, want_rows):
        check(a.ndim == 2 and a.shape[0] == rows, f"{name} has shape {a.shape}: it must keep the "
              f"rows ({rows}, m_part) - cut columns, not rows")
    return parts


def check_split(split: Callable, m: int, n_x: int, fractions: tuple, seed: int) -> list[np.ndarray]:
    """``split`` on m examples whose first feature is their index and whose label remembers it:
    set sizes round(f_train m), round(f_dev m) and the rest; no example dropped or repeated;
    each label still with its example. Returns the six sets."""
    ids = np.arange(m, dtype=float)
    X = np.vstack([ids] + [np.random.default_rng(seed + 100).normal(size=m) for _ in range(n_x - 1)])
    parts = _split_parts(split, X, (ids + 0.5).reshape(1, m), fractions, seed)
    sizes = [parts[0].shape[1], parts[2].shape[1], parts[4].shape[1]]
    as_if_rows = [round(f * n_x) for f in fractions[:2]]
    check(sizes != as_if_rows + [n_x - sum(as_if_rows)] or n_x == m, f"the three sets hold {sizes}"
          f" examples: the split of X.shape[0] = {n_x} (the number of features), but m is "
          f"X.shape[1] = {m}, the number of examples (columns)")
    check(sum(sizes) == m, f"the three sets hold {sizes} = {sum(sizes)} examples but there are "
          f"{m}: every example must land in exactly one set (none dropped)")
    for size, f, name in zip(sizes[:2], fractions, ["train", "dev"]):
        want = round(f * m)
        check(size == want, f"the {name} set has {size} examples, but the docstring asks for "
              f"round({f} * {m}) = round({f * m:g}) = {want}"
              + (": use round(), not int() (int cuts the fraction off)" if size == int(f * m) else ""))
    for Xp, name in zip(parts[0::2], ["train", "dev", "test"]):
        whole = np.isin(Xp[0], ids).all() and np.array_equal(Xp, X[:, Xp[0].astype(int)])
        check(whole, f"the columns of X_{name} are not whole examples (columns) of X: shuffle "
              "and cut the columns, X[:, order], not the rows (features); rng.permutation(X) "
              "and rng.shuffle(X) reorder rows")
    for Xp, Yp, name in zip(parts[0::2], parts[1::2], ["train", "dev", "test"]):
        check(np.array_equal(Yp[0], Xp[0] + 0.5), f"in the {name} set the labels no longer belong "
              "to their examples: shuffle X and Y with the SAME permutation")
    got = np.sort(np.concatenate([p[0] for p in parts[0::2]]))
    check(np.array_equal(got, ids), "some examples appear twice and others are missing: the "
          "three sets must be disjoint and together hold every example")
    return parts


def check_shuffled(parts: list[np.ndarray]) -> None:
    """The train set of :func:`check_split` is not simply the first examples."""
    n = parts[0].shape[1]
    check(not np.array_equal(np.sort(parts[0][0]), np.arange(n)), f"the train set is just the "
          f"first {n} examples: shuffle (rng.permutation) before cutting")


def check_split_uses_rng(split: Callable) -> None:
    """The rng argument is the only randomness: equal generators agree, other seeds differ."""
    a, b, c = (split(np.arange(50.0)[None, :], np.zeros((1, 50)), (0.6, 0.2, 0.2),
                     np.random.default_rng(s))[0] for s in (3, 3, 4))
    check(np.array_equal(a, b), "two calls with equal generators gave different splits: "
          "shuffle with the rng argument (rng.permutation), not np.random")
    check(not np.array_equal(a, c), "different generators gave the same split: shuffle with "
          "the rng argument")


# ---------------------------------------------------------------- diagnose_bias_variance
DIAGNOSES = ("high bias", "high variance", "high bias and high variance", "good fit")


def check_diagnosis(diagnose: Callable, train: float, dev: float, base: float, why: str,
                    want: str, threshold: float | None = None) -> None:
    """``diagnose(train, dev, base[, threshold])`` returns ``want``; else say ``why``."""
    kw = {} if threshold is None else {"threshold": threshold}
    got = diagnose(train, dev, base, **kw)
    check(got in DIAGNOSES, f"return exactly one of {sorted(DIAGNOSES)}, got {got!r}")
    check(got == want, f"train {100 * train:g}%, dev {100 * dev:g}%, base {100 * base:g}%"
          + (f", threshold {threshold}" if kw else "") + f": {why} -> {want!r}, got {got!r}")


def check_the_four_diagnoses(diagnose: Callable) -> None:
    """One situation of each kind, with base error 0 and the default threshold."""
    check_diagnosis(diagnose, 0.01, 0.11, 0.0, "the dev error is 10 points above train",
                    "high variance")
    check_diagnosis(diagnose, 0.15, 0.16, 0.0, "the avoidable bias is 15 points; the variance is "
                    "dev error - TRAIN error (1 point), not dev error - base error", "high bias")
    check_diagnosis(diagnose, 0.15, 0.30, 0.0, "both gaps are large", "high bias and high variance")
    check_diagnosis(diagnose, 0.005, 0.01, 0.0, "both gaps are small", "good fit")


def check_bias_from_base_error(diagnose: Callable) -> None:
    """The avoidable bias is measured from the base error, not from 0."""
    check_diagnosis(diagnose, 0.15, 0.16, 0.14, "the avoidable bias is train - BASE error = 1 "
                    "point (did you ignore base_error?)", "good fit")


def check_threshold_argument(diagnose: Callable) -> None:
    """threshold=0.01 is used, not a fixed 0.05."""
    check_diagnosis(diagnose, 0.03, 0.035, 0.0, "a 3-point avoidable bias is above threshold=0.01 "
                    "(use the threshold argument, not a fixed 0.05)", "high bias", threshold=0.01)


def check_threshold_boundary(diagnose: Callable) -> None:
    """A gap EQUAL to the threshold is not "larger than" it (exact in binary: 0.125)."""
    below = diagnose(0.375, 0.49, 0.26, threshold=0.125)  # both gaps just below: is > the issue?
    check_diagnosis(diagnose, 0.375, 0.5, 0.25, "both gaps equal the threshold 0.125, and only a "
                    "gap LARGER than the threshold is high"
                    + (" (use >, not >=)" if below == "good fit" else ""), "good fit",
                    threshold=0.125)


def check_negative_gaps(diagnose: Callable) -> None:
    """Dev error below train error is no variance, train below base no bias (no abs())."""
    check_diagnosis(diagnose, 0.30, 0.10, 0.29, "the dev error is BELOW the train error: dev - "
                    "train is negative, which is not high variance (don't take abs() of the gap)",
                    "good fit")
    check_diagnosis(diagnose, 0.01, 0.02, 0.10, "the train error is BELOW the base error: train - "
                    "base is negative, which is no avoidable bias (don't take abs() of the gap)",
                    "good fit")


# ---------------------------------------------------------------- compute_cost_with_regularization
class CostCase(NamedTuple):
    """AL, Y (1, m) and parameters whose W^[l] entries are all +c_l or -c_l, signs at random (so
    ||W^[l]||_F^2 = c_l^2 n^[l] n^[l-1], in ``squares``, while other norms - the spectral norm,
    the squared sum - differ from it, as they would not for a constant matrix) and whose biases
    are all 1.5 (squared, they sum to ``bias_squares``)."""

    AL: np.ndarray
    Y: np.ndarray
    parameters: dict[str, np.ndarray]
    squares: list[float]
    bias_squares: float


def cost_case(dims: list[int], m: int, seed: int) -> CostCase:
    """A :class:`CostCase` for layer sizes ``dims`` and m examples, from ``seed``."""
    r = np.random.default_rng(seed)
    c = r.uniform(0.5, 2.0, size=len(dims) - 1)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = c[l - 1] * r.choice([-1.0, 1.0], size=(dims[l], dims[l - 1]))
        params[f"b{l}"] = np.full((dims[l], 1), 1.5)
    AL = r.uniform(0.05, 0.95, size=(1, m))
    Y = (r.random((1, m)) < 0.5).astype(float)
    squares = [c[l - 1] ** 2 * dims[l] * dims[l - 1] for l in range(1, len(dims))]
    return CostCase(AL, Y, params, squares, 1.5 ** 2 * sum(dims[1:]))


def check_l2_cost(cost: Callable, dims: list[int], m: int, lambd: float, seed: int) -> None:
    """With lambd = 0, the plain cross-entropy (one number; AL, Y, parameters unchanged); with
    ``lambd``, a penalty of exactly (lambd / (2 m)) sum_l ||W^[l]||_F^2, else the mistake whose
    penalty it is."""
    case = cost_case(dims, m, seed)
    args = Snapshot(AL=case.AL, Y=case.Y, parameters=case.parameters)
    got0 = cost(case.AL, case.Y, case.parameters, 0.0)
    args.check_unchanged("compute_cost_with_regularization")
    check(np.ndim(got0) == 0, f"return one number (a float), got shape {np.shape(got0)}")
    got0 = float(as_array(got0, "the cost"))
    ce = binary_cross_entropy(case.AL, case.Y)
    check(np.isclose(got0, ce, rtol=1e-7), f"with lambd = 0 the cost must be the plain "
          f"cross-entropy {ce:.6f}, got {got0:.6f}: check the cross-entropy part "
          "(binary_cross_entropy(AL, Y))")
    penalty = float(as_array(cost(case.AL, case.Y, case.parameters, lambd), "the cost")) - got0
    # the penalty over (lambd / m) * sum_l ||W^[l]||_F^2 must be exactly one half
    factor = penalty * m / (lambd * sum(case.squares))
    if not np.isclose(factor, 0.5, rtol=1e-6):
        _name_penalty_mistake(factor, case, m, penalty, lambd)


def _name_penalty_mistake(factor: float, case: CostCase, m: int, penalty: float,
                          lambd: float) -> None:
    """Fail with the mistake whose penalty is ``factor`` (lambd / m) sum ||W||^2."""
    sq, L = case.squares, len(case.squares)
    Ws = [case.parameters[f"W{l}"] for l in range(1, L + 1)]
    wrong = {
        "your penalty is twice too big: the factor is lambd / (2 m), not lambd / m": 1.0,
        "the 1/m is missing from your penalty: it is (lambd / (2 m)) * sum ||W||^2": 0.5 * m,
        "your penalty includes the biases: only the weights W^[l] are penalized, not b^[l]":
            0.5 * (sum(sq) + case.bias_squares) / sum(sq),
        f"only the last layer is penalized: sum ||W^[l]||^2 over ALL {L} layers":
            0.5 * sq[-1] / sum(sq),
        f"only the first layer is penalized (is a return inside your loop?): sum ||W^[l]||^2 "
        f"over ALL {L} layers": 0.5 * sq[0] / sum(sq),
        f"sum ||W^[l]||^2 over every layer l = 1..{L}, reading L off the parameters, "
        "not over a fixed number of layers": 0.5 * sum(sq[:3]) / sum(sq),
        "square the weights: ||W||_F^2 is the sum of the squared entries, not the norm itself":
            0.5 * sum(np.sqrt(sq)) / sum(sq),
        f"the last layer is missing: sum over l = 1..{L} (range(1, L + 1), L = the number of W's)":
            0.5 * sum(sq[:-1]) / sum(sq),
        "lambd / 2 * m multiplies by m: write lambd / (2 * m)": 0.5 * m * m,
        "np.linalg.norm(W, 2) is the spectral norm (the largest singular value): ||W||_F^2 is the "
        "Frobenius norm squared, np.sum(np.square(W)) or np.linalg.norm(W) ** 2":
            0.5 * sum(np.linalg.norm(W, 2) ** 2 for W in Ws) / sum(sq),
        "np.sum(W) ** 2 squares the sum of the weights: square each weight, then sum "
        "(np.sum(np.square(W)))": 0.5 * sum(np.sum(W) ** 2 for W in Ws) / sum(sq),
        "np.mean(W ** 2) divides by the number of weights: ||W||_F^2 is the sum, np.sum(W ** 2)":
            0.5 * sum(np.mean(W**2) for W in Ws) / sum(sq),
    }
    for message, value in wrong.items():
        check(not np.isclose(factor, value, rtol=1e-6), message)
    fail(f"the L2 penalty (your cost minus the cross-entropy) is {penalty:.6g}; it should be "
         f"lambd / (2 m) * sum ||W^[l]||_F^2 = {0.5 * lambd * sum(sq) / m:.6g}")


# ---------------------------------------------------------------- backward_propagation_with_regularization
class BackwardCase(NamedTuple):
    """X (n_x, m), Y (1, m), the parameters of a 3-layer ReLU net, and ``forward``, the
    notebook's given forward_propagation that makes the cache."""

    X: np.ndarray
    Y: np.ndarray
    parameters: dict[str, np.ndarray]
    forward: Callable


def backward_case(forward: Callable, dims: list[int], m: int, seed: int) -> BackwardCase:
    """A :class:`BackwardCase` for layer sizes ``dims`` and m examples, from ``seed``."""
    r = np.random.default_rng(seed)
    params = random_parameters(dims, r, scale=0.8)
    X = r.normal(size=(dims[0], m))
    Y = (r.random((1, m)) < 0.5).astype(float)
    return BackwardCase(X, Y, params, forward)


def run_l2_backward(backward: Callable, case: BackwardCase, lambd: float) -> dict[str, np.ndarray]:
    """Your ``backward(X, Y, cache, lambd)`` on the cache of the given forward pass: X, Y and the
    cache left unchanged, {"dW1", …, "db3"} shaped like the parameters."""
    _, cache = case.forward(case.X, case.parameters)
    args = Snapshot(X=case.X, Y=case.Y, cache=list(cache))
    grads = backward(case.X, case.Y, cache, lambd)
    args.check_unchanged("backward_propagation_with_regularization",
                         "compute new arrays (dW = ... + lambd / m * W), don't change W in place")
    return check_gradient_dict(grads, case.parameters)


def check_plain_backprop_at_lambda_zero(backward: Callable, case: BackwardCase) -> None:
    """With lambd = 0: ordinary backpropagation (the course's own, for the same net)."""
    grads0 = run_l2_backward(backward, case, 0.0)
    check_plain_backprop(grads0, case.X, case.Y, case.parameters, "with lambd = 0")


def check_weight_decay_terms(backward: Callable, case: BackwardCase, lambd: float) -> None:
    """What the penalty adds to each layer: dW^[l](lambd) - dW^[l](0) = (lambd / m) W^[l]."""
    grads, grads0 = run_l2_backward(backward, case, lambd), run_l2_backward(backward, case, 0.0)
    m = case.X.shape[1]
    for l in (1, 2, 3):
        extra = grads[f"dW{l}"] - grads0[f"dW{l}"]
        want = lambd / m * case.parameters[f"W{l}"]
        if np.allclose(extra, want, rtol=1e-6, atol=1e-10):
            continue
        check(not np.allclose(extra, 0), f"dW{l} is missing the regularization term: add "
              f"(lambd / m) * W{l} to EVERY layer's dW")
        for factor, msg in (
                (0.5, "the derivative of (lambd / (2 m)) ||W||^2 is (lambd / m) W, not (lambd / (2 m)) W"),
                (2.0, "the regularization term is twice too big: add (lambd / m) * W, not (2 lambd / m) * W"),
                (m, "the 1/m is missing from the regularization term: add (lambd / m) * W"),
                (-1.0, "the regularization term has the wrong sign: ADD (lambd / m) * W (the "
                       "penalty grows with the weights, so its gradient points along W)")):
            check(not np.allclose(extra, factor * want, rtol=1e-6), f"dW{l}: {msg}")
        fail(f"dW{l} changes with lambd by the wrong amount: it should grow by exactly "
             f"(lambd / m) * W{l}")


def check_biases_not_regularized(backward: Callable, case: BackwardCase, lambd: float) -> None:
    """db^[l] does not change with lambd."""
    grads, grads0 = run_l2_backward(backward, case, lambd), run_l2_backward(backward, case, 0.0)
    for l in (1, 2, 3):
        check(np.allclose(grads[f"db{l}"], grads0[f"db{l}"], rtol=1e-9, atol=1e-12),
              f"db{l} changes with lambd: the biases are not regularized, leave db{l} as in plain "
              "backprop")
