"""The checks of notebook 03 (dropout): what its test cells call, and the sentence that names
each mistake.

Each check takes the learner's function as an argument and a *case* (the inputs of one call,
built from a seed). None computes a graded answer: the forward pass is judged against its own
cache (A1 against relu(Z1) of that cache, the fraction of units kept against keep_prob), the
backward pass against the course's plain backpropagation and against how its output must
change when the cache or keep_prob does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from helpers.checks import (
    CheckFailed,
    Snapshot,
    check,
    check_gradient_dict,
    check_plain_backprop,
    random_parameters,
)

FORWARD = "forward_propagation_with_dropout"
BACKWARD = "backward_propagation_with_dropout"
# the cache of forward_propagation_with_dropout, in its docstring's order
CACHE = ("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")


def _relu(Z: np.ndarray) -> np.ndarray:
    return np.maximum(Z, 0)


# ---------------------------------------------------------------- forward_propagation_with_dropout
class ForwardCase(NamedTuple):
    """One call's inputs: X (n_x, m); parameters of a [n_x, n1, n2, 1] net; keep_prob; the
    seed of the call's generator (rng = default_rng(seed + 2))."""

    X: np.ndarray
    parameters: dict[str, np.ndarray]
    keep_prob: float
    seed: int


def forward_case(dims: list[int], m: int, keep_prob: float, seed: int) -> ForwardCase:
    """Random parameters for layer sizes ``dims`` (biases raised by 0.2, so that most ReLU units
    are on) and X of shape (dims[0], m), from ``seed``."""
    p = random_parameters(dims, np.random.default_rng(seed))
    p = {k: v + 0.2 if k.startswith("b") else v for k, v in p.items()}
    X = np.random.default_rng(seed + 1).normal(size=(dims[0], m))
    return ForwardCase(X, p, keep_prob, seed)


def run_forward(forward: Callable, case: ForwardCase, seed_offset: int = 2) -> dict[str, Any]:
    """Your ``forward(X, parameters, keep_prob, rng)`` on the case: X and parameters left
    unchanged, the pair (A3, cache) returned, 14 entries in the cache. Returns the cache by
    name ({"Z1": …, "D1": …, …}), with "A3" the A3 you returned."""
    args = Snapshot(X=case.X, parameters=case.parameters)
    rng = np.random.default_rng(case.seed + seed_offset)
    try:
        out = forward(case.X, case.parameters, case.keep_prob, rng)
    except ValueError as exc:
        if "broadcast" not in str(exc):
            raise
        raise CheckFailed(f"your function raised '{exc}': are the masks of the wrong shape? Each "
                          "must have its layer's shape, e.g. D1 like A1: (n1, m)") from None
    args.check_unchanged(FORWARD)
    check(isinstance(out, tuple) and len(out) == 2, "return the pair (A3, cache)")
    A3, cache = out
    size = len(cache) if isinstance(cache, (tuple, list)) else type(cache).__name__
    check(size == 14, "the cache must be (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, "
          f"W3, b3): 14 items, got {size}")
    return {**dict(zip(CACHE, cache)), "A3": A3}


def check_masks(out: dict[str, Any], case: ForwardCase) -> None:
    """D1 and D2 are shaped like A1 (n1, m) and A2 (n2, m), hold only 0 and 1, and keep about
    keep_prob of the units (within four standard deviations of a binomial count)."""
    m, kp = case.X.shape[1], case.keep_prob
    n1, n2 = case.parameters["W1"].shape[0], case.parameters["W2"].shape[0]
    D1, D2 = out["D1"], out["D2"]
    for l in (1, 2):
        D, A = np.asarray(out[f"D{l}"], dtype=float), np.asarray(out[f"A{l}"], dtype=float)
        check(np.isin(D, (0.0, 1.0)).all() or not np.isin(A, (0.0, 1.0)).all(), f"the cache holds "
              f"A{l} where D{l} belongs and D{l} where A{l} belongs: keep the docstring's order "
              "(Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)")
    for name, D, shape in (("D1", D1, (n1, m)), ("D2", D2, (n2, m))):
        check(np.shape(D) == shape, f"{name} has shape {np.shape(D)} but the masks have the wrong "
              f"shape: one coin per unit AND per example, {name} must be shaped like its layer's "
              f"activations {shape}")
        check(np.isin(np.asarray(D, dtype=float), (0.0, 1.0)).all(),
              f"{name} must hold only 0s and 1s (or False/True): rng.random(shape) < keep_prob")
    kept = (np.sum(D1) + np.sum(D2)) / (D1.size + D2.size)
    tol = 4 * np.sqrt(kp * (1 - kp) / (D1.size + D2.size)) + 1e-9
    check(not (abs(kept - (1 - kp)) < tol and abs(kept - kp) >= tol),
          f"your masks keep {kept:.3f} of the units, about 1 - keep_prob: keep_prob is the "
          "probability of KEEPING a unit, D = rng.random(shape) < keep_prob (a comparison inverted "
          "to > keep_prob, or < 1 - keep_prob, keeps the others)")
    check(abs(kept - kp) < tol, f"your masks keep a fraction {kept:.3f} of the units but "
          f"keep_prob is {kp}")


def check_no_dropout_on_input(out: dict[str, Any], case: ForwardCase) -> None:
    """Z1 = W1 X + b1 with the untouched X."""
    _check_linear(out, 1, case.X, case.keep_prob,
                  "don't apply dropout to the input layer X, only to A1 and A2")


def _check_linear(out: dict[str, Any], l: int, A_prev: np.ndarray, keep_prob: float,
                  advice: str) -> None:
    """Z^[l] in the cache is W^[l] A^[l-1] + b^[l], before any dropout: a Z masked with D^[l]
    is told so, any other with ``advice``."""
    Z, D = np.asarray(out[f"Z{l}"]), np.asarray(out[f"D{l}"], dtype=float)
    prev = "X" if l == 1 else f"A{l - 1}"
    linear = out[f"W{l}"] @ A_prev + out[f"b{l}"]
    if np.allclose(Z, linear):
        return
    kept = D.astype(bool) if np.shape(D) == np.shape(Z) else None
    masked = kept is not None and bool(np.all(Z[~kept] == 0)) and np.allclose(
        Z[kept] * keep_prob, linear[kept])
    check(not masked, f"Z{l} in the cache is masked: keep Z{l} = W{l} {prev} + b{l} as it is and "
          f"apply dropout to A{l} = relu(Z{l}) (the result is the same, but the cache holds the "
          f"linear output Z{l})")
    check(False, f"Z{l} is not W{l} {prev} + b{l}: {advice}")


def check_inverted_dropout(out: dict[str, Any], case: ForwardCase) -> None:
    """A dropped unit outputs 0, a kept one its ReLU activation divided by keep_prob, so the mean
    activation of A1 is that of relu(Z1); the next layer sees the thinned layer (Z2 from A1,
    Z3 from A2 after dropout)."""
    kp, c = case.keep_prob, out
    R1 = _relu(c["Z1"])
    ratio = np.mean(c["A1"]) / np.mean(R1)
    tol = (6 * np.sqrt((1 - kp) / kp / np.size(c["D1"])) * np.sqrt(np.mean(R1 ** 2)) / np.mean(R1)
           + 1e-9)
    check(not (kp < 1 and abs(ratio - kp) < tol), "the mean activation of A1 is keep_prob times "
          "too small: did you divide by keep_prob after applying the mask?")
    check(not (kp < 1 and abs(ratio - 1 / kp) < tol), "the mean activation of A1 is 1/keep_prob "
          "times too large: you divided by keep_prob twice")
    check(not (kp < 1 and abs(ratio - kp * kp) < tol), "the mean activation of A1 is keep_prob^2 "
          "times too small: you multiplied by keep_prob; divide by it (inverted dropout)")
    check(abs(ratio - 1) < tol, f"the mean of A1 after dropout is {ratio:.3f} times its mean "
          "without dropout; inverted dropout keeps it the same")
    _check_thinned(c["A1"], c["D1"], R1, 1, kp)
    _check_linear(c, 2, c["A1"], kp, "Z2 must be W2 A1 + b2 with A1 AFTER dropout (the next layer "
                  "sees the thinned layer)")
    _check_thinned(c["A2"], c["D2"], _relu(c["Z2"]), 2, kp)
    check(np.allclose(c["Z3"], c["W3"] @ c["A2"] + c["b3"]),
          "Z3 must be W3 A2 + b3 with A2 after dropout")


def _check_thinned(A: np.ndarray, D: Any, relu_Z: np.ndarray, l: int, keep_prob: float) -> None:
    """Layer l after dropout: 0 where D is 0, relu(Z) / keep_prob where D is 1."""
    kept = np.asarray(D, dtype=bool)
    check(np.all(A[~kept] == 0), f"a dropped unit (D{l} = 0) must output 0 in A{l} (the A{l} in "
          "the cache is the activation after dropout: masked, then divided by keep_prob)")
    check(np.allclose(A[kept] * keep_prob, relu_Z[kept]),
          f"a kept unit of A{l} must be its ReLU activation divided by keep_prob")


def check_no_dropout_on_output(out: dict[str, Any]) -> None:
    """A3 = sigmoid(Z3), nothing dropped or rescaled."""
    check(np.allclose(out["A3"], 1 / (1 + np.exp(-out["Z3"]))),
          "A3 must be sigmoid(Z3): no dropout (and no rescaling) on the output layer")


def check_masks_come_from_rng(forward: Callable, case: ForwardCase, out: dict[str, Any]) -> None:
    """A generator seeded as for ``out`` draws the same masks again; another seed, others."""
    again = run_forward(forward, case)
    check(np.array_equal(again["D1"], out["D1"]) and np.array_equal(again["D2"], out["D2"]),
          "two calls with equal generators drew different masks: draw them from the rng argument "
          "(rng.random(A1.shape)), not from np.random")
    if case.keep_prob < 1:
        other = run_forward(forward, case, seed_offset=3)
        check(not np.array_equal(other["D1"], out["D1"]),
              "different generators gave the same masks: draw them from the rng argument")


def check_d1_drawn_first(forward: Callable, case: ForwardCase, out: dict[str, Any]) -> None:
    """The docstring's order, D1 first, then D2, without pinning the rng call: D1 is then drawn
    before anything that depends on layer 2, so the same generator gives the same D1 when only
    layer 2 grows (five more units, whose outgoing weights are 0)."""
    p = case.parameters
    r = np.random.default_rng(case.seed + 5)
    grown = {**p, "W2": np.vstack([p["W2"], r.normal(size=(5, p["W2"].shape[1]))]),
             "b2": np.vstack([p["b2"], np.zeros((5, 1))]),
             "W3": np.hstack([p["W3"], np.zeros((p["W3"].shape[0], 5))])}
    again = run_forward(forward, case._replace(parameters=grown))
    check(np.array_equal(np.asarray(again["D1"]), np.asarray(out["D1"])), "D1 changed when only "
          "layer 2 grew (same generator): draw D1 first, then D2, as the docstring says (D1 "
          "right after A1, from the rng)")


# ---------------------------------------------------------------- backward_propagation_with_dropout
class BackwardCase(NamedTuple):
    """X (n_x, m), Y (1, m), the parameters, and the cache (by name) of the plain net: masks of
    ones, as forward_propagation_with_dropout would return with keep_prob = 1."""

    X: np.ndarray
    Y: np.ndarray
    parameters: dict[str, np.ndarray]
    cache: dict[str, np.ndarray]


def backward_case(forward: Callable, dims: list[int], m: int, seed: int) -> BackwardCase:
    """A case whose cache comes from ``forward`` (the notebook's given forward_propagation, no
    dropout), so that this test does not depend on your forward pass."""
    r = np.random.default_rng(seed)
    p = {}
    for l in range(1, 4):
        p[f"W{l}"] = r.normal(size=(dims[l], dims[l - 1]))
        p[f"b{l}"] = r.normal(size=(dims[l], 1)) * 0.3 + 0.3
    X = r.normal(size=(dims[0], m))
    Y = (r.random((1, m)) < 0.5).astype(float)
    _, plain = forward(X, p)
    cache = dict(zip([k for k in CACHE if k[0] != "D"], plain))
    cache.update(D1=np.ones_like(cache["A1"]), D2=np.ones_like(cache["A2"]))
    return BackwardCase(X, Y, p, cache)


def run_backward(backward: Callable, X: np.ndarray, Y: np.ndarray, cache: dict[str, np.ndarray],
                 keep_prob: float) -> dict[str, np.ndarray]:
    """Your ``backward(X, Y, cache, keep_prob)`` with the cache as a tuple in the docstring's
    order: X, Y and the cache left unchanged, {"dW1", …, "db3"} shaped like the parameters."""
    tup = tuple(cache[k] for k in CACHE)
    args = Snapshot(X=X, Y=Y, cache=list(tup))
    grads = backward(X, Y, tup, keep_prob)
    args.check_unchanged(BACKWARD)
    return check_gradient_dict(grads, {k: cache[k] for k in PARAMETERS})


def check_plain_backprop_when_nothing_dropped(backward: Callable, case: BackwardCase) -> None:
    """Every unit kept and keep_prob = 1: ordinary backpropagation (the course's own)."""
    g1 = run_backward(backward, case.X, case.Y, case.cache, 1.0)
    check_plain_backprop(g1, case.X, case.Y, case.parameters,
                         "with every unit kept and keep_prob = 1")


def check_masks_from_cache(backward: Callable, case: BackwardCase) -> None:
    """The masks come from the cache: the same cache twice gives the same gradients, and a layer
    whose units are all dropped passes no gradient back."""
    h1, h2 = (run_backward(backward, case.X, case.Y, case.cache, 0.5) for _ in range(2))
    check(all(np.array_equal(h1[k], h2[k]) for k in h1), "two calls with the same cache gave "
          "different gradients: reuse the masks D1, D2 from the cache (don't draw new masks)")
    for layer in (2, 1):
        dropped = {f"D{layer}": np.zeros_like(case.cache[f"D{layer}"]),
                   f"A{layer}": np.zeros_like(case.cache[f"A{layer}"])}
        g = run_backward(backward, case.X, case.Y, {**case.cache, **dropped}, 1.0)
        for k in [f"d{p}{l}" for p in "Wb" for l in range(1, layer + 1)]:
            check(np.allclose(g[k], 0), f"with every unit of layer {layer} dropped (D{layer} = 0 "
                  f"and A{layer} = 0 in the cache), {k} must be 0: multiply dA{layer} by the mask "
                  f"D{layer} from the cache (don't draw new masks)")


def _ratio(a: np.ndarray, b: np.ndarray) -> float:
    """The factor r that makes r b closest to a (least squares)."""
    return float(np.sum(a * b) / np.sum(b * b))


def check_division_by_keep_prob(backward: Callable, case: BackwardCase) -> None:
    """The same cache with keep_prob = 0.5 instead of 1 scales dA2 by 2 and dA1 by 4 (each
    divided by keep_prob once, after its mask), so db2 doubles and db1 quadruples."""
    g1 = run_backward(backward, case.X, case.Y, case.cache, 1.0)
    g5 = run_backward(backward, case.X, case.Y, case.cache, 0.5)
    for k, want in (("db2", 2.0), ("db1", 4.0)):
        r = _ratio(g5[k], g1[k])
        check(np.allclose(g5[k], r * g1[k], rtol=1e-6, atol=1e-12), f"with the same cache, {k} "
              f"at keep_prob = 0.5 is not a multiple of {k} at keep_prob = 1: are you drawing new "
              "masks? Use D1 and D2 from the cache (only the division by keep_prob changes)")
        if abs(r - want) < 1e-6 * want:
            continue
        check(abs(r - 1) >= 1e-6, f"{k} does not change with keep_prob: divide dA1 and dA2 by "
              "keep_prob after applying the masks (the forward pass divided A1 and A2 by it)")
        check(abs(r - want**2) >= 1e-6 * want**2, "you divided dA1 and dA2 by keep_prob twice")
        check(False, f"{k} should grow {want:g}-fold when keep_prob goes from 1 to 0.5 (same "
              f"cache), it grew {r:.3g}-fold: after the mask, divide dA2 and dA1 by keep_prob, "
              "once each")


def check_uses_cached_activations(backward: Callable, case: BackwardCase) -> None:
    """dW2 and dW3 use the cached A1 and A2 (after dropout): tripling them in the cache triples
    dW2 and dW3."""
    g1 = run_backward(backward, case.X, case.Y, case.cache, 1.0)
    tripled = {**case.cache, "A1": 3 * case.cache["A1"], "A2": 3 * case.cache["A2"]}
    g3 = run_backward(backward, case.X, case.Y, tripled, 1.0)
    for k, A in (("dW2", "A1"), ("dW3", "A2")):
        if np.allclose(g3[k], 3 * g1[k], rtol=1e-6, atol=1e-12):
            continue
        check(not np.allclose(g3[k], g1[k]), f"{k} did not change when {A} in the cache was "
              f"tripled: use the cached {A} (after dropout: masked and divided by keep_prob) "
              f"instead of recomputing relu(Z{A[1]})")
        check(False, f"{k} should be dZ{int(A[1]) + 1} {A}^T / m with the cached {A}")
