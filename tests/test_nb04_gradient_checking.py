"""Notebook 04 (gradient checking): its autograder cells accept correct solutions in several
styles and reject the classic mistakes with a message that names them; its explorers run the
learner's functions and stay friendly before the exercises are done."""

import copy

import matplotlib
import numpy as np
import pytest

from helpers.explorers.gradient_checking import (
    FORWARD_NAME,
    check_each_parameter,
    explore_epsilon,
    plot_breakdown,
    plot_epsilon,
    using_forward,
    verdict,
)
from tests.nbtools import Notebook

matplotlib.use("Agg")
NB = Notebook("04")
pytestmark = NB.pytestmark
TESTS = ["test_forward_propagation_1d", "test_gradient_check_1d", "test_gradient_check_n",
         "test_backward_propagation_fixed"]






# ---------------------------------------------------------------- the notebook's anatomy
def test_notebook_has_its_exercises_and_graded_tests():
    ids = [gid for _, gid, _ in NB.cells("solution")]
    assert ids == ["forward_propagation_1d", "gradient_check_1d", "gradient_check_n",
                   "backward_propagation_fixed"]
    assert [gid for _, gid, _ in NB.cells("test")] == TESTS
    for _, gid, src in NB.cells("solution"):
        assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, gid
    for _, gid, src in NB.cells("test"):
        assert "### BEGIN HIDDEN TESTS" in src, gid


@pytest.mark.parametrize("test_id", TESTS)
def test_reference_solution_passes(test_id):
    NB.must_pass(test_id)


# ---------------------------------------------------------------- exercise 1
ONE_D = '''
def forward_propagation_1d(x, theta):
    return {J}


def backward_propagation_1d(x, theta):
    return {dtheta}
'''


def test_1d_forward_and_backward_mistakes():
    NB.must_fail("test_forward_propagation_1d", {"forward_propagation_1d": ONE_D.format(
        J="theta * x", dtheta="theta")}, "you returned theta")
    NB.must_fail("test_forward_propagation_1d", {"forward_propagation_1d": ONE_D.format(
        J="theta + x", dtheta="x")}, "theta * x")
    NB.must_pass("test_forward_propagation_1d", {"forward_propagation_1d": ONE_D.format(
        J="x * theta", dtheta="1.0 * x")})


# ---------------------------------------------------------------- exercise 2
CHECK_1D = '''
def gradient_check_1d(x, theta, epsilon=1e-7):
    J_plus = forward_propagation_1d(x, theta + epsilon)
    J_minus = forward_propagation_1d(x, theta - epsilon)
    J = forward_propagation_1d(x, theta)
    gradapprox = {approx}
    grad = backward_propagation_1d(x, theta)
    return {difference}
'''
GOOD_APPROX = "(J_plus - J_minus) / (2 * epsilon)"
GOOD_DIFF = "abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))"


@pytest.mark.parametrize("approx, difference, keyword", [
    ("(J_plus - J) / epsilon", GOOD_DIFF, "one-sided"),
    ("(J_plus - J_minus) / epsilon", GOOD_DIFF, "2 * epsilon"),
    (GOOD_APPROX, "abs(grad - gradapprox) / abs(grad)", "sum of both norms"),
    (GOOD_APPROX, "abs(grad - gradapprox) / abs(gradapprox)", "sum of both norms"),
    (GOOD_APPROX, "abs(grad - gradapprox)", "sum of both norms"),
    (GOOD_APPROX, "(grad - gradapprox) / (grad + gradapprox)", "norms"),
    # issue 16 neighbour: |grad + gradapprox| equals the sum of norms only when the signs agree
    (GOOD_APPROX, "abs(grad - gradapprox) / abs(grad + gradapprox)", "a relative difference is at most 1"),
    (GOOD_APPROX, "None", "should return one finite number"),  # a sentence, not float(None)'s error
], ids=["one-sided", "missing-2", "norm-grad", "norm-approx", "no-denominator", "no-abs",
        "norm-of-sum", "returns-none"])
def test_gradient_check_1d_rejects(approx, difference, keyword):
    NB.must_fail("test_gradient_check_1d",
          {"gradient_check_1d": CHECK_1D.format(approx=approx, difference=difference)}, keyword)


def test_gradient_check_1d_rejects_computing_theta_x_itself():
    src = '''
def gradient_check_1d(x, theta, epsilon=1e-7):
    gradapprox = ((theta + epsilon) * x - (theta - epsilon) * x) / (2 * epsilon)
    grad = backward_propagation_1d(x, theta)
    return abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))
'''
    NB.must_fail("test_gradient_check_1d", {"gradient_check_1d": src}, "calls forward_propagation_1d")


def test_the_cubic_cost_is_swapped_in_the_namespace_given_and_put_back():
    """The 1-D checks try gradient_check_1d on J = x theta^3 by swapping it into the namespace the
    test cell passes (its globals()); the learner's functions are back afterwards, also when
    gradient_check_1d raises."""
    from helpers.checks.gradient_checking import cubic_cost_differences, on_cubic_cost

    ns = NB.namespace()
    mine = ns["forward_propagation_1d"], ns["backward_propagation_1d"]

    def broken(x, theta, epsilon=1e-7):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        on_cubic_cost(broken, ns, 3.0, 4.0, 1e-7, 1.0)
    assert (ns["forward_propagation_1d"], ns["backward_propagation_1d"]) == mine
    got = on_cubic_cost(ns["gradient_check_1d"], ns, 3.0, 4.0, 1e-2, 1.0)
    assert got == pytest.approx(cubic_cost_differences(3.0, 4.0, 1e-2, 1.0)[0], rel=1e-6)
    assert (ns["forward_propagation_1d"], ns["backward_propagation_1d"]) == mine


@pytest.mark.parametrize("src", [
    CHECK_1D.format(approx="(J_plus - J_minus) / epsilon / 2",
                    difference="np.abs(grad - gradapprox) / (np.abs(grad) + np.abs(gradapprox))"),
    '''
def gradient_check_1d(x, theta, epsilon=1e-7):
    slope = (forward_propagation_1d(x, theta + epsilon)
             - forward_propagation_1d(x, theta - epsilon)) / (2.0 * epsilon)
    d = backward_propagation_1d(x, theta)
    return float(np.linalg.norm(np.array([d - slope])) / (np.linalg.norm([d]) + np.linalg.norm([slope])))
''',
], ids=["abs", "norm-of-arrays"])
def test_gradient_check_1d_accepts_other_styles(src):
    NB.must_pass("test_gradient_check_1d", {"gradient_check_1d": src})


# ---------------------------------------------------------------- exercise 3
CHECK_N = '''
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    theta, layout = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients, layout)
    n = theta.shape[0]
    J, _ = forward_propagation_n(X, Y, parameters)
    gradapprox = np.zeros((n, 1))
    for i in range(n):
        {nudge}
        J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus, layout))
        J_minus, _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_minus, layout))
        gradapprox[i] = {approx}
    numerator = np.linalg.norm(grad - gradapprox)
    return numerator / ({denominator})
'''
GOOD_NUDGE = ("theta_plus = np.copy(theta); theta_plus[i] += epsilon; "
              "theta_minus = np.copy(theta); theta_minus[i] -= epsilon")
GOOD_DENOM = "np.linalg.norm(grad) + np.linalg.norm(gradapprox)"


def check_n(nudge=GOOD_NUDGE, approx=GOOD_APPROX, denominator=GOOD_DENOM):
    return CHECK_N.format(nudge=nudge, approx=approx, denominator=denominator)


@pytest.mark.parametrize("src, keyword", [
    (check_n(approx="(J_plus - J) / epsilon"), "one-sided"),
    (check_n(approx="(J_plus - J_minus) / epsilon"), "2 * epsilon"),
    (check_n(denominator="np.linalg.norm(grad)"), "sum of both norms"),
    (check_n(denominator="np.linalg.norm(gradapprox)"), "sum of both norms"),
    (check_n(denominator="1.0"), "sum of both norms"),
    (check_n(denominator="np.linalg.norm(grad + gradapprox)"), "sum of both norms"),
    (check_n(nudge="theta_plus = theta + epsilon; theta_minus = theta - epsilon"),
     "one coordinate at a time"),
    (check_n(nudge="theta_plus = theta; theta_plus[i] += epsilon; "
                   "theta_minus = theta; theta_minus[i] -= epsilon"), "separate copies"),
    (check_n(approx="(J_plus - J_minus) / (2 * 1e-7)").replace(
        "theta_plus[i] += epsilon", "theta_plus[i] += 1e-7").replace(
        "theta_minus[i] -= epsilon", "theta_minus[i] -= 1e-7"), "epsilon argument"),
], ids=["one-sided", "missing-2", "norm-grad", "norm-approx", "no-denominator",
        "norm-of-sum", "all-coordinates", "aliased-theta", "ignores-epsilon"])
def test_gradient_check_n_rejects(src, keyword):
    NB.must_fail("test_gradient_check_n", {"gradient_check_n": src}, keyword)


IN_PLACE = '''
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    theta, layout = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients, layout)
    approx = []
    for key, _ in layout:
        arr = parameters[key]
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + epsilon
            J_plus, _ = forward_propagation_n(X, Y, parameters)
            arr[idx] = old - epsilon
            J_minus, _ = forward_propagation_n(X, Y, parameters)
            {restore}
            approx.append((J_plus - J_minus) / (2 * epsilon))
    gradapprox = np.array(approx).reshape(-1, 1)
    return np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
'''


@pytest.mark.parametrize("restore", ["pass", "arr[idx] = arr[idx] + epsilon"],
                         ids=["not-restored", "restored-inexactly"])
def test_gradient_check_n_rejects_parameters_left_perturbed(restore):
    NB.must_fail("test_gradient_check_n", {"gradient_check_n": IN_PLACE.format(restore=restore)},
          "left perturbed")


def test_gradient_check_n_rejects_other_mistakes():
    # gradients flattened in their own (sorted) order, not the parameters' layout
    NB.must_fail("test_gradient_check_n", {"gradient_check_n": check_n().replace(
        "grad = gradients_to_vector(gradients, layout)",
        "grad = dictionary_to_vector(gradients)[0]")}, "below 1e-7")
    # the difference computed but not returned: a sentence, not float(None)'s TypeError
    NB.must_fail("test_gradient_check_n", {"gradient_check_n": check_n().replace(
        "return numerator", "numerator")}, "should return one finite number")


@pytest.mark.parametrize("src", [
    IN_PLACE.format(restore="arr[idx] = old").replace(
        "theta, layout = dictionary_to_vector(parameters)",
        "parameters = {k: np.array(v, copy=True) for k, v in parameters.items()}\n"
        "    theta, layout = dictionary_to_vector(parameters)"),
    '''
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    theta, layout = dictionary_to_vector(parameters)
    g = gradients_to_vector(gradients, layout).ravel()
    E = epsilon * np.eye(theta.size)
    cost = lambda t: forward_propagation_n(X, Y, vector_to_dictionary(t, layout))[0]
    approx = np.array([cost(theta + e[:, None]) - cost(theta - e[:, None]) for e in E]) / (2 * epsilon)
    return np.sqrt(np.sum((g - approx) ** 2)) / (np.sqrt(np.sum(g**2)) + np.sqrt(np.sum(approx**2)))
''',
    IN_PLACE.format(restore="arr[idx] = old"),
], ids=["copied-dict-in-place", "vectorized-basis", "in-place-exact-restore"])
def test_gradient_check_n_accepts_other_styles(src):
    NB.must_pass("test_gradient_check_n", {"gradient_check_n": src})


# ---------------------------------------------------------------- exercise 4
FIXED = '''
def backward_propagation_fixed(X, Y, cache):
    m = X.shape[1]
    A1, A2, A3 = cache["A1"], cache["A2"], cache["A3"]
    W2, W3 = cache["W2"], cache["W3"]
    dZ3 = A3 - Y
    dW3 = dZ3 @ A2.T / m
    db3 = {db3}
    dZ2 = (W3.T @ dZ3) * (1 - A2**2)
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * ({tanh1})
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {{"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}}
'''
DB3 = "np.sum(dZ3, axis=1, keepdims=True) / m"
TANH1 = "1 - A1**2"


def test_backward_fixed_rejects_half_fixes():
    msg = NB.must_fail("test_backward_propagation_fixed", {"backward_propagation_fixed": FIXED.format(
        db3=DB3, tanh1="1 - A1")}, "derivative of tanh")
    assert "dW1" in msg and "db1" in msg and "db3" not in msg
    msg = NB.must_fail("test_backward_propagation_fixed", {"backward_propagation_fixed": FIXED.format(
        db3="np.sum(dZ3, axis=1, keepdims=True)", tanh1=TANH1)}, "averaged over the m")
    assert "db3" in msg and "dW1" not in msg
    NB.must_fail("test_backward_propagation_fixed", {"backward_propagation_fixed": FIXED.format(
        db3="np.sum(dZ3, axis=1, keepdims=True)", tanh1="1 - A1")}, "db3")


def test_backward_fixed_rejects_delegating_to_the_core():
    src = '''
from helpers.network import model_backward


def backward_propagation_fixed(X, Y, cache):
    A1, A2, A3 = cache["A1"], cache["A2"], cache["A3"]
    caches = [((X, np.zeros((A1.shape[0], X.shape[0]))), A1, "tanh"),
              ((A1, cache["W2"]), A2, "tanh"), ((A2, cache["W3"]), A3, "sigmoid")]
    grads = model_backward(A3, Y, caches)
    return {k: v for k, v in grads.items() if k != "dA0"}
'''
    # the delegation is correct, so only the name check stops it
    NB.must_fail("test_backward_propagation_fixed", {"backward_propagation_fixed": src}, "model_backward")


@pytest.mark.parametrize("db3, tanh1", [
    ("dZ3.mean(axis=1, keepdims=True)", "1 - np.power(A1, 2)"),
    ("np.sum(dZ3, axis=1).reshape(-1, 1) * (1.0 / m)", "(1 - A1) * (1 + A1)"),
], ids=["mean-power", "reshape-factored"])
def test_backward_fixed_accepts_other_styles(db3, tanh1):
    NB.must_pass("test_backward_propagation_fixed",
           {"backward_propagation_fixed": FIXED.format(db3=db3, tanh1=tanh1)})


# ---------------------------------------------------------------- issue 16, a second set
def _edit(src, replace):
    """``src`` with each (old, new) replacement made; ``old`` must be there."""
    for old, new in replace:
        assert old in src, old
        src = src.replace(old, new)
    return src


def _c1(approx=GOOD_APPROX, difference=GOOD_DIFF, replace=()):
    return _edit(CHECK_1D.format(approx=approx, difference=difference), replace)


def _cn(replace=(), **parts):
    return _edit(check_n(**parts), replace)


def _fixed(replace=(), db3=DB3, tanh1=TANH1):
    return _edit(FIXED.format(db3=db3, tanh1=tanh1), replace)


NUMERATOR = "numerator = np.linalg.norm(grad - gradapprox)"
ON_GLOBALS = [(f"forward_propagation_n(X, Y, vector_to_dictionary(theta_{s}",
               f"forward_propagation_n(X_check, Y_check, vector_to_dictionary(theta_{s}") for s in ("plus", "minus")]
MORE_MUTANTS = [  # (function, source, keyword of the message)
    ("forward_propagation_1d", ONE_D.format(J="x ** theta", dtheta="x"), "theta * x = 10"),
    ("forward_propagation_1d", ONE_D.format(J="theta * x", dtheta="x * theta"), "dJ/dtheta = x = 2"),
    ("forward_propagation_1d", ONE_D.format(J="10.0", dtheta="2.0"), "should be"),  # the visible values
    ("forward_propagation_1d", ONE_D.format(J="theta * abs(x)", dtheta="abs(x)"), "should be"),
    ("gradient_check_1d", _c1(approx="(J_plus - J_minus) / 2 * epsilon"), "`/ 2 * epsilon` multiplies"),
    ("gradient_check_1d", _c1(approx="(J_plus - J_minus) / (2 * 1e-7)", replace=[
        ("theta + epsilon", "theta + 1e-7"), ("theta - epsilon", "theta - 1e-7")]),
     "does not depend on epsilon"),  # once told to call forward_propagation_1d (it does)
    ("gradient_check_1d", _c1(replace=[("backward_propagation_1d(x, theta)", "backward_propagation_1d(x, theta + epsilon)")]),
     "at theta itself"),  # once told to call forward_propagation_1d (it does)
    ("gradient_check_1d", _c1(difference="(grad - gradapprox) ** 2 / (grad ** 2 + gradapprox ** 2)"),
     "squared values"),
    ("gradient_check_1d", _c1(difference="abs(grad - gradapprox) / (grad + gradapprox)"), "absolute values"),
    ("gradient_check_1d", _c1(difference="abs(grad - gradapprox) / abs(grad) + abs(gradapprox)"), "at most 1"),
    ("gradient_check_1d", _c1(difference="abs(abs(grad) - abs(gradapprox)) / (abs(grad) + abs(gradapprox))"),
     "absolute values"),
    ("gradient_check_1d", _c1(approx="(J - J_minus) / epsilon"), "one-sided"),
    ("gradient_check_1d", _c1(replace=[("forward_propagation_1d(x, theta + epsilon)", "forward_propagation_1d(x + epsilon, theta)"),
                                       ("forward_propagation_1d(x, theta - epsilon)", "forward_propagation_1d(x - epsilon, theta)")]),
     "should be tiny"),  # nudges x, not theta
    ("gradient_check_1d", _c1(approx="(J_plus - J_minus) / (2 * 1e-7)"), "check each part"),
    ("gradient_check_1d", _c1(difference="[abs(grad - gradapprox) / (abs(grad) + abs(gradapprox))]"),
     "one finite number"),
    ("gradient_check_1d", _c1(difference="abs(grad - gradapprox) / (abs(grad) + abs(gradapprox)) < 1e-7"),
     "not the result of comparing"),
    ("gradient_check_n", _cn(approx="(J_plus - J_minus) / 2 * epsilon"), "`/ 2 * epsilon` multiplies"),
    ("gradient_check_n", _cn([(NUMERATOR, NUMERATOR[:-1] + ", 1)")]), "a 1-norm in the numerator"),
    ("gradient_check_n", _cn([(NUMERATOR, NUMERATOR + " ** 2")]), "a squared numerator"),
    ("gradient_check_n", _cn(denominator="np.linalg.norm(grad, 1) + np.linalg.norm(gradapprox, 1)"),
     "1-norms in the denominator"),  # these three were told "check that gradapprox[i] nudges only entry i"
    ("gradient_check_n", _cn([("for i in range(n):", "for i in range(n - 1):")]), "for every i in range"),
    ("gradient_check_n", _cn([("vector_to_dictionary(theta_plus, layout)", "parameters"),
                              ("vector_to_dictionary(theta_minus, layout)", "parameters")]),
     "costs at the nudged parameters"),
    ("gradient_check_n", _cn(ON_GLOBALS), "pass it the X and Y arguments"),  # once "your `forward_propagation_n` raised"
    ("gradient_check_n", _cn(nudge="theta_plus = np.copy(theta); theta_plus[i] += epsilon; "
                                   "theta_minus = np.copy(theta_plus); theta_minus[i] -= epsilon"), "about 1/3"),
    ("gradient_check_n", _cn(nudge="theta_plus = np.copy(theta); theta_plus[i] += epsilon; "
                                   "theta_minus = np.copy(theta); theta_minus[i] -= 2 * epsilon"), "one coordinate"),
    ("gradient_check_n", _cn([("grad = gradients_to_vector(gradients, layout)",
                               "gradients.pop('dA0', None); grad = gradients_to_vector(gradients, layout)")]),
     "changed its argument gradients"),
    ("gradient_check_n", _cn([("return numerator / (", "return np.array([numerator]) / (")]), "one finite number"),
    ("gradient_check_n", _cn([("return numerator / (", "return numerator, (")]), "one finite number"),
    ("gradient_check_n", _cn(approx="(J - J_minus) / epsilon"), "one-sided"),
    ("gradient_check_n", _cn(nudge="theta_plus = np.copy(theta); theta_plus[i] = epsilon; "
                                   "theta_minus = np.copy(theta); theta_minus[i] = -epsilon"), "only entry i changed"),
    ("gradient_check_n", _cn([("        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)",
                               "        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)\n"
                               "        return np.linalg.norm(grad - gradapprox) / np.linalg.norm(grad)")]),
     "no early return"),
    ("gradient_check_n", _cn([("gradapprox = np.zeros((n, 1))", "gradapprox = np.zeros(n)")]), "the same shape"),
    ("gradient_check_n", _cn([("gradapprox = np.zeros((n, 1))", "gradapprox = np.zeros((n, 1), dtype=int)")]),
     "gradapprox holds floats"),
    ("backward_propagation_fixed", _fixed([("dW2 = dZ2 @ A1.T / m", "dW2 = dZ2 @ A1.T / m * 2")]), "dW2 = dZ2 A1^T / m"),
    ("backward_propagation_fixed", _fixed([("* (1 - A2**2)", "* (1 - A2)")]), "dZ2 = dA2 * (1 - A2**2)"),
    ("backward_propagation_fixed", _fixed(tanh1="(A1 > 0)"), "dZ1 = dA1 * (1 - A1**2)"),
    ("backward_propagation_fixed", _fixed(tanh1="1 - np.tanh(A1) ** 2"), "derivative of tanh"),
    ("backward_propagation_fixed", _fixed([("db2 = np.sum(dZ2, axis=1, keepdims=True) / m",
                                            "db2 = np.sum(dZ2, axis=1, keepdims=True)")]), "averaged over the m"),
    ("backward_propagation_fixed", _fixed(db3="np.sum(dZ3) / m"), "expected (1, 1)"),
    ("backward_propagation_fixed", _fixed([("dZ1 = (W2.T @ dZ2)", "A1 **= 2; dZ1 = (W2.T @ dZ2)")], tanh1="1 - A1"),
     "changed its argument cache['A1']"),
    ("backward_propagation_fixed", _fixed([("dZ3 = A3 - Y", "dZ3 = A3; dZ3 -= Y")]), "changed its argument cache['A3']"),
    ("backward_propagation_fixed", _fixed([("dZ3 = A3 - Y", "dZ3 = A3 - Y_check[:, :1]")]),
     "the given output layer was right"),  # was also told about tanh and db3's average
    ("backward_propagation_fixed", _fixed([("m = X.shape[1]", "m = X.shape[0]")]), "m = X.shape[1]"),
]
MORE_STYLES = [  # (function, source): correct in another way
    ("forward_propagation_1d", ONE_D.format(J="np.multiply(theta, x)", dtheta="float(x)")),
    ("gradient_check_1d", _c1(difference="np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))")),
    ("gradient_check_1d", '''
def gradient_check_1d(x, theta, epsilon=1e-7):
    Jp, Jm = (forward_propagation_1d(x, t) for t in theta + epsilon * np.array([1.0, -1.0]))
    gradapprox = (Jp - Jm) / (2 * epsilon)
    grad = backward_propagation_1d(x=x, theta=theta)
    return float(np.abs(grad - gradapprox) / (np.abs(grad) + np.abs(gradapprox)))
'''),
    ("gradient_check_1d", _c1(approx="0.5 * (J_plus - J_minus) / epsilon",
                              difference="np.sqrt((grad - gradapprox) ** 2) / (np.sqrt(grad ** 2) + np.sqrt(gradapprox ** 2))")),
    ("gradient_check_n", _cn([(NUMERATOR, "numerator = np.sqrt(np.sum(np.square(grad - gradapprox)))")],
                             denominator="np.linalg.norm(grad.ravel(), 2) + np.linalg.norm(gradapprox.ravel(), 2)")),
    ("gradient_check_n", _cn([("gradapprox = np.zeros((n, 1))", "gradapprox = np.zeros_like(theta)")],
                             nudge="theta_plus = theta.copy(); theta_minus = theta.copy(); "
                                   "theta_plus[i, 0] = theta[i, 0] + epsilon; theta_minus[i, 0] = theta[i, 0] - epsilon")),
    ("gradient_check_n", '''
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
    theta, layout = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients, layout).flatten()
    approx = np.empty(len(grad))
    for i in range(len(grad)):
        step = np.zeros_like(theta)
        step[i] = epsilon
        Jp = forward_propagation_n(X, Y, vector_to_dictionary(theta + step, layout))[0]
        Jm = forward_propagation_n(X, Y, vector_to_dictionary(theta - step, layout))[0]
        approx[i] = (Jp - Jm) / (2 * epsilon)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))
'''),
    ("gradient_check_n", _cn([("J_plus, _ = forward_propagation_n(X, Y, vector_to_dictionary(theta_plus, layout))",
                               "J_plus = forward_propagation_n(X=X, Y=Y, parameters=vector_to_dictionary(theta_plus, layout))[0]")])),
    ("backward_propagation_fixed", _fixed([("dW3 = dZ3 @ A2.T / m", "dW3 = np.dot(dZ3, A2.T) / m")], tanh1="1 - A1 * A1")),
    ("backward_propagation_fixed", _fixed([("dW1 = dZ1 @ X.T / m", "dW1 = np.einsum('im,jm->ij', dZ1, X) / m")],
                                          db3="np.mean(dZ3, axis=1, keepdims=True)")),
]


@pytest.mark.parametrize("function,src,keyword", MORE_MUTANTS, ids=[f"{m[0][:10]}-{i}" for i, m in enumerate(MORE_MUTANTS)])
def test_more_mistakes_fail_naming_the_mistake(function, src, keyword):
    NB.must_fail(f"test_{function}", {function: src}, keyword)


@pytest.mark.parametrize("function,src", MORE_STYLES, ids=[f"{m[0][:10]}-{i}" for i, m in enumerate(MORE_STYLES)])
def test_more_correct_styles_pass(function, src):
    NB.must_pass(f"test_{function}", {function: src})


# ---------------------------------------------------------------- explorer module
@pytest.fixture(scope="module")
def ns():
    return NB.namespace()


def problem(ns):
    return ns["parameters_check"], ns["X_check"], ns["Y_check"]


def test_verdict_reads_the_thresholds():
    assert verdict(3e-9).startswith("fine")
    assert verdict(2e-5).startswith("look closer")
    assert "bug" in verdict(0.2)
    assert "not a finite" in verdict(float("nan"))


def test_check_each_parameter_locates_the_planted_bugs(ns):
    P, X, Y = problem(ns)
    forward = ns[FORWARD_NAME]
    _, cache = forward(X, Y, P)
    P0 = copy.deepcopy(P)
    buggy = check_each_parameter(ns["gradient_check_n"], P, ns["backward_propagation_n"](X, Y, cache),
                                 X, Y)
    assert list(buggy) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert {k for k, d in buggy.items() if d > 1e-3} == {"W1", "b1", "b3"}
    assert all(buggy[k] < 1e-7 for k in ("W2", "b2", "W3"))
    fixed = check_each_parameter(ns["gradient_check_n"], P, ns["backward_propagation_fixed"](X, Y, cache),
                                 X, Y)
    assert max(fixed.values()) < 1e-7
    assert ns[FORWARD_NAME] is forward, "the notebook's forward pass was not put back"
    assert all(np.array_equal(P[k], P0[k]) for k in P0)


def test_using_forward_restores_after_an_error(ns):
    forward = ns[FORWARD_NAME]
    P, X, Y = problem(ns)
    zeros = {f"d{k}": np.zeros_like(v) for k, v in P.items()}
    with pytest.raises(ZeroDivisionError), using_forward(ns["gradient_check_n"], lambda *a: 1 / 0):
        ns["gradient_check_n"](P, zeros, X, Y)
    assert ns[FORWARD_NAME] is forward


def test_plot_breakdown_draws_one_bar_per_array_and_pass(ns):
    import matplotlib.pyplot as plt

    d = {k: 10.0 ** -i for i, k in enumerate(["W1", "b1", "W2", "b2", "W3", "b3"])}
    ax = plot_breakdown({"buggy": d, "fixed": {k: 1e-9 for k in d}})
    assert sum(len(bars) for bars in ax.containers) == 12 and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"d{k}" for k in d]
    plt.close(ax.figure)


def test_explore_epsilon_draws_slopes_and_moves_with_the_slider(ns):
    P, X, Y = problem(ns)
    ex = explore_epsilon(ns["gradient_check_n"], ns["backward_propagation_fixed"], P, X, Y,
                         show=False)
    (result,) = ex.cache["curves"].values()
    eps, c, o = result["epsilon"], result["centred"], result["one_sided"]
    assert eps[0] == pytest.approx(1e-12) and eps[-1] == pytest.approx(1e-1)
    # truncation slopes 2 (centred) and 1 (one-sided) at large ε, round-off slope -1 at small ε
    big = (eps >= 1e-4) & (eps <= 1e-2)
    assert np.polyfit(np.log10(eps[big]), np.log10(c[big]), 1)[0] == pytest.approx(2, abs=0.2)
    assert np.polyfit(np.log10(eps[big]), np.log10(o[big]), 1)[0] == pytest.approx(1, abs=0.2)
    small = eps <= 1e-9
    assert np.polyfit(np.log10(eps[small]), np.log10(c[small]), 1)[0] == pytest.approx(-1, abs=0.3)
    assert c.min() < o.min() and eps[c.argmin()] > eps[o.argmin()]
    first = ex.png
    assert first[:4] == b"\x89PNG" and ex.message == ""
    ex.set(epsilon=1e-3)
    assert ex.png != first and len(ex.cache["curves"]) == 1 and ex.renders == 2


def test_explore_epsilon_is_friendly_before_the_exercises_are_done():
    stub = "def {0}(*args, **kwargs):\n    raise NotImplementedError()\n"
    ns = NB.namespace({"backward_propagation_fixed": stub.format("backward_propagation_fixed"),
                        "gradient_check_n": stub.format("gradient_check_n")})
    ex = explore_epsilon(ns["gradient_check_n"], ns["backward_propagation_fixed"],
                         ns["parameters_check"], ns["X_check"], ns["Y_check"], show=False)
    assert "Not yet" in ex.message and "backward_propagation_fixed" in ex.message
    assert "Traceback" not in ex.message


def test_explore_epsilon_names_gradient_check_n_when_only_it_is_missing(ns):
    def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):
        raise NotImplementedError()

    gradient_check_n.__globals__[FORWARD_NAME] = ns[FORWARD_NAME]  # this test module's globals
    try:
        P, X, Y = problem(ns)
        ex = explore_epsilon(gradient_check_n, ns["backward_propagation_fixed"], P, X, Y, show=False)
        assert "gradient_check_n" in ex.message and "Not yet" in ex.message
    finally:
        del gradient_check_n.__globals__[FORWARD_NAME]


def test_a_check_returning_nan_is_drawn_with_a_note_not_a_crash():
    from matplotlib.figure import Figure

    eps = np.logspace(-12, -1, 45)
    result = {"epsilon": eps, "centred": np.full(45, np.nan), "one_sided": eps.copy()}
    fig = Figure()
    plot_epsilon(fig, result, {"epsilon": 1e-7})
    title = fig.axes[0].get_title()
    assert "not a finite positive number: centred" in title and "one-sided" in title


def test_explore_epsilon_pictures_follow_the_slider(ns):
    P, X, Y = problem(ns)
    ex = explore_epsilon(ns["gradient_check_n"], ns["backward_propagation_fixed"], P, X, Y,
                         show=False)
    ex.set(epsilon=1e-3)
    assert "ε = 1e-03" in ex.figure.axes[0].get_title()
    ex.set(epsilon=1e-10)
    assert "ε = 1e-10" in ex.figure.axes[0].get_title() and ex.renders == 3


# ---------------------------------------------------------------- issue 16: no coupling
@pytest.mark.parametrize("J, dtheta", [("theta + x", "x"), ("theta * x", "theta"), ("10.0", "2.0")],
                         ids=["wrong-forward", "wrong-backward", "hard-coded"])
def test_gradient_check_1d_is_judged_alone_with_wrong_1d_functions(J, dtheta):
    """A correct gradient_check_1d keeps its points when exercise 1 is wrong: every check swaps
    in its own cost (it was told 'the difference should be tiny, got 0.5')."""
    NB.must_pass("test_gradient_check_1d", {"forward_propagation_1d": ONE_D.format(J=J, dtheta=dtheta)})
