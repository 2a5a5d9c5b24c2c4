"""A deep ReLU network whose hidden layers can batch-normalize Z with functions passed in.

Notebook 08's machinery. The batch-norm pieces themselves are the learner's exercises and are
always *passed in* (nothing here normalizes, scales or averages statistics):

=================  =====================================================================
passed in          called as
=================  =====================================================================
bn_forward         ``bn_forward(Z, gamma, beta, epsilon) -> (Z_tilde, cache)``; ``cache`` is a
                   dict holding at least ``"mu"`` and ``"var"``, the batch statistics (n, 1)
bn_backward        ``bn_backward(dZ_tilde, cache) -> (dZ, dgamma, dbeta)``
bn_inference       ``bn_inference(Z, gamma, beta, running_mean, running_var, epsilon)``
update_running     ``update_running(running_mean, running_var, mu, var, momentum)
                   -> (running_mean, running_var)``
=================  =====================================================================

Conventions (the course's): examples are columns, ``X`` (n_x, m). Parameters of hidden layer
l = 1 … L-1: ``W{l}`` (n_l, n_{l-1}) and, with batch norm, ``gamma{l}``, ``beta{l}`` (n_l, 1) and
no bias (β takes its place), without batch norm ``b{l}`` (n_l, 1). The output layer L has
``W{L}``, ``b{L}`` and one sigmoid unit (a yes/no question). Running statistics
live in ``{"mean{l}": (n_l, 1), "var{l}": (n_l, 1)}``. Gradients are keyed ``d`` + the
parameter's name. The cost is the mean cross-entropy over the m examples.

The optimizer state is explicit: a step is ``step(params, grads, state) -> (params, state)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from helpers.network import (
    binary_cross_entropy,
    glorot_uniform,
    linear_backward,
    num_layers,
    relu_backward,
    relu_forward,
    sigmoid_forward,
)
from helpers.training import bind_update, divergence, exercise_not_done, one_blas_thread


# ---------------------------------------------------------------- parameters
def init_parameters(layers_dims: Sequence[int], rng: np.random.Generator, *,
                    batchnorm: bool = True) -> dict:
    """Glorot-uniform weights (helpers.network.glorot_uniform). With batch norm, each hidden
    layer gets gamma = 1 and beta = 0 (n_l, 1) instead of its bias; the output keeps its bias."""
    params = glorot_uniform(layers_dims, rng)
    if batchnorm:
        for l in range(1, len(layers_dims) - 1):
            n = layers_dims[l]
            del params[f"b{l}"]
            params[f"gamma{l}"] = np.ones((n, 1))
            params[f"beta{l}"] = np.zeros((n, 1))
    return params


def init_running_stats(parameters: dict) -> dict:
    """Running mean 0 and running variance 1 for every batch-normalized layer (as Keras)."""
    running = {}
    for l in bn_layers(parameters):
        n = np.shape(parameters[f"gamma{l}"])[0]
        running[f"mean{l}"] = np.zeros((n, 1))
        running[f"var{l}"] = np.ones((n, 1))
    return running


def bn_layers(parameters: dict) -> list[int]:
    """The hidden layers l that are batch-normalized (those with a gamma{l})."""
    return [l for l in range(1, num_layers(parameters)) if f"gamma{l}" in parameters]


def check_bn_parameters(parameters: dict, n_x: int) -> int:
    """Check the parameter dict's keys and shapes (a message names what is wrong); return L."""
    if not isinstance(parameters, dict):
        raise TypeError(f"parameters must be a dict, got {type(parameters).__name__}")
    L = num_layers(parameters)
    if L < 1:
        raise ValueError(f"parameters has no weights W1, W2, ...: keys {sorted(parameters)}")
    prev = n_x
    for l in range(1, L + 1):
        W = np.shape(parameters.get(f"W{l}"))
        if len(W) != 2 or W[1] != prev:
            raise ValueError(f"parameters['W{l}'] has shape {W} but must be (n_{l}, {prev})")
        names = ("gamma", "beta") if f"gamma{l}" in parameters and l < L else ("b",)
        for name in names:
            got = np.shape(parameters.get(f"{name}{l}"))
            if got != (W[0], 1):
                raise ValueError(f"parameters['{name}{l}'] has shape {got} but must be "
                                 f"({W[0]}, 1)")
        prev = W[0]
    return L


# ---------------------------------------------------------------- forward and backward
@dataclass
class LayerCache:
    """What one hidden layer's forward pass keeps for its backward pass."""

    A_prev: np.ndarray
    W: np.ndarray
    Z: np.ndarray          # W A_prev (+ b without batch norm)
    Z_in: np.ndarray       # the activation's input: Z_tilde with batch norm, else Z
    bn_cache: object = None  # the learner's cache, from bn_forward (None otherwise)


def _bn_stats(bn_cache, l: int) -> tuple[np.ndarray, np.ndarray]:
    """(mu, var) of layer l, read from the learner's batch-norm cache."""
    try:
        return bn_cache["mu"], bn_cache["var"]
    except (TypeError, KeyError, IndexError):
        raise ValueError(
            f"the cache that batchnorm_forward returned for layer {l} has no 'mu' and 'var' "
            "entries: return cache as a dict with the batch mean and variance under "
            "'mu' and 'var' (as its docstring says)") from None


def forward(X: np.ndarray, parameters: dict, *, bn_forward: Callable | None = None,
            bn_inference: Callable | None = None, running: dict | None = None,
            epsilon: float = 1e-5, stats: str = "batch", upto: int | None = None):
    """Forward pass. Hidden layers: Z = W A_prev (+ b), then, if batch-normalized, Z_tilde from
    ``bn_forward`` (``stats="batch"``: the batch's own statistics) or from ``bn_inference``
    with ``running`` (``stats="running"``); A = ReLU. Output: one sigmoid unit.

    Returns (AL, caches): AL (n_L, m) and one LayerCache per hidden layer, then the output
    layer's (A_prev, W). With ``upto=l``, stop after hidden layer l: (A^{[l]}, its l caches)."""
    if stats not in ("batch", "running"):
        raise ValueError(f"stats must be 'batch' or 'running', got {stats!r}")
    L = num_layers(parameters)
    A, caches = X, []
    for l in range(1, L):
        W = parameters[f"W{l}"]
        Z = W @ A
        bn_cache = None
        if f"gamma{l}" in parameters:
            gamma, beta = parameters[f"gamma{l}"], parameters[f"beta{l}"]
            if stats == "batch":
                Z_in, bn_cache = bn_forward(Z, gamma, beta, epsilon)
            else:
                Z_in = bn_inference(Z, gamma, beta, running[f"mean{l}"], running[f"var{l}"],
                                    epsilon)
        else:
            Z = Z + parameters[f"b{l}"]
            Z_in = Z
        caches.append(LayerCache(A, W, Z, Z_in, bn_cache))
        A, _ = relu_forward(Z_in)
        if upto == l:
            return A, caches
    if np.shape(parameters[f"W{L}"])[0] != 1:
        raise ValueError(f"parameters['W{L}'] has shape {np.shape(parameters[f'W{L}'])}: this "
                         "net has one sigmoid output unit, so it must be (1, n_{L-1})")
    AL, _ = sigmoid_forward(parameters[f"W{L}"] @ A + parameters[f"b{L}"])
    caches.append((A, parameters[f"W{L}"]))
    return AL, caches


def backward(AL: np.ndarray, Y: np.ndarray, caches: list, *,
             bn_backward: Callable | None = None) -> dict:
    """Gradients of the mean binary cross-entropy J for the forward pass that made ``caches``.

    The course's dZ is the gradient of m·J (``linear_backward`` divides by m), so dZ_tilde goes
    into ``bn_backward`` as it is and the dgamma, dbeta that come back are divided by m."""
    L = len(caches)
    m = AL.shape[1]
    grads = {}
    dZ = AL - Y  # the sigmoid output together with the cross-entropy
    dA, grads[f"dW{L}"], grads[f"db{L}"] = linear_backward(dZ, caches[-1])
    for l in range(L - 1, 0, -1):
        c = caches[l - 1]
        dZ_in = relu_backward(dA, c.Z_in)
        if c.bn_cache is not None:
            dZ, dgamma, dbeta = bn_backward(dZ_in, c.bn_cache)
            grads[f"dgamma{l}"], grads[f"dbeta{l}"] = dgamma / m, dbeta / m
        else:
            dZ = dZ_in
        dA, grads[f"dW{l}"], db = linear_backward(dZ, (c.A_prev, c.W), input_grad=l > 1)
        if c.bn_cache is None:
            grads[f"db{l}"] = db
    return grads


def cost(AL: np.ndarray, Y: np.ndarray) -> float:
    """The mean binary cross-entropy (helpers.network.binary_cross_entropy)."""
    return binary_cross_entropy(AL, Y)


def accuracy(AL: np.ndarray, Y: np.ndarray) -> float:
    """Share of examples whose prediction (AL > 0.5) matches the 0/1 label."""
    return float(np.mean((AL > 0.5) == (Y > 0.5)))


def evaluate(X: np.ndarray, Y: np.ndarray, parameters: dict, *, stats: str = "running",
             batch_size: int | None = None, bn_forward: Callable | None = None,
             bn_inference: Callable | None = None, running: dict | None = None,
             epsilon: float = 1e-5) -> float:
    """Accuracy on X, Y. With ``stats="batch"`` the examples are fed in consecutive batches of
    ``batch_size`` (all at once if None), each normalized with its own statistics, as if batch
    norm stayed in training mode at test time; ``stats="running"`` uses the running averages."""
    m = X.shape[1]
    size = m if batch_size is None else int(batch_size)
    correct = 0.0
    for start in range(0, m, size):
        Xb, Yb = X[:, start:start + size], Y[:, start:start + size]
        with np.errstate(all="ignore"):
            AL, _ = forward(Xb, parameters, bn_forward=bn_forward, bn_inference=bn_inference,
                            running=running, epsilon=epsilon, stats=stats)
        correct += accuracy(AL, Yb) * Xb.shape[1]
    return correct / m


# ---------------------------------------------------------------- training
#: the quantiles of each layer's activation input recorded by ``train`` (about ±2σ, ±1σ, median)
QUANTILES = (0.02, 0.16, 0.5, 0.84, 0.98)


@dataclass
class Run:
    """What one training run produced.

    costs         the mini-batch cost of every step (until a divergence)
    status        "finished" or "diverged"; message says what happened
    parameters    the final parameters; running: the final running statistics
    snapshots     [(step, [(n_l quantiles of Z_in^{[l]}, n_l quantiles of Z^{[l]}) per hidden
                  layer])] on the probe batch, every ``snapshot_every`` steps
    batch_stats   [[(mu, var) per batch-normalized layer] per step] (with keep_batch_stats)
    checkpoints   [(step, parameters)] every ``checkpoint_every`` steps and at the end
    """

    costs: list[float] = field(default_factory=list)
    status: str = "finished"
    message: str = ""
    parameters: dict = field(default_factory=dict)
    running: dict = field(default_factory=dict)
    snapshots: list = field(default_factory=list)
    batch_stats: list = field(default_factory=list)
    checkpoints: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"


def _quantiles(caches: list) -> list[tuple[np.ndarray, np.ndarray]]:
    q = np.asarray(QUANTILES)
    return [(np.quantile(c.Z_in, q), np.quantile(c.Z, q)) for c in caches[:-1]]


def _update_running(update: Callable, running: dict, caches: list, momentum: float) -> list:
    """Pass each batch-normalized layer's batch statistics to the learner's update."""
    stats = []
    for l, c in enumerate(caches[:-1], start=1):
        if c.bn_cache is None:
            continue
        mu, var = _bn_stats(c.bn_cache, l)
        stats.append((np.array(mu, dtype=float), np.array(var, dtype=float)))
        out = update(running[f"mean{l}"], running[f"var{l}"], mu, var, momentum)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError("update_running_stats must return (running_mean, running_var)")
        running[f"mean{l}"], running[f"var{l}"] = out
    return stats


def _check_train_args(X, Y, layers_dims, rng, batchnorm, fns) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if np.ndim(X) != 2 or np.shape(X)[0] != layers_dims[0]:
        raise ValueError(f"X has shape {np.shape(X)} but must be ({layers_dims[0]}, m)")
    if np.shape(Y) != (layers_dims[-1], np.shape(X)[1]):
        raise ValueError(f"Y has shape {np.shape(Y)} but must be "
                         f"({layers_dims[-1]}, {np.shape(X)[1]})")
    if batchnorm and any(f is None for f in fns.values()):
        missing = [n for n, f in fns.items() if f is None]
        raise ValueError(f"batchnorm=True needs {missing} as well")


def train(X: np.ndarray, Y: np.ndarray, layers_dims: Sequence[int], *,
          rng: np.random.Generator, learning_rate: float, num_steps: int,
          batch_size: int = 64, batchnorm: bool = True, bn_forward: Callable | None = None,
          bn_backward: Callable | None = None, update_running_stats: Callable | None = None,
          momentum: float = 0.9, epsilon: float = 1e-5, step: Callable | None = None,
          state: dict | None = None, snapshot_every: int | None = None,
          probe: np.ndarray | None = None, keep_batch_stats: bool = False,
          checkpoint_every: int | None = None) -> Run:
    """Train the net for ``num_steps`` steps, each on ``batch_size`` examples drawn at random
    (without replacement) from X (n_x, m), Y (n_y, m), with the learner's batch-norm functions.

    After each forward pass the running statistics go through ``update_running_stats`` with
    ``momentum``. ``step(params, grads, state) -> (params, state)`` is the optimizer (default:
    gradient descent with ``learning_rate``). ``probe`` (n_x, k): examples whose per-layer
    quantiles of Z are recorded every ``snapshot_every`` steps. A cost that is NaN or climbs
    above DIVERGENCE_FACTOR × its first value stops the run as "diverged"."""
    fns = {"bn_forward": bn_forward, "bn_backward": bn_backward,
           "update_running_stats": update_running_stats}
    _check_train_args(X, Y, layers_dims, rng, batchnorm, fns)
    params = init_parameters(layers_dims, rng, batchnorm=batchnorm)
    run = Run(running=init_running_stats(params))
    if step is None:  # the course's default gradient-descent step (helpers.training)
        rule = bind_update()
        state, step = rule.init(params, learning_rate), rule.step
    state = {} if state is None else state
    try:
        with one_blas_thread(), np.errstate(all="ignore"):
            _loop(run, X, Y, params, state, step, rng, fns, num_steps, batch_size, momentum,
                  epsilon, snapshot_every, probe, keep_batch_stats, checkpoint_every)
    except NotImplementedError as exc:
        raise exercise_not_done(exc) from None
    return run


def _loop(run, X, Y, params, state, step, rng, fns, num_steps, batch_size, momentum, epsilon,
          snapshot_every, probe, keep_batch_stats, checkpoint_every) -> None:
    import time

    start, m = time.perf_counter(), X.shape[1]
    size = min(int(batch_size), m)
    for t in range(num_steps):
        if snapshot_every and probe is not None and t % snapshot_every == 0:
            _, probe_caches = forward(probe, params, bn_forward=fns["bn_forward"],
                                      epsilon=epsilon)
            run.snapshots.append((t, _quantiles(probe_caches)))
        if checkpoint_every and t % checkpoint_every == 0:
            run.checkpoints.append((t, params))
        idx = rng.permutation(m)[:size]
        Xb, Yb = X[:, idx], Y[:, idx]
        AL, caches = forward(Xb, params, bn_forward=fns["bn_forward"], epsilon=epsilon)
        c = cost(AL, Yb)
        why = divergence(c, run.costs[0] if run.costs else c)
        if why:
            if snapshot_every and probe is not None:  # what the blow-up looks like
                _, probe_caches = forward(probe, params, bn_forward=fns["bn_forward"],
                                          epsilon=epsilon)
                run.snapshots.append((t, _quantiles(probe_caches)))
            run.status = "diverged"
            run.message = f"diverged at step {t}: the cost {why}"
            break
        run.costs.append(c)
        stats = _update_running(fns["update_running_stats"], run.running, caches, momentum)
        if keep_batch_stats:
            run.batch_stats.append(stats)
        grads = backward(AL, Yb, caches, bn_backward=fns["bn_backward"])
        params, state = step(params, grads, state)
    run.parameters = params
    if checkpoint_every and run.status == "finished":
        run.checkpoints.append((num_steps, params))
    run.seconds = time.perf_counter() - start
    if run.status == "finished":
        run.message = (f"finished {num_steps} steps in {run.seconds:.2f} s; "
                       f"last cost {run.costs[-1]:.3f}")


# ---------------------------------------------------------------- data
N_TRAIN = 1257  # the digits' first 1,257 images train, the last 540 test (about 70/30)


def load_digit_parity():
    """scikit-learn's 8x8 digits as a yes/no question: is the digit odd? X (64, m) holds the
    grey levels divided by 16 (a constant scaling into [0, 1], not a normalization), Y (1, m)
    is 1 for 1, 3, 5, 7, 9 and 0 for the even digits. A fixed split, no shuffling: the first
    N_TRAIN images (in scikit-learn's order) for training, the rest for testing.

    Returns (X_train, Y_train, X_test, Y_test)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = np.ascontiguousarray(digits.data.T, dtype=float) / 16.0
    Y = (digits.target % 2 == 1).astype(float).reshape(1, -1)
    return X[:, :N_TRAIN], Y[:, :N_TRAIN], X[:, N_TRAIN:], Y[:, N_TRAIN:]
