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

from collections.abc import Sequence

import numpy as np

from helpers.validate import check_array, check_parameters

# A probability is clipped to [EPS, 1 - EPS] before its log is taken, so that a saturated
# output costs a large finite amount instead of inf.
EPS = 1e-12


# ---------------------------------------------------------------- linear part
def linear_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray):
    """Z = W A_prev + b.  A_prev (n_prev, m), W (n, n_prev), b (n, 1) -> Z (n, m), cache."""
    Z = W @ A_prev
    Z += b  # in place: one (n, m) array instead of two
    return Z, (A_prev, W)


def linear_backward(dZ: np.ndarray, cache, *, input_grad: bool = True):
    """Gradients of the mean cost: dW = dZ A_prev^T / m, db = sum(dZ) / m, dA_prev = W^T dZ.

    With input_grad=False, dA_prev is not computed (None): the first layer never needs it."""
    A_prev, W = cache
    m = A_prev.shape[1]
    dW = (dZ @ A_prev.T) / m
    db = dZ.sum(axis=1, keepdims=True) / m
    return (W.T @ dZ if input_grad else None), dW, db


# ---------------------------------------------------------------- activations
def relu_forward(Z: np.ndarray):
    """A = max(0, Z); the cache is Z."""
    return np.maximum(Z, 0.0), Z


def relu_backward(dA: np.ndarray, cache) -> np.ndarray:
    """dZ = dA where Z > 0, else 0."""
    return np.multiply(dA, cache > 0)


def sigmoid_forward(Z: np.ndarray):
    """A = 1 / (1 + e^{-Z}); for very negative Z, e^{-Z} overflows to inf and A is exactly 0
    (the overflow is expected and silenced). The cache is A."""
    with np.errstate(over="ignore"):
        A = 1.0 / (1.0 + np.exp(-Z))
    return A, A


def sigmoid_backward(dA: np.ndarray, cache) -> np.ndarray:
    """dZ = dA * A (1 - A)."""
    A = cache
    return dA * A * (1.0 - A)


def tanh_forward(Z: np.ndarray):
    """A = tanh(Z); the cache is A."""
    A = np.tanh(Z)
    return A, A


def tanh_backward(dA: np.ndarray, cache) -> np.ndarray:
    """dZ = dA * (1 - A^2)."""
    return dA * (1.0 - cache**2)


def softmax_forward(Z: np.ndarray):
    """Column-wise softmax over the C rows of Z (C, m), shifted by the column max; cache is A."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    A = E / E.sum(axis=0, keepdims=True)
    return A, A


def softmax_backward(dA: np.ndarray, cache) -> np.ndarray:
    """Jacobian-vector product of the softmax: dZ = A * (dA - sum_c dA_c A_c)."""
    A = cache
    return A * (dA - (dA * A).sum(axis=0, keepdims=True))


def identity_forward(Z: np.ndarray):
    """No activation (a purely linear layer); the cache is None."""
    return Z, None


def identity_backward(dA: np.ndarray, cache) -> np.ndarray:
    return dA


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "softmax": (softmax_forward, softmax_backward),
    "linear": (identity_forward, identity_backward),
}


def _activation(name: str):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation={name!r} is not known; use one of {sorted(ACTIVATIONS)}"
        ) from None


# ---------------------------------------------------------------- one layer
def layer_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str):
    """A = g(W A_prev + b). Returns (A, cache) with cache = (linear cache, activation cache)."""
    fwd, _ = _activation(activation)
    Z, lin_cache = linear_forward(A_prev, W, b)
    A, act_cache = fwd(Z)
    return A, (lin_cache, act_cache, activation)


def layer_backward(dA: np.ndarray, cache):
    """Backward through one layer: returns (dA_prev, dW, db)."""
    lin_cache, act_cache, activation = cache
    _, bwd = _activation(activation)
    return linear_backward(bwd(dA, act_cache), lin_cache)


# ---------------------------------------------------------------- the whole network
def num_layers(parameters: dict) -> int:
    """L, the number of layers with weights, read off the parameter dict."""
    return sum(1 for k in parameters if k.startswith("W"))


def model_forward(
    X: np.ndarray, parameters: dict, hidden: str = "relu", output: str = "sigmoid"
):
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


def model_backward(AL: np.ndarray, Y: np.ndarray, cache) -> dict:
    """Gradients of the mean cross-entropy cost for the net whose forward pass made ``cache``.

    The output layer is taken together with the cost (sigmoid + binary cross-entropy, or
    softmax + categorical cross-entropy), where dZ^{[L]} = A^{[L]} - Y: exact and stable even
    when AL saturates. Returns {"dW1", "db1", ..., "dWL", "dbL"}.
    """
    L = len(cache)
    lin_cache, _, output = cache[-1]
    if output not in ("sigmoid", "softmax"):
        raise ValueError(
            f"model_backward pairs the cross-entropy cost with a sigmoid or softmax output, "
            f"got output={output!r}; use layer_backward for other losses"
        )
    grads = {}
    dZ, dA = AL - Y, None
    for l in range(L, 0, -1):
        if l < L:
            lin_cache, act_cache, activation = cache[l - 1]
            dZ = _activation(activation)[1](dA, act_cache)
        # dA^{[0]}, the gradient for the input X, is never needed.
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, lin_cache, input_grad=l > 1)
    return grads


# ---------------------------------------------------------------- costs
def binary_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = -(1/m) sum(Y log AL + (1 - Y) log(1 - AL)); AL clipped to [EPS, 1 - EPS]."""
    AL = check_array(AL, "AL", ndim=2, finite=False)
    Y = check_array(Y, "Y", shape=AL.shape)
    return _binary_cross_entropy(AL, Y)


def _binary_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    P = np.clip(AL, EPS, 1.0 - EPS)
    return float(-(Y * np.log(P) + (1.0 - Y) * np.log(1.0 - P)).sum() / Y.shape[1])


def _categorical_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    return float(-(Y * np.log(np.maximum(AL, EPS))).sum() / Y.shape[1])


def categorical_cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    """J = -(1/m) sum_i sum_c Y_ci log AL_ci for one-hot Y (C, m); AL clipped below at EPS."""
    AL = check_array(AL, "AL", ndim=2, finite=False)
    Y = check_array(Y, "Y", shape=AL.shape)
    return _categorical_cross_entropy(AL, Y)


def cross_entropy(AL: np.ndarray, Y: np.ndarray) -> float:
    """Binary cross-entropy for one output row, categorical for several."""
    return binary_cross_entropy(AL, Y) if np.shape(AL)[0] == 1 else categorical_cross_entropy(AL, Y)


def binary_cross_entropy_from_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    """Same cost as binary_cross_entropy(sigmoid(Z), Y) but exact for any Z:
    mean of max(Z, 0) - Z Y + log(1 + e^{-|Z|})."""
    Z = check_array(Z, "Z", ndim=2)
    Y = check_array(Y, "Y", shape=Z.shape)
    return float((np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))).sum() / Z.shape[1])


# ---------------------------------------------------------------- predictions
def predict(
    X: np.ndarray, parameters: dict, hidden: str = "relu", output: str = "sigmoid"
) -> np.ndarray:
    """Labels for X: 0/1 of shape (1, m) for a sigmoid output (threshold 0.5), class
    indices of shape (1, m) for a softmax output."""
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
