"""Checks of notebook 06's exercises (softmax regression, then TensorFlow): properties and
mistake diagnoses.

Each check takes the learner's function as its first argument (and, where an exercise calls
earlier ones as its docstring asks, those too: ``check_train_step(train_step,
forward_propagation_tf, compute_total_loss, …)``), builds its own inputs and judges what comes
back: a softmax against TensorFlow's own softmax (a library's, not the exercise's code), a loss
against closed forms, a training step by how far it lowers the loss. When a property fails, the
sentence names the mistake that explains the numbers. Nothing here computes a graded function's
answer (tests/test_release_answers.py scans this file); the hidden tests' cases and references
stay in the notebook's hidden regions. TensorFlow is imported inside the functions that need it,
so that ``helpers.checks`` imports fast without it.

softmax                    tf_softmax, check_softmax_is_written_out, check_softmax,
                           check_softmax_large_logits
one_hot                    is_one_hot_of, check_one_hot
softmax_cross_entropy      cross_entropy_reference, check_cross_entropy_is_numpy,
                           check_cross_entropy, check_cross_entropy_confident
one_hot_matrix             check_one_hot_matrix
initialize_parameters_tf   check_initialize_parameters_tf, check_initializer_seeds
forward_propagation_tf     FORWARD_HINTS, forward_problem, check_forward_propagation_tf
compute_total_loss         TOTAL_LOSS_HINTS, BATCH_4_CLASSES, BATCH_3_CLASSES, gap_logits, total_loss_of,
                           check_total_loss, check_loss_takes_logits
train_step                 TRAIN_STEP_HINTS, train_step_problem, tf_variables, batch_loss,
                           check_train_step_prerequisites, check_train_step
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from helpers.checks import (
    Snapshot,
    check,
    fail,
    ks_bound,
    ks_uniform,
    prerequisite,
    random_parameters,
    uses,
)
from helpers.network import model_forward

Params = dict[str, np.ndarray]


# ---------------------------------------------------------------- softmax (NumPy)
def tf_softmax(Z: np.ndarray) -> np.ndarray:
    """TensorFlow's softmax over the classes (axis 0) of Z (C, m), in float64: a library's
    reference, not the exercise's code."""
    import tensorflow as tf

    return tf.nn.softmax(tf.constant(Z, dtype=tf.float64), axis=0).numpy()


def check_softmax_is_written_out(softmax: Callable) -> None:
    """``softmax`` does not call SciPy's, TensorFlow's or Keras's softmax."""
    bad = uses(softmax, names=("special", "nn", "keras"), modules=("scipy", "tensorflow", "keras"))
    check(not bad, f"softmax uses {bad}: write it yourself with np.max, np.exp and np.sum "
          "(don't call SciPy's or TensorFlow's softmax)")


def check_softmax(softmax: Callable) -> None:
    """Moderate logits (3 classes, 4 examples): Z's shape kept, Z unchanged, columns summing
    to 1, the values of the softmax over each column."""
    Z = np.array([[1.0, -2.0, 0.5, 3.0], [2.0, 0.0, 0.5, -1.0], [0.0, 1.0, 0.5, 2.0]])
    args = Snapshot(Z=Z)
    with np.errstate(all="ignore"):
        A = softmax(Z)
    check(isinstance(A, np.ndarray) and A.shape == (3, 4), f"softmax(Z) for Z of shape (3, 4) "
          f"returned shape {np.shape(A)}: it must keep Z's shape (C, m)")
    check(not args.changed(), "softmax changed its argument Z: compute Z - max into a new array "
          "(Z_shifted = Z - ...), don't write Z -= ... in place")
    check(np.allclose(A.sum(axis=0), 1.0), f"the columns of softmax(Z) sum to "
          f"{np.round(A.sum(axis=0), 3)}, not 1: each column is one example, so normalise over "
          "the C rows (axis=0, keepdims=True)"
          + (" — you normalised the rows (axis=1)" if np.allclose(A.sum(axis=1), 1.0) else ""))
    want = tf_softmax(Z)
    close = np.allclose(A, want, rtol=1e-5, atol=1e-7)
    check(close or np.allclose(A, want, rtol=1e-10, atol=1e-12), "the columns sum to 1 but the "
          "values are wrong: A[c, i] = e^(Z[c, i] - max_j Z[j, i]) / sum_j e^(Z[j, i] - max_j "
          "Z[j, i])")
    check(np.allclose(A, want, rtol=1e-10, atol=1e-12), "softmax is right only to about 1e-7 (the "
          "precision of float32): compute in float64, the dtype of Z (don't convert to float32)")


# (logits, the sentence when softmax is NaN or wrong for them): each needs each column's own max
_SHIFT_CASES = [
    (np.array([[1000.0, -1000.0], [1002.0, -1001.0], [999.0, -999.5]]),
     "softmax is NaN or wrong when one column has logits near +1000 and another near -1000: "
     "subtract each COLUMN's maximum (axis=0, keepdims=True), not the maximum of the whole matrix"),
    # one large logit among small ones: Z - mean or Z - min still reaches e^2250 or e^3000
    (np.array([[0.0, 5.0], [0.0, 3.0], [0.0, 4.0], [3000.0, 2.0]]),
     "softmax is NaN or wrong for a column with logits [0, 0, 0, 3000]: subtract each column's "
     "MAXIMUM — after Z - mean or Z - min the exponent is still 2250 or 3000, which overflows"),
]


def check_softmax_large_logits(softmax: Callable) -> None:
    """Logits near 1000 (e^1000 overflows in float64), two columns on very different scales
    and one large logit among small ones (the shift must be each column's own maximum)."""
    Z_big = np.array([[1000.0, 1010.0], [1001.0, 1012.0], [998.0, 1011.0]])
    with np.errstate(all="ignore"):
        A_big = softmax(Z_big)
    check(np.isfinite(A_big).all(), "softmax returned NaN/inf for logits near 1000: e^1000 "
          "overflows. Subtract each column's maximum (np.max(Z, axis=0, keepdims=True)) before "
          "np.exp")
    check(np.allclose(A_big, tf_softmax(Z_big), rtol=1e-10, atol=1e-12), "softmax is wrong for "
          "large logits: after subtracting the column max, exponentiate and divide by the column "
          "sum")
    for Z, why in _SHIFT_CASES:
        with np.errstate(all="ignore"):
            A = softmax(Z)
        check(np.isfinite(A).all() and np.allclose(A, tf_softmax(Z)), why)


# ---------------------------------------------------------------- one_hot (NumPy)
def is_one_hot_of(Y: Any, labels: Any, C: int) -> bool:
    """Y (C, m) holds only 0s and 1s, one 1 per column, in the row of that column's label."""
    labels = np.asarray(labels).reshape(-1).astype(int)
    Y = np.asarray(Y, dtype=float)
    return bool(Y.shape == (C, labels.size) and np.isin(Y, (0.0, 1.0)).all()
                and np.array_equal(Y.sum(axis=0), np.ones(labels.size))
                and np.array_equal(Y.argmax(axis=0), labels))


def check_one_hot(one_hot: Callable) -> None:
    """Labels (1, m) and (m,), the argument unchanged, C rows even when the top classes have no
    example."""
    labels = np.array([[2, 0, 3, 1, 3]])
    args = Snapshot(labels=labels)
    Y = np.asarray(one_hot(labels, 4))
    args.check_unchanged("one_hot")
    check(Y.shape == (4, 5), f"one_hot(labels of shape (1, 5), C=4) has shape {Y.shape}, not "
          "(4, 5)" + (": one column per example, one row per class — transpose (np.eye(C)[labels] "
                      "is (m, C))" if Y.shape == (5, 4) else ""))
    check(is_one_hot_of(Y, labels, 4), "one_hot puts its 1s in the wrong places: Y[c, i] must be "
          "1 exactly when labels[i] == c")
    check(is_one_hot_of(np.asarray(one_hot(np.array([2, 1, 0, 1]), 3)), [2, 1, 0, 1], 3),
          "one_hot must also accept labels of shape (m,): flatten them first (labels.reshape(-1))")
    few = np.asarray(one_hot(np.array([[0, 1, 1]]), 5))
    check(few.shape == (5, 3), f"one_hot(labels [0, 1, 1], C=5) has shape {few.shape}, not "
          "(5, 3): the number of rows is C, not the largest label + 1")


# ---------------------------------------------------------------- softmax_cross_entropy (NumPy)
def cross_entropy_reference(Z: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean cross-entropy of logits Z (C, m) for one-hot labels Y (C, m), and its gradient
    with respect to Z (C, m): the mean of -log p(true class) from TensorFlow's log-softmax, and
    the gradient its GradientTape derives, in float64 — a library's numbers, not the exercise's
    formulas."""
    import tensorflow as tf

    z = tf.constant(Z, dtype=tf.float64)
    true_class = tf.constant(np.asarray(Y) > 0.5)   # one-hot: one True per column
    with tf.GradientTape() as tape:
        tape.watch(z)
        # TensorFlow's log-softmax over the classes; the mean of -log p(true class)
        J = -tf.reduce_mean(tf.boolean_mask(tf.transpose(tf.nn.log_softmax(z, axis=0)),
                                            tf.transpose(true_class)))
    return float(J), tape.gradient(J, z).numpy()


def check_cross_entropy_is_numpy(softmax_cross_entropy: Callable) -> None:
    """``softmax_cross_entropy`` is written with NumPy (no TensorFlow, SciPy or Keras)."""
    bad = uses(softmax_cross_entropy, names=("tf", "special", "nn", "keras"),
               modules=("scipy", "tensorflow", "keras"))
    check(not bad, f"softmax_cross_entropy uses {bad}: write the cost and dZ yourself with NumPy "
          "(this is the NumPy exercise; don't call TensorFlow or SciPy)")


def _check_cost(cost: Any, want: float, m: int, C: int) -> None:
    check(np.ndim(cost) == 0, f"the cost has shape {np.shape(cost)}: return one number (sum over "
          "classes AND examples, then divide by m)")
    cost = float(cost)
    check(not np.isclose(cost, m * want, rtol=1e-6), f"your cost {cost:.5f} is m = {m} times too "
          "large: J is the MEAN over the m examples — divide the sum by m")
    check(not np.isclose(cost, want / C, rtol=1e-6), f"your cost {cost:.5f} is the expected one "
          "divided by C: sum over the classes, average over the examples only")
    check(not np.isclose(cost, -want, rtol=1e-7), f"your cost {cost:.5f} is negative: J = -(1/m) "
          "sum Y log A has a minus sign (log A <= 0, so J >= 0)")
    check(np.isclose(cost, want, rtol=1e-7), f"cost = {cost:.6f}, expected {want:.6f}: J = -(1/m) "
          "sum_i sum_c Y[c,i] log A[c,i] with A the softmax over each column (axis=0) of the "
          "LOGITS Z (don't pass Z through another softmax, don't use Z as if it were "
          "probabilities)")


def check_cross_entropy(softmax_cross_entropy: Callable) -> None:
    """Moderate logits (3 classes, 4 examples): (cost, dZ) returned, Z and Y unchanged, the
    mean cost, and dZ = its gradient (shape, scale, sign, values)."""
    Z = np.array([[1.0, -2.0, 0.5, 3.0], [2.0, 0.0, 0.5, -1.0], [0.0, 1.0, 0.5, 2.0]])
    Y = np.array([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    (C, m), args = Z.shape, Snapshot(Z=Z, Y=Y)
    with np.errstate(all="ignore"):
        out = softmax_cross_entropy(Z, Y)
    args.check_unchanged("softmax_cross_entropy", "compute Z - max into a new array")
    check(isinstance(out, tuple) and len(out) == 2, "softmax_cross_entropy must return (cost, dZ)")
    want_cost, want_dZ = cross_entropy_reference(Z, Y)
    _check_cost(out[0], want_cost, m, C)
    dZ = np.asarray(out[1])
    check(dZ.shape == Z.shape, f"dZ has shape {dZ.shape}; it must have Z's shape {Z.shape}")
    check(not np.allclose(dZ, m * want_dZ), f"dZ is m = {m} times too large: it is the gradient "
          "of the MEAN cost, dZ = (A - Y) / m")
    check(not np.allclose(dZ, -want_dZ), "dZ has the wrong sign: dZ = (A - Y) / m, not (Y - A) / m")
    check(np.allclose(dZ, want_dZ, rtol=1e-7, atol=1e-12), "dZ is wrong: dZ = (softmax(Z) - Y) / "
          "m, with the softmax over each column")


def check_cross_entropy_confident(softmax_cross_entropy: Callable) -> None:
    """A confident mistake: a logit 800 above another (its probability underflows to 0); the
    cost stays finite and exact."""
    Z = np.array([[0.0, 0.0, 5.0], [800.0, 800.0, 1.0]])
    Y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    with np.errstate(all="ignore"):
        cost, dZ = softmax_cross_entropy(Z, Y)
    want, _ = cross_entropy_reference(Z, Y)
    check(np.isfinite(cost), "the cost is NaN/inf when one logit is 800 larger than another: a "
          "probability underflows to 0 and log(0) = -inf (0 * -inf = NaN). Compute log A as a "
          "log-softmax: (Z - max) - log(sum(exp(Z - max)))")
    check(np.isfinite(dZ).all(), "the cost is right but dZ is NaN/inf when one logit is 800 larger "
          "than another: e^800 overflows. Compute A for dZ from the shifted logits Z - max (or as "
          "exp(log A))")
    check(np.isclose(cost, want, rtol=1e-7), f"cost = {float(cost):.4f} for a confident mistake "
          f"whose exact cost is {want:.4f}: don't clip the probabilities or add a small epsilon "
          "to them (either changes the cost); compute log A exactly as a log-softmax from the "
          "logits")


# ---------------------------------------------------------------- one_hot_matrix (TensorFlow)
def check_one_hot_matrix(one_hot_matrix: Callable, labels: Sequence[int], C: int) -> None:
    """``one_hot_matrix(tf.constant(labels), C)``: a float32 tf.Tensor (C, m), one 1 per column
    in the row of its label (C rows even when the top classes have no example)."""
    import tensorflow as tf

    Y = one_hot_matrix(tf.constant(labels), C)
    check(isinstance(Y, tf.Tensor),
          f"one_hot_matrix returned a {type(Y).__name__}: return the tf.Tensor made by tf.one_hot")
    shape, m = tuple(Y.shape), len(labels)
    check(shape == (C, m), f"one_hot_matrix({m} labels, C={C}) has shape {shape}, not {(C, m)}"
          + (": tf.one_hot puts the classes on the last axis — use axis=0 (or transpose)"
             if shape == (m, C) else
             ": the number of rows is C, not the largest label + 1" if shape[0] == max(labels) + 1
             else ""))
    check(Y.dtype == tf.float32, f"one_hot_matrix returned dtype {Y.dtype.name}; it must be float32")
    got = np.asarray(Y, dtype=float)
    check(is_one_hot_of(got, labels, C) or not is_one_hot_of(got.reshape(m, C).T, labels, C),
          "one_hot_matrix reshaped the (m, C) one-hot matrix to (C, m): a reshape is not a "
          "transpose (it keeps the order of the numbers). Use axis=0 or tf.transpose")
    check(is_one_hot_of(got, labels, C), "one_hot_matrix puts its 1s in "
          "the wrong places: column i must be 1 in row label[i] only")


# ---------------------------------------------------------------- initialize_parameters_tf
def _check_variable(name: str, v: Any, shape: tuple[int, int]) -> None:
    import tensorflow as tf

    check(isinstance(v, tf.Variable), f"{name} is a {type(v).__name__}, not a tf.Variable: wrap "
          "it in tf.Variable(...) so that the tape watches it and the optimizer can update it")
    check(v.dtype == tf.float32, f"{name} has dtype {v.dtype.name}; use float32")
    check(tuple(v.shape) == shape, f"{name} has shape {tuple(v.shape)}; it must be "
          + ("(n_l, n_(l-1)) = " if name.startswith("W") else "") + f"{shape}")


def check_glorot_uniform(name: str, W: Any, n_prev: int, n: int) -> None:
    """W (n, n_prev) is drawn from the uniform law on (-r, r), r = sqrt(6 / (n_prev + n)):
    centred, Glorot's spread (He's is named), no weight outside (-r, r), spread evenly (KS)."""
    w = np.asarray(W, dtype=float)
    r = np.sqrt(6.0 / (n_prev + n))
    glorot = r / np.sqrt(3.0)                      # the standard deviation of U(-r, r)
    he = [np.sqrt(2.0) / np.sqrt(k) for k in (n_prev, n)]  # He's spread (either fan)
    check(abs(w.mean()) < 0.1 * glorot, f"{name} has mean {w.mean():.4f}; it must be centred on 0")
    check(abs(w.std() / glorot - 1) < 0.05,
          f"{name} has standard deviation {w.std():.4f}, but Glorot's is sqrt(2 / (n_(l-1) + n_l)) "
          f"= {glorot:.4f}" + (" — that looks like He's sqrt(2 / n_(l-1)); use GlorotUniform"
                               if any(abs(w.std() / s - 1) < 0.05 for s in he) else ""))
    # the shape of the distribution, not only its spread: uniform on (-r, r)
    outside = np.mean(np.abs(w) > r * (1 + 1e-6))
    check(outside == 0, f"{outside:.1%} of the weights of {name} lie outside (-r, r) with r = "
          f"sqrt(6 / (n_(l-1) + n_l)) = {r:.4f}: the docstring asks for a UNIFORM distribution "
          "on (-r, r) (GlorotUniform), not a normal one with the same spread")
    ks = ks_uniform((w.ravel() + r) / (2 * r))
    check(ks < ks_bound(w.size), f"the weights of {name} are not spread evenly over (-r, r) "
          f"(Kolmogorov-Smirnov distance {ks:.3f} from the uniform law): draw them uniformly")


def check_initialize_parameters_tf(init: Callable, layers_dims: list[int], seed: int) -> None:
    """``init(layers_dims, seed=seed)``: keys W1, b1, …; float32 tf.Variables of the right
    shapes; zero biases; Glorot-uniform weights."""
    L, dims = len(layers_dims) - 1, list(layers_dims)
    params = init(dims, seed=seed)
    check(dims == list(layers_dims), f"initialize_parameters_tf changed its argument layers_dims "
          f"({list(layers_dims)} became {dims}): its docstring says it is left unchanged — read the "
          "sizes with layers_dims[l], don't pop or insert")
    keys = sorted(f"{p}{l}" for l in range(1, L + 1) for p in "Wb")
    check(isinstance(params, dict) and sorted(params) == keys,
          f"initialize_parameters_tf({layers_dims}, {seed}) returned keys "
          f"{sorted(params) if isinstance(params, dict) else type(params)}; expected {keys}")
    for l in range(1, L + 1):
        n_prev, n = layers_dims[l - 1], layers_dims[l]
        _check_variable(f"W{l}", params[f"W{l}"], (n, n_prev))
        _check_variable(f"b{l}", params[f"b{l}"], (n, 1))
        check(np.all(np.asarray(params[f"b{l}"]) == 0), f"b{l} must start at zero")
        check_glorot_uniform(f"W{l}", params[f"W{l}"], n_prev, n)


def check_initializer_seeds(init: Callable, layers_dims: list[int], seed: int) -> None:
    """The same seed gives the same parameters, another seed others, and two layers of the same
    shape get different weights (each layer its own seed)."""
    first = np.asarray(init(layers_dims, seed=seed)["W1"])
    check(np.array_equal(np.asarray(init(layers_dims, seed=seed)["W1"]), first),
          "the same seed must give the same parameters: pass the seed to the initializer")
    check(not np.array_equal(np.asarray(init(layers_dims, seed=seed + 1)["W1"]), first),
          "a different seed must give different parameters: pass the seed to the initializer")
    square = init([50, 50, 50], seed=0)
    check(not np.array_equal(np.asarray(square["W1"]), np.asarray(square["W2"])),
          "W1 and W2 (both 50x50) are identical: a seeded Keras initializer returns the same numbers "
          "on every call — give layer l its own seed, seed + l")


# ---------------------------------------------------------------- forward_propagation_tf
FORWARD_HINTS = {
    "InvalidArgumentError": "the shapes of a W and of the A it multiplies do not match. Does layer "
    "l take the previous layer's output A^[l-1], for every l = 1 ... L (L = len(parameters) // 2), "
    "with Z = tf.matmul(W, A) + b?",
    "KeyError": "loop over every layer in parameters (and no more), L = len(parameters) // 2"}


def forward_problem(layer_dims: list[int], rng: np.random.Generator,
                    m: int) -> tuple[np.ndarray, dict, np.ndarray]:
    """A test's own net: X (n_x, m) float32, its parameters as float32 tf.Variables, and the
    logits Z^[L] (n_L, m) of the course's forward pass (ReLU hidden layers, a linear last
    layer, helpers.network.model_forward) in float64."""
    import tensorflow as tf

    P = {k: v.astype(np.float32) for k, v in random_parameters(layer_dims, rng).items()}
    X = rng.standard_normal((layer_dims[0], m)).astype(np.float32)
    Z, _ = model_forward(X.astype(float), {k: v.astype(float) for k, v in P.items()},
                         hidden="relu", output="linear")
    return X, {k: tf.Variable(v) for k, v in P.items()}, Z


def check_forward_propagation_tf(forward: Callable, layer_dims: list[int], seed: int,
                                 m: int = 7) -> None:
    """``forward(tf.constant(X), parameters)`` returns the logits Z^[L] (n_L, m) of the net
    ``layer_dims`` as a tf.Tensor (``forward`` may be ``tf.function(forward_propagation_tf)``)."""
    import tensorflow as tf

    X, params, want = forward_problem(layer_dims, np.random.default_rng(seed), m)
    ZL = forward(tf.constant(X), params)
    check(isinstance(ZL, tf.Tensor), f"forward_propagation_tf returned a {type(ZL).__name__}: "
          "build it from TensorFlow operations")
    shape = tuple(ZL.shape)
    check(shape == want.shape or len(shape) != 2 or shape[1] != m or shape[0] not in layer_dims,
          f"the logits have shape {shape}, not (n_L, m) = {want.shape}: {shape[0]} rows is the "
          f"size of another layer — run all L = len(parameters) // 2 layers and return the last "
          "one's Z^[L]")
    check(shape == want.shape, f"the logits have shape {shape}, not (n_L, m) "
          f"= {want.shape}: examples are columns, Z = W A + b (tf.matmul(W, A), not A @ W)")
    z = np.asarray(ZL, dtype=float)
    if np.allclose(z, want, atol=1e-4):
        return
    P = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    for hidden in ("sigmoid", "tanh"):
        other, _ = model_forward(X.astype(float), P, hidden=hidden, output="linear")
        check(not np.allclose(z, other, atol=1e-4), f"the hidden layers use {hidden}: this "
              "network uses ReLU (tf.nn.relu) after every layer but the last")
    L = len(layer_dims) - 1
    for last in (True, False):   # no bias in any layer / in the hidden layers only
        no_b = {k: 0 * v if k[0] == "b" and (last or k != f"b{L}") else v for k, v in P.items()}
        check(not np.allclose(z, model_forward(X.astype(float), no_b, hidden="relu",
                                               output="linear")[0], atol=1e-4),
              "a bias is missing: every layer computes Z = W A + b, with its own b^[l]")
    check(not (np.allclose(z.sum(axis=0), 1.0, atol=1e-4) and (z >= 0).all()),
          "forward_propagation_tf returned probabilities (columns sum to 1): return the LOGITS "
          "Z^[L] — the loss applies the softmax itself")
    check(not np.allclose(z, np.maximum(want, 0), atol=1e-4), "the last layer has a ReLU: return "
          "its linear part Z^[L] = W^[L] A^[L-1] + b^[L]")
    fail(f"the logits of a {layer_dims} net are wrong: Z^[l] = W^[l] A^[l-1] + b^[l], ReLU after "
         "every layer but the last, for all L = len(parameters) // 2 layers")


# ---------------------------------------------------------------- compute_total_loss
TOTAL_LOSS_HINTS = {"ValueError": "the labels and the logits must have the same layout: both "
                    "(C, m) with axis=0, or both transposed to (m, C) for Keras's losses",
                    "InvalidArgumentError": "the labels and the logits must have the same layout: "
                    "both (C, m) with axis=0, or both transposed to (m, C) for Keras's losses"}
# one-hot label batches (C, m) for the checks: every class present in the first, one each in the
# second
BATCH_4_CLASSES = np.array([[1.0, 0, 0, 0, 1, 0], [0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 1],
                            [0, 0, 1, 0, 0, 0]])
BATCH_3_CLASSES = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])


def gap_logits(gaps: Any, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits Z (C, m) for one-hot labels Y (C, m) whose column i is 0 everywhere except gaps[i]
    in the row after its label's, and each column's exact loss (m,) in closed form."""
    C, m = Y.shape
    labels = np.argmax(Y, axis=0)
    Z = np.zeros((C, m))
    Z[(labels + 1) % C, np.arange(m)] = gaps
    # the true class has logit 0; one other class has logit g, the C - 2 others 0:
    # -log softmax = log(e^g + C - 1)  (computed stably)
    return Z, np.logaddexp(np.asarray(gaps, dtype=float), np.log(C - 1))


def total_loss_of(compute_total_loss: Callable, Z: np.ndarray, Y: np.ndarray) -> float:
    """Your ``compute_total_loss`` of float32 logits Z (C, m) and labels Y (C, m): one number."""
    import tensorflow as tf

    total = compute_total_loss(tf.constant(Z, dtype=tf.float32), tf.constant(Y, dtype=tf.float32))
    check(isinstance(total, tf.Tensor), f"compute_total_loss returned a {type(total).__name__}: "
          "return the tf.Tensor from tf.reduce_sum")
    check(total.shape.rank == 0, f"compute_total_loss returned shape {tuple(total.shape)}: return "
          "one number, the sum over the examples (tf.reduce_sum)")
    return float(total)


def _diagnose_total_loss(compute_total_loss: Callable, gaps: np.ndarray, Y: np.ndarray,
                         value: float, want: float) -> None:
    """Name the mistake that gives ``value`` instead of ``want``."""
    C, m = Y.shape
    if not np.isfinite(value):
        check(max(abs(gaps)) < 50, f"your loss is {value} for logits that differ by up to "
              f"{max(gaps):g}: the softmax of a very unlikely class underflows to 0 and log(0) = "
              "-inf. Compute the loss from the logits (from_logits=True), not as log(softmax(z))")
        fail(f"your loss is {value} for moderate logits (within ±{max(abs(gaps)):.1f}): compute "
             "the cross-entropy from the logits (from_logits=True), with the classes on the right "
             "axis")
    check(not np.isclose(value, want / m, rtol=1e-5), f"your loss {value:.5f} is the MEAN over the "
          f"{m} examples: compute_total_loss returns the SUM (tf.reduce_sum, not tf.reduce_mean); "
          "the training loop divides by m once per epoch")
    check(not np.isclose(value, want / C, rtol=1e-5), f"your loss {value:.5f} is the expected one "
          f"divided by C = {C}: sum over the classes (a mean over labels * log-probabilities "
          "averages over the C classes too)")
    Z, _ = gap_logits(gaps, Y)
    swapped = -np.sum(Z * (Y - np.logaddexp.reduce(Y, axis=0, keepdims=True)))
    check(not np.isclose(value, swapped, rtol=1e-4), "labels and logits are swapped: "
          "labels=labels, logits=logits")
    if max(abs(gaps)) >= 50:
        small = total_loss_of(compute_total_loss, Z / 40, Y)
        check(not np.isclose(small, gap_logits(gaps / 40, Y)[1].sum(), rtol=1e-5),
              f"your loss is right for moderate logits but {value:.3f} instead of {want:.3f} for "
              f"a gap of {max(abs(gaps)):g} between logits: probabilities computed first (a softmax, "
              "then a loss of probabilities) underflow or are clipped in float32. Compute the loss "
              "from the logits (from_logits=True)")
    # softmax probabilities passed as logits: p_true = 1 / (e^g + C - 1), p_gap = e^g p_true
    p_true = np.exp(-np.logaddexp(gaps, np.log(C - 1)))
    p_gap = np.exp(gaps - np.logaddexp(gaps, np.log(C - 1)))
    twice = np.sum(np.log(np.exp(p_gap) + (C - 1) * np.exp(p_true)) - p_true)
    check(not np.isclose(value, twice, rtol=1e-4), "you applied a softmax to the logits and then "
          "a loss that applies it again: pass the raw logits (probabilities passed as logits)")
    per_class = np.logaddexp(0, Z) - Y * Z           # sigmoid cross-entropy of every class
    check(not any(np.isclose(value, per_class.sum() / d, rtol=1e-4) for d in (1, C)),
          "that is the sigmoid (binary) cross-entropy of each class on its own: the classes "
          "compete through a softmax, so use the categorical cross-entropy from logits")
    one = total_loss_of(compute_total_loss, gap_logits(gaps, Y)[0][:, :1], Y[:, :1])
    check(not (one == 0.0 and value > 0), "the loss of a single example is 0: your softmax ran "
          "across the examples, not the classes. Keras's losses want (m, C), so transpose labels "
          "and logits (or use tf.nn.softmax_cross_entropy_with_logits(..., axis=0))")
    fail(f"compute_total_loss = {value:.5f}, expected {want:.5f}: sum over the examples of the "
         "cross-entropy FROM LOGITS (from_logits=True — without it Keras treats the logits as "
         "probabilities), with the classes on the right axis (transpose for Keras)")


def check_total_loss(compute_total_loss: Callable, gaps: Any, Y: np.ndarray) -> None:
    """The total loss of the logits ``gap_logits(gaps, Y)`` is the sum of the closed forms
    log(e^g + C - 1); else the mistake is named."""
    gaps = np.asarray(gaps, dtype=float)
    Z, per_example = gap_logits(gaps, Y)
    value, want = total_loss_of(compute_total_loss, Z, Y), float(per_example.sum())
    if not np.isclose(value, want, rtol=1e-5):
        _diagnose_total_loss(compute_total_loss, gaps, Y, value, want)


def check_loss_takes_logits(compute_total_loss: Callable, gaps: Any, Y: np.ndarray) -> None:
    """Logits are not probabilities: adding a constant (20) to every logit changes nothing."""
    Z, per_example = gap_logits(gaps, Y)
    check(np.isclose(total_loss_of(compute_total_loss, Z + 20.0, Y), per_example.sum(), rtol=1e-4),
          "adding 20 to every logit changed your loss: the softmax ignores a constant shift, so "
          "your loss does not treat its input as logits (from_logits=True?)")


# ---------------------------------------------------------------- train_step
TRAIN_STEP_HINTS = {
    "ValueError": "no gradient reached the variables: compute the logits AND the loss inside `with "
    "tf.GradientTape() as tape:` from the tf.Variables in parameters themselves (not copies), "
    "then tape.gradient(total_loss, variables) with variables = list(parameters.values()), and "
    "optimizer.apply_gradients(zip(grads, variables))",
    "InvalidArgumentError": "a gradient does not have the shape of the variable it is applied to: "
    "take tape.gradient(total_loss, variables) with respect to the variables themselves and pair "
    "each gradient with its own variable, zip(grads, variables)",
    "AttributeError": "if it names a 'str': optimizer.apply_gradients takes (gradient, "
    "variable) pairs, "
    "zip(grads, list(parameters.values())) — zipping the dict itself pairs the gradients with "
    "its keys (strings)"}
_STEP_LABELS = np.array([[1.0, 0, 0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0, 0, 0],
                         [0, 0, 1, 0, 0, 1, 0, 1]])


def train_step_problem(seed: int, dims: Sequence[int] = (5, 4, 3)) -> tuple:
    """The test's own net (ReLU hidden layers, 3 classes): X (n_x, 8), one-hot Y (3, 8) and the
    parameters P (float64 arrays holding exactly what float32 variables hold)."""
    r = np.random.default_rng(seed)
    P = {k: v.astype(np.float32).astype(float)
         for k, v in random_parameters(list(dims), r, scale=0.5).items()}
    X = r.standard_normal((dims[0], 8))
    Y = r.permutation(_STEP_LABELS.T).T        # shuffled columns of a fixed one-hot batch
    return X, Y, P


def tf_variables(P: Params) -> dict:
    """The parameters P as float32 tf.Variables (new ones on each call)."""
    import tensorflow as tf

    return {k: tf.Variable(np.asarray(v, dtype=np.float32)) for k, v in P.items()}


def batch_loss(forward: Callable, compute_total_loss: Callable, X: np.ndarray, Y: np.ndarray,
               P: Params) -> float:
    """The batch's total loss at parameters P, with your forward_propagation_tf and
    compute_total_loss (which train_step calls)."""
    import tensorflow as tf

    logits = forward(tf.constant(X, dtype=tf.float32), tf_variables(P))
    return float(compute_total_loss(logits, tf.constant(Y, dtype=tf.float32)))


def check_train_step_prerequisites(forward: Callable, compute_total_loss: Callable,
                                   X: np.ndarray, P: Params) -> None:
    """train_step calls forward_propagation_tf and compute_total_loss: when one of them is
    wrong, say so (fix it first) instead of blaming train_step."""
    import tensorflow as tf

    logits = np.asarray(forward(tf.constant(X, dtype=tf.float32), tf_variables(P)), dtype=float)
    want, _ = model_forward(X, P, hidden="relu", output="linear")
    prerequisite("forward_propagation_tf", logits.shape == want.shape and
                 np.allclose(logits, want, atol=1e-4), "train_step", "does not give the right logits")
    Z, per_example = gap_logits([3.0, 2.0], BATCH_3_CLASSES[:, :2])
    got = float(compute_total_loss(tf.constant(Z, dtype=tf.float32),
                                   tf.constant(BATCH_3_CLASSES[:, :2], dtype=tf.float32)))
    prerequisite("compute_total_loss", np.isclose(got, per_example.sum(), rtol=1e-5), "train_step",
                 "does not give the total loss")


def _check_returned_loss(loss: Any, before: float, after: float, m: int) -> None:
    """``loss`` (a scalar) should be the batch's total loss ``before`` the update."""
    if np.isclose(float(loss), before, rtol=1e-4):
        return
    check(not np.isclose(float(loss), before / m, rtol=1e-4), "train_step returned the MEAN loss "
          "of the batch: return the TOTAL loss from compute_total_loss (don't divide by m)")
    check(not np.isclose(float(loss), after, rtol=1e-4), "train_step returned the loss after the "
          "update: return the loss computed before the update, inside the tape")
    fail(f"train_step returned {float(loss):.5f} but the batch's total loss before the update is "
         f"{before:.5f}: return compute_total_loss(forward_propagation_tf(X, parameters), Y) "
         "computed inside the tape")


def _check_uses_optimizer(train_step: Callable, X: np.ndarray, Y: np.ndarray, P: Params,
                          after: Params, learning_rate: float) -> None:
    """The same step with an SGD of twice the learning rate moves every variable twice as far;
    a step that ignores the optimizer argument (its own update, another optimizer) does not.
    (Judged from the variables alone: in the grader the optimizer object itself is a copy.)"""
    import tensorflow as tf

    variables = tf_variables(P)
    train_step(tf.constant(X, dtype=tf.float32), tf.constant(Y, dtype=tf.float32), variables,
               tf.keras.optimizers.SGD(learning_rate=2 * learning_rate))
    ratios = [np.sum((np.asarray(variables[k], dtype=float) - P[k]) * (after[k] - P[k]))
              / max(np.sum((after[k] - P[k]) ** 2), 1e-300) for k in P]
    check(not np.allclose(ratios, 1.0, rtol=0.05), "train_step moved the parameters just as far "
          f"with an SGD optimizer of learning rate {2 * learning_rate:g} as with one of "
          f"{learning_rate:g}: it ignores the optimizer it is given. Update the variables with that "
          "optimizer, optimizer.apply_gradients(zip(grads, variables)) — not by hand or with an "
          "optimizer of your own")


def check_train_step(train_step: Callable, forward: Callable, compute_total_loss: Callable,
                     seed: int, learning_rate: float = 1e-3, dims: Sequence[int] = (5, 4, 3)) -> None:
    """One ``train_step(X, Y, variables, SGD(learning_rate))`` on the test's own net (after
    checking the two exercises it calls): it returns the batch's total loss before the update,
    and moves every variable by -learning_rate times the gradient of that total loss.
    ``train_step`` may be ``tf.function(train_step)``."""
    import tensorflow as tf

    X, Y, P = train_step_problem(seed, dims)
    check_train_step_prerequisites(forward, compute_total_loss, X, P)
    variables = tf_variables(P)
    loss = train_step(tf.constant(X, dtype=tf.float32), tf.constant(Y, dtype=tf.float32),
                      variables, tf.keras.optimizers.SGD(learning_rate=learning_rate))
    check(loss is not None,
          "train_step must return the batch's total loss (a scalar tensor): `return total_loss`")
    check(isinstance(loss, tf.Tensor), f"train_step returned a {type(loss).__name__}, not a "
          "tensor: return the scalar tensor compute_total_loss gives, as it is, and nothing else "
          "(no float(), no .numpy(): those leave TensorFlow, and the caller converts it when it "
          "needs a number)")
    check(np.ndim(loss) == 0, f"train_step returned a tensor of shape {tuple(loss.shape)}: return "
          "the batch's total loss, one number")
    after = {k: np.asarray(v, dtype=float) for k, v in variables.items()}
    check(not all(np.allclose(after[k], P[k], rtol=0, atol=1e-9) for k in P),
          "the parameters did not change: call optimizer.apply_gradients(zip(grads, variables)) "
          "on the tf.Variables of the parameters argument themselves (not on copies)")
    _check_uses_optimizer(train_step, X, Y, P, after, learning_rate)
    before, m = batch_loss(forward, compute_total_loss, X, Y, P), X.shape[1]
    _check_returned_loss(loss, before, batch_loss(forward, compute_total_loss, X, Y, after), m)
    # SGD moves each variable by -lr * (its gradient), so a small step along it lowers the loss
    # by about |step|^2 / lr (first order)
    for k in P:
        step = after[k] - P[k]
        check(np.any(step != 0), f"{k} did not change: apply the gradients of every variable, "
              "list(parameters.values())")
        drop = before - batch_loss(forward, compute_total_loss, X, Y, {**P, k: after[k]})
        ratio = drop / (np.sum(step**2) / learning_rate)
        check(ratio > 0, f"{k} moved UP the gradient (the loss grew): apply_gradients subtracts; "
              "pass the gradients themselves")
        check(not np.isclose(ratio, m, rtol=0.1), f"{k} moved {m} times less than the gradient of "
              "the TOTAL loss asks: take tape.gradient of the total loss (not the mean)")
        check(abs(ratio - 1) < 0.1, f"{k} did not move by -learning_rate times the gradient of the "
              "batch's total loss: take tape.gradient of the TOTAL loss with respect to every "
              "variable, list(parameters.values()), and apply exactly those gradients")
