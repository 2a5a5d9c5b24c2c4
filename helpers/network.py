"""An L-layer fully connected network in the course's conventions.

* Examples are columns: ``X`` has shape ``(n_x, m)``.
* Parameters live in a dict ``{"W1": (n1, n_x), "b1": (n1, 1), "W2": ...}``.
* Gradients live in a dict keyed the same way with a ``d``: ``{"dW1": ..., "db1": ...}``.
* Every piece follows one pattern: ``forward(...) -> (output, cache)`` and
  ``backward(d_output, cache) -> gradient(s)``.
* The cost is the mean over the ``m`` examples, so the ``1/m`` appears in ``linear_backward``
  (``dW = dZ A_prev^T / m``), exactly as in the lectures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from helpers.validate import check_array, check_parameters, num_layers

# A probability is clipped to [EPS, 1 - EPS] before its log is taken, so that a saturated
# output costs a large finite amount instead of inf.
EPS = 1e-12


# ---------------------------------------------------------------- linear part
def linear_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Z = W A_prev + b.  A_prev (n_prev, m), W (n, n_prev), b (n, 1) -> Z (n, m), cache."""
    if np.ndim(A_prev) != 2 or np.ndim(W) != 2 or W.shape[1] != A_prev.shape[0]:
        raise ValueError(f"W has shape {np.shape(W)} and A_prev {np.shape(A_prev)}, but W must be "
                         f"(n, n_prev) for A_prev (n_prev, m): W's columns match A_prev's rows")
    if np.shape(b) != (W.shape[0], 1):
        raise ValueError(f"b has shape {np.shape(b)} but must be ({W.shape[0]}, 1), one row per "
                         "unit of W")
    Z = W @ A_prev
    Z += b  # in place: one (n, m) array instead of two
    return Z, (A_prev, W)


def linear_backward(dZ: np.ndarray, cache: tuple, *, input_grad: bool = True,
                    divide_by_m: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of the mean cost: dW = dZ A_prev^T / m, db = sum(dZ) / m, dA_prev = W^T dZ.

    dZ (n, m) -> (dA_prev (n_prev, m), dW (n, n_prev), db (n, 1)). With input_grad=False,
    dA_prev is not computed (None): the first layer never needs it. With divide_by_m=False, dZ
    already is the gradient of the mean cost (it holds the 1/m): dW = dZ A_prev^T, db = sum(dZ).
    """
    A_prev, W = cache
    if np.shape(dZ) != (W.shape[0], A_prev.shape[1]):
        raise ValueError(f"dZ has shape {np.shape(dZ)} but must be {(W.shape[0], A_prev.shape[1])}, "
                         "the shape of this layer's Z (n, m)")
    if divide_by_m:
        m = A_prev.shape[1]
        dW = (dZ @ A_prev.T) / m
        db = dZ.sum(axis=1, keepdims=True) / m
    else:
        dW = dZ @ A_prev.T
        db = dZ.sum(axis=1, keepdims=True)
    return (W.T @ dZ if input_grad else None), dW, db


# ---------------------------------------------------------------- activations
def relu_forward(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A = max(0, Z); the cache is Z."""
    return np.maximum(Z, 0.0), Z


def relu_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ = dA where Z > 0, else 0."""
    return np.multiply(dA, cache > 0)


def sigmoid_forward(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A = 1 / (1 + e^{-Z}); for very negative Z, e^{-Z} overflows to inf and A is exactly 0
    (the overflow is expected and silenced). The cache is A."""
    with np.errstate(over="ignore"):
        A = 1.0 / (1.0 + np.exp(-Z))
    return A, A


def sigmoid_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ = dA * A (1 - A)."""
    A = cache
    return dA * A * (1.0 - A)


def tanh_forward(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A = tanh(Z); the cache is A."""
    A = np.tanh(Z)
    return A, A


def tanh_backward(dA: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dZ = dA * (1 - A^2)."""
    return dA * (1.0 - cache**2)


def identity_forward(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """No activation (a purely linear layer); the cache is None."""
    return Z, None


def identity_backward(dA: np.ndarray, cache: None) -> np.ndarray:
    """dZ = dA."""
    return dA


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "linear": (identity_forward, identity_backward),
}


def _activation(name: str) -> tuple[Callable, Callable]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation={name!r} is not known; use one of {sorted(ACTIVATIONS)}"
        ) from None


# ---------------------------------------------------------------- one layer
def layer_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray,
                  activation: str) -> tuple[np.ndarray, tuple]:
    """A = g(W A_prev + b). Returns (A, cache) with cache = (linear cache, activation cache)."""
    fwd, _ = _activation(activation)
    Z, lin_cache = linear_forward(A_prev, W, b)
    A, act_cache = fwd(Z)
    return A, (lin_cache, act_cache, activation)


def layer_backward(dA: np.ndarray, cache: tuple) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Backward through one layer: returns (dA_prev, dW, db)."""
    lin_cache, act_cache, activation = cache
    _, bwd = _activation(activation)
    return linear_backward(bwd(dA, act_cache), lin_cache)


# ---------------------------------------------------------------- the whole network
def model_forward(
    X: np.ndarray, parameters: dict, hidden: str = "relu", output: str = "sigmoid"
) -> tuple[np.ndarray, list]:
    """Forward pass of an L-layer net: hidden layers use ``hidden``, the last uses ``output``.

    X (n_x, m) -> (AL, cache); AL has shape (n_L, m). The cache holds one entry per layer.
    """
    L = num_layers(parameters)
    A = X
    caches = []
    for l in range(1, L + 1):
        A, c = layer_forward(
            A, parameters[f"W{l}"], parameters[f"b{l}"], hidden if l < L else output
        )
        caches.append(c)
    return A, caches


def backward_from_output(dZ: np.ndarray, cache: list, *, divide_by_m: bool = True) -> dict:
    """Backpropagate dZ^{[L]} = dJ/dZ^{[L]} of the output layer through the whole net.

    ``cache`` is what model_forward returned (one entry per layer); dZ has the output layer's
    shape (n_L, m). With divide_by_m=True (the lectures' convention) dZ holds one column per
    example and every dW, db takes the 1/m of the mean cost; with divide_by_m=False dZ already is
    the gradient of the mean cost. Returns {"dW1", "db1", ..., "dWL", "dbL"}.
    """
    L = len(cache)
    (A_prev, W), _, _ = cache[-1]
    want = (W.shape[0], A_prev.shape[1])
    if np.shape(dZ) != want:
        raise ValueError(f"dZ has shape {np.shape(dZ)} but must have the output layer's shape "
                         f"{want} (n^[L], m): one row per output unit, one column per example")
    grads, dA = {}, None
    for l in range(L, 0, -1):
        lin_cache, act_cache, activation = cache[l - 1]
        if l < L:
            dZ = _activation(activation)[1](dA, act_cache)
        # dA^{[0]}, the gradient for the input X, is never needed.
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(
            dZ, lin_cache, input_grad=l > 1, divide_by_m=divide_by_m)
    return grads


def model_backward(AL: np.ndarray, Y: np.ndarray, cache: list) -> dict:
    """Gradients of the mean binary cross-entropy for the net whose forward pass made ``cache``.

    The sigmoid output layer is taken together with the cost, where dZ^{[L]} = A^{[L]} - Y:
    exact and stable even when AL saturates. AL, Y (1, m). Returns {"dW1", "db1", ..., "dbL"}.
    """
    output = cache[-1][2]
    if output != "sigmoid":
        raise ValueError(
            f"model_backward pairs the binary cross-entropy with a sigmoid output, got "
            f"output={output!r}; for another cost, compute dZ of the output layer yourself and "
            "call backward_from_output(dZ, cache)"
        )
    if np.shape(AL) != np.shape(Y):
        raise ValueError(f"Y has shape {np.shape(Y)} but must have AL's shape {np.shape(AL)}")
    return backward_from_output(AL - Y, cache)


# ---------------------------------------------------------------- costs
def binary_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = -(1/m) sum(Y log AL + (1 - Y) log(1 - AL)) for AL, Y (1, m); AL clipped to
    [EPS, 1 - EPS]."""
    AL = check_array(AL, "AL", ndim=2, finite=False)
    Y = check_array(Y, "Y", shape=AL.shape)
    P = np.clip(AL, EPS, 1.0 - EPS)
    return float(-(Y * np.log(P) + (1.0 - Y) * np.log(1.0 - P)).sum() / Y.shape[1])


# ---------------------------------------------------------------- predictions
def predict(
    X: np.ndarray, parameters: dict, hidden: str = "relu", output: str = "sigmoid"
) -> np.ndarray:
    """Labels for X (n_x, m): 0/1 of shape (1, m) for one sigmoid output (threshold 0.5); for
    several outputs, the index of the largest one, of shape (1, m)."""
    X = check_array(X, "X", ndim=2)
    check_parameters(parameters, n_x=X.shape[0])
    AL, _ = model_forward(X, parameters, hidden, output)
    if AL.shape[0] == 1:
        return (AL > 0.5).astype(int)
    return AL.argmax(axis=0)[None, :]


def accuracy(predictions: np.ndarray, Y: np.ndarray) -> float:
    """Fraction of examples whose prediction equals the label (labels (1, m), or one-hot)."""
    predictions = np.asarray(predictions)
    Y = np.asarray(Y)
    if Y.ndim == 2 and Y.shape[0] > 1:
        Y = Y.argmax(axis=0)[None, :]
    if predictions.size != Y.size:
        raise ValueError(
            f"predictions has {predictions.size} entries but Y has {Y.size}: "
            "they must describe the same examples"
        )
    return float((predictions.reshape(-1) == Y.reshape(-1)).mean())


def glorot_uniform(layers_dims: Sequence[int], rng: np.random.Generator) -> dict:
    """A sensible default initialization for the machinery (not one of the graded ones):
    W^{[l]} ~ U(-r, r) with r = sqrt(6 / (n^{[l-1]} + n^{[l]})), b^{[l]} = 0."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    params = {}
    for l in range(1, len(layers_dims)):
        n_in, n_out = layers_dims[l - 1], layers_dims[l]
        r = np.sqrt(6.0 / (n_in + n_out))
        params[f"W{l}"] = rng.uniform(-r, r, size=(n_out, n_in))
        params[f"b{l}"] = np.zeros((n_out, 1))
    return params
