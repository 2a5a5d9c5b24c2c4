"""The checks of notebook 04 (gradient checking): what its test cells call, and the sentence that
names each mistake.

Each check takes the learner's function as an argument. ``gradient_check_1d`` calls the
notebook's ``forward_propagation_1d`` and ``backward_propagation_1d``; to try it on another cost,
a check swaps other functions into the notebook's namespace for one call (the namespace is passed
explicitly: ``globals()`` of the test cell) and puts the learner's back. No graded answer here:
the relative differences a check expects are known in closed form for the cost it swaps in, or
measured against the course's own backpropagation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, MutableMapping
from typing import Any

import numpy as np

from helpers.checks import (
    CheckFailed,
    Snapshot,
    as_array,
    check,
    check_gradient_dict,
    core_gradients,
    first_match,
    random_parameters,
    uses,
)

# ---------------------------------------------------------------- gradient_check_1d
ONE_D = ("forward_propagation_1d", "backward_propagation_1d")
_SWAP_HINT = (" (this check swaps in J = x theta^3: make sure gradient_check_1d calls "
              "forward_propagation_1d and backward_propagation_1d instead of computing theta * x "
              "itself)")


def one_number(d: Any, function: str) -> float:
    """``d`` as a float, or a sentence saying that ``function`` should return one finite number."""
    check(not isinstance(d, (bool, np.bool_)), f"{function} returned {d!r}: return the difference "
          "itself (a number), not the result of comparing it with a threshold")
    a = as_array(d, f"what {function} returns")
    check(a.ndim == 0 and np.isfinite(a), f"{function} should return one finite number, got {d!r}")
    return float(a)


QUADRATIC = (lambda x, theta: x * theta**2, lambda x, theta: 2 * x * theta)  # J, dJ/dtheta


def check_1d_on_a_quadratic_cost(check_1d: Callable, namespace: MutableMapping[str, Any],
                                 x: float, theta: float) -> None:
    """With J = x theta^2 and its correct derivative 2 x theta swapped in for the learner's two
    1-D functions (so that a mistake in those costs no points here; a centred difference is
    exact on a quadratic, as on the notebook's J = theta x): one finite number, never negative,
    tiny (< 1e-7)."""
    d = with_1d_cost(check_1d, namespace, QUADRATIC, x, theta)
    check(d >= 0, "the difference is a ratio of norms (absolute values), so it is never "
          f"negative; got {d:.3g}")
    check(d < 1e-7, "for J = x theta^2 and its correct derivative the difference should be tiny "
          f"(< 1e-7), got {d:.3g}" + (_size_hint(d, "J_plus - J_minus") or _unexplained(check_1d)))


def _size_hint(d: float, change: str) -> str:
    """What a difference of about 1/3, about 1 or above 1 (with correct gradients) tells."""
    if abs(d - 1 / 3) < 0.02:
        return f"; about 1/3 means gradapprox is twice too big: divide {change} by 2 * epsilon"
    if abs(d - 1) < 1e-3:
        return ("; about 1 means gradapprox is (nearly) zero next to grad: check the parentheses, "
                f"({change}) / (2 * epsilon) (`/ 2 * epsilon` multiplies by epsilon), that J_plus "
                "and J_minus are the costs at the nudged parameters, and that gradapprox holds "
                "floats")
    if d > 1:
        return ("; a relative difference is at most 1 (|a - b| <= |a| + |b|): put the denominator "
                "in parentheses, |grad - gradapprox| / (|grad| + |gradapprox|), and give grad and "
                "gradapprox the same shape (an (n, 1) minus an (n,) array is an (n, n) matrix)")
    return ""


def with_1d_cost(check_1d: Callable, namespace: MutableMapping[str, Any],
                 cost: tuple[Callable, Callable], x: float, theta: float,
                 **kwargs: Any) -> float:
    """``check_1d(x, theta, **kwargs)`` while ``namespace`` (the notebook's globals) holds
    ``cost`` = (J, its derivative) as forward_propagation_1d and backward_propagation_1d; the
    learner's two functions are put back afterwards."""
    saved = {name: namespace[name] for name in ONE_D}
    namespace.update(zip(ONE_D, cost))
    try:
        return one_number(check_1d(x, theta, **kwargs), "gradient_check_1d")
    finally:
        namespace.update(saved)


def on_cubic_cost(check_1d: Callable, namespace: MutableMapping[str, Any], x: float,
                  theta: float, epsilon: float, wrong_by: float) -> float:
    """``check_1d(x, theta, epsilon=epsilon)`` on J = x theta^3 with ``wrong_by`` times its
    derivative (see :func:`with_1d_cost`)."""
    cubic = (lambda x, theta: x * theta**3, lambda x, theta: wrong_by * 3 * x * theta**2)
    return with_1d_cost(check_1d, namespace, cubic, x, theta, epsilon=epsilon)


def cubic_cost_differences(x: float, theta: float, epsilon: float,
                           wrong_by: float) -> tuple[float, float, float, float]:
    """For J = x theta^3 and a derivative ``wrong_by`` times the true one, what a relative
    difference gives with a centred and with a one-sided slope, and grad and the centred slope.
    Both slopes are known exactly: x (3 theta^2 + epsilon^2) and
    x (3 theta^2 + 3 theta epsilon + epsilon^2)."""
    grad = wrong_by * 3 * x * theta**2
    centred = x * (3 * theta**2 + epsilon**2)
    one_sided = x * (3 * theta**2 + 3 * theta * epsilon + epsilon**2)
    return (abs(grad - centred) / (abs(grad) + abs(centred)),
            abs(grad - one_sided) / (abs(grad) + abs(one_sided)), grad, centred)


def _unexplained(check_1d: Callable) -> str:
    """The closing hint when a 1-D result matches no known mistake: the swap, if gradient_check_1d
    does not call both 1-D functions, else each part of the formula."""
    if set(uses(check_1d, names=ONE_D)) != set(ONE_D):
        return _SWAP_HINT
    return ("; check each part: gradapprox = (J(theta + epsilon) - J(theta - epsilon)) / "
            "(2 epsilon), grad = backward_propagation_1d(x, theta), and the relative difference "
            "|grad - gradapprox| / (|grad| + |gradapprox|)")


def check_1d_wrong_derivative(check_1d: Callable, namespace: MutableMapping[str, Any],
                              wrong_by: float, x: float = 3.0, theta: float = 4.0) -> None:
    """On J = x theta^3 with a derivative ``wrong_by`` times the true one (1.25: 25 % too big;
    -1: the wrong sign), the relative difference |grad - gradapprox| / (|grad| + |gradapprox|)."""
    got = on_cubic_cost(check_1d, namespace, x, theta, 1e-7, wrong_by)
    want, _, g, a = cubic_cost_differences(x, theta, 1e-7, wrong_by)
    if np.isclose(got, want, rtol=1e-4):
        return
    if wrong_by < 0:
        check(False, "when backprop's derivative has the wrong sign the relative difference is "
              f"{want:.4f} (as far apart as two numbers get), you got {got:.4g}"
              + ("; a relative difference is at most 1: divide by |grad| + |gradapprox| (the sum "
                 "of both norms); a denominator such as |grad + gradapprox| nearly vanishes when "
                 "the signs differ" if got > 1 + 1e-6 else
                 "; take the absolute values (norms) of grad - gradapprox, grad and gradapprox"))
    which = first_match(got, {"|grad - gradapprox| / |grad|": abs(g - a) / abs(g),
                              "|grad - gradapprox| / |gradapprox|": abs(g - a) / abs(a),
                              "|grad - gradapprox| alone": abs(g - a),
                              "squared values, (grad - gradapprox)^2 / (grad^2 + gradapprox^2)":
                                  (g - a) ** 2 / (g * g + a * a)}, rtol=1e-4)
    check(False, f"when backprop's derivative is {wrong_by:g} times the true one the relative "
          f"difference is {want:.4f}, you got {got:.4f}"
          + (f": you computed {which}; divide by |grad| + |gradapprox| (the sum of both norms)"
             if which else _unexplained(check_1d)))


def check_1d_centred_difference(check_1d: Callable, namespace: MutableMapping[str, Any],
                                epsilon: float, x: float = 3.0, theta: float = 4.0) -> None:
    """On J = x theta^3 with its true derivative and a large ``epsilon``, the difference that a
    centred slope leaves (a one-sided slope leaves another)."""
    got = on_cubic_cost(check_1d, namespace, x, theta, epsilon, 1.0)
    want, one_sided, _, centred = cubic_cost_differences(x, theta, epsilon, 1.0)
    if np.isclose(got, want, rtol=1e-4, atol=1e-12):
        return
    other = on_cubic_cost(check_1d, namespace, x, theta, epsilon / 10, 1.0)
    check(got != other, f"with J = x theta^3 your difference is {got:.3e} with epsilon = "
          f"{epsilon:g} and with epsilon = {epsilon / 10:g}: it does not depend on epsilon. Use "
          "the epsilon argument (not a fixed 1e-7) for the nudges and in 2 * epsilon")
    shifted = 3 * x * (theta + epsilon) ** 2  # backprop's derivative at theta + epsilon
    check(not np.isclose(got, abs(shifted - centred) / (abs(shifted) + abs(centred)), rtol=1e-3),
          "your difference is what grad evaluated at theta + epsilon gives: grad is "
          "backward_propagation_1d(x, theta), at theta itself")
    check(np.isclose(got, want, rtol=1e-4, atol=1e-12),
          f"with J = x theta^3 and epsilon = {epsilon:g} the centred difference gives {want:.3e}, "
          f"you got {got:.3e}"
          + ("; that is what a one-sided difference (J(theta + eps) - J(theta)) / eps gives: use "
             "J(theta + epsilon) - J(theta - epsilon) over 2 epsilon"
             if np.isclose(got, one_sided, rtol=1e-3) else
             "; a relative difference is never negative: take the norms |.| of grad - gradapprox, "
             "grad and gradapprox" if got < 0 else _unexplained(check_1d)))


# ---------------------------------------------------------------- gradient_check_n
def network_problem(seed: int, sizes: list[int], m: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """X (sizes[0], m), Y (1, m) of 0/1 labels, and random parameters of a net of layer sizes
    ``sizes`` (the tanh, tanh, sigmoid net of forward_propagation_n), from ``seed``."""
    r = np.random.default_rng(seed)
    X = r.normal(size=(sizes[0], m))
    Y = (r.random((1, m)) < 0.5).astype(float)
    return X, Y, random_parameters(sizes, r)


def true_gradients(parameters: dict, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """The gradients of forward_propagation_n's cost, by the course's own backpropagation."""
    return core_gradients(X, Y, parameters, hidden="tanh")


def run_gradient_check(check_n: Callable, parameters: dict, gradients: dict, X: np.ndarray,
                       Y: np.ndarray, **kwargs: Any) -> float:
    """Your ``check_n(parameters, gradients, X, Y, **kwargs)``: one finite number, and the
    parameters and gradients exactly as they were (a nudge undone by arithmetic is not exact)."""
    args = Snapshot(gradients=gradients)
    before = copy.deepcopy(parameters)
    try:
        out = check_n(parameters, gradients, X, Y, **kwargs)
    except Exception as exc:
        if not _raised_in(exc, "forward_propagation_n"):
            raise
        raise CheckFailed(f"the given forward_propagation_n raised {type(exc).__name__} ({exc}) "
                          "when your gradient_check_n called it: pass it the X and Y arguments "
                          "(not other data) and a parameters dict made by vector_to_dictionary("
                          "theta_plus, layout)") from None
    d = one_number(out, "gradient_check_n")
    check(sorted(parameters) == sorted(before),
          f"gradient_check_n changed the keys of parameters: {sorted(parameters)}")
    for k in before:
        check(np.array_equal(parameters[k], before[k]),
              f"parameters[{k!r}] is not what it was before the check: the parameters were left "
              "perturbed. Nudge copies (np.copy(theta), then vector_to_dictionary), not the arrays "
              "in the parameters dict (and 'theta + eps - 2 eps + eps' does not give theta back "
              "exactly)")
    args.check_unchanged("gradient_check_n", "leave gradients as they are")
    return d


def _raised_in(exc: BaseException, function: str) -> bool:
    """Whether the exception was raised inside ``function`` (a frame of that name on its
    traceback)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == function:
            return True
        tb = tb.tb_next
    return False


def check_writes_its_own_loop(check_n: Callable) -> None:
    """No library gradient checker (scipy's approx_fprime or check_grad) does the work."""
    bad = uses(check_n, names=("approx_fprime", "check_grad"))
    check(not bad, f"write the loop yourself; don't call scipy's {bad[0] if bad else ''}")


def check_correct_gradients_pass(check_n: Callable, X: np.ndarray, Y: np.ndarray,
                                 parameters: dict) -> None:
    """With the true gradients the difference is not negative and below 1e-7."""
    d = run_gradient_check(check_n, parameters, true_gradients(parameters, X, Y), X, Y)
    check(d >= 0, f"the difference is a ratio of norms, so it is never negative; got {d:.3g}")
    check(d < 1e-7, f"with correct gradients the difference should be below 1e-7, got {d:.3g}"
          + _size_hint(d, "J_plus - J_minus") + ". Nudge one coordinate at a time, for every i "
          "in range(num_parameters) (no early return inside the loop): theta_plus and "
          "theta_minus are separate copies of theta (np.copy) with only entry i changed, "
          "gradapprox[i] = (J_plus - J_minus) / (2 epsilon), and grad = gradients_to_vector("
          "gradients, layout) (the same order as theta)")


def _flat(G: dict) -> np.ndarray:
    return np.concatenate([np.ravel(G[k]) for k in sorted(G)])


def check_relative_difference(check_n: Callable, X: np.ndarray, Y: np.ndarray,
                              parameters: dict) -> None:
    """Gradients with dW2 50 % too big and db1 shifted: against the true gradients (which a
    centred difference matches to ~1e-9) the difference is the formula's
    ||grad - gradapprox|| / (||grad|| + ||gradapprox||); other formulas are named."""
    true = true_gradients(parameters, X, Y)
    wrong = {**true, "dW2": 1.5 * true["dW2"], "db1": true["db1"] + 0.05}
    d = run_gradient_check(check_n, parameters, wrong, X, Y)
    g, a = _flat(wrong), _flat(true)
    n, ng, na = np.linalg.norm(g - a), np.linalg.norm(g), np.linalg.norm(a)
    n1, ng1, na1 = np.linalg.norm(g - a, 1), np.linalg.norm(g, 1), np.linalg.norm(a, 1)
    which = first_match(d, {"||grad - gradapprox|| / ||grad||": n / ng,
                            "||grad - gradapprox|| / ||gradapprox||": n / na,
                            "||grad - gradapprox|| alone": n,
                            "||grad - gradapprox|| / ||grad + gradapprox||": n / np.linalg.norm(g + a),
                            "squared norms": n**2 / (ng**2 + na**2),
                            "a squared numerator, ||grad - gradapprox||^2": n**2 / (ng + na),
                            "1-norms (ord=1, the sum of absolute values)": n1 / (ng1 + na1),
                            "a 1-norm in the numerator": n1 / (ng + na),
                            "1-norms in the denominator": n / (ng1 + na1)}, rtol=1e-3)
    want = n / (ng + na)
    check(np.isclose(d, want, rtol=1e-3),
          f"for gradients with dW2 50% too big and db1 shifted, the relative difference is "
          f"{want:.5f}, you got {d:.5f}"
          + (f": you computed {which}; the formula is ||grad - gradapprox||_2 / (||grad||_2 + "
             "||gradapprox||_2), 2-norms (np.linalg.norm(v)) throughout, the sum of both norms "
             "below" if which else ": check that gradapprox[i] nudges only entry i, and that grad "
             "is gradients_to_vector(gradients, layout)"))


def check_centred_difference(check_n: Callable, X: np.ndarray, Y: np.ndarray,
                             parameters: dict) -> None:
    """How the difference shrinks with epsilon tells the method: a centred difference's error
    shrinks like epsilon^2 (100-fold for a 10-fold smaller epsilon), a one-sided one's like
    epsilon."""
    G = true_gradients(parameters, X, Y)
    d2, d3 = (run_gradient_check(check_n, parameters, G, X, Y, epsilon=e) for e in (1e-2, 1e-3))
    slope = np.log10(d2 / max(d3, 1e-300))
    check(slope > 0.5, f"your difference is {d2:.2e} with epsilon = 1e-2 and {d3:.2e} with "
          "epsilon = 1e-3: it does not depend on epsilon. Did you use the epsilon argument (not a "
          "fixed 1e-7)?")
    check(slope > 1.5, f"your difference shrinks 10-fold when epsilon does ({d2:.2e} -> "
          f"{d3:.2e}): that is a one-sided difference, (J(theta + eps) - J(theta)) / eps. Use "
          "J_plus and J_minus, over 2 epsilon (its error shrinks 100-fold)")
    check(slope < 2.5, f"your difference shrinks {10 ** slope:.0f}-fold when epsilon does "
          f"({d2:.2e} -> {d3:.2e}); a centred difference's error shrinks about 100-fold")


# ---------------------------------------------------------------- backward_propagation_fixed
_FIX_HINTS = {  # a wrong dW whose db is right: dZ is right, the product is not
    **{f"dW{l}": f" (dW{l} = dZ{l} {prev}^T / m)" for l, prev in ((1, "X"), (2, "A1"), (3, "A2"))},
    **{f"db{l}": f" (is it averaged over the m examples, like dW{l}?)" for l in (1, 2, 3)},
}
_DZ_HINTS = {  # the highest layer whose dW and db are both wrong: its dZ is
    3: " (the given output layer was right: dZ3 = A3 - Y, and m = X.shape[1], the number of "
       "examples)",
    2: " (what is the derivative of tanh? tanh'(z) = 1 - tanh(z)^2, so dZ2 = dA2 * (1 - A2**2))",
    1: " (what is the derivative of tanh? tanh'(z) = 1 - tanh(z)^2, so dZ1 = dA1 * (1 - A1**2))",
}


def _fix_hints(wrong: list[str]) -> list[str]:
    """Each wrong gradient with a hint: the highest layer whose dZ is wrong (dW and db both
    wrong) gets the hint for its dZ, the layers below it none (they inherit it); a layer with a
    right dZ, the hint for its dW or db."""
    first = next((l for l in (3, 2, 1) if {f"dW{l}", f"db{l}"} <= set(wrong)), 0)
    out = []
    for k in wrong:
        l = int(k[2])
        hint = (_DZ_HINTS[l] if k[1] == "b" else "") if l == first else (
            "" if l < first else _FIX_HINTS.get(k, ""))
        out.append(k + hint)
    if first > 1:
        out.append(f"the layers below layer {first} inherit its dZ{first}")
    return out


def check_fixes_it_yourself(fixed: Callable) -> None:
    """The fix does not call the course's backward pass (model_backward, layer_backward)."""
    bad = uses(fixed, names=("model_backward", "layer_backward"))
    check(not bad, f"fix the given backward pass yourself; don't call helpers' {bad[0] if bad else ''}")


def run_fixed(fixed: Callable, forward: Callable, X: np.ndarray, Y: np.ndarray,
              parameters: dict) -> dict[str, np.ndarray]:
    """Your ``fixed(X, Y, cache)`` on the cache of ``forward`` (forward_propagation_n): X, Y and
    the cache left unchanged, {"dW1", …} shaped like the parameters."""
    _, cache = forward(X, Y, parameters)
    args = Snapshot(X=X, Y=Y, cache=cache)
    G = fixed(X, Y, cache)
    args.check_unchanged("backward_propagation_fixed")
    return check_gradient_dict(G, parameters, "the returned gradients")


def check_fixed_gradients(fixed: Callable, forward: Callable, seed: int, sizes: list[int],
                          m: int) -> None:
    """Every gradient equals the course's backpropagation of the same net; the wrong ones are
    listed, each with a hint."""
    X, Y, P = network_problem(seed, sizes, m)
    G, true = run_fixed(fixed, forward, X, Y, P), true_gradients(P, X, Y)
    wrong = [k for k in ("dW3", "db3", "dW2", "db2", "dW1", "db1")
             if not np.allclose(G[k], true[k], rtol=1e-6, atol=1e-9)]
    check(not wrong, f"network {sizes}, m = {m}: these gradients are still wrong: "
          + "; ".join(_fix_hints(wrong)))
