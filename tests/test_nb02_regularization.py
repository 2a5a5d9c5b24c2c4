"""Notebook 02 (train/dev/test, bias/variance, L2): its autograder cells accept correct solutions
in several styles and reject each classic mistake with a message pointing at it; its explorer
runs the learner's functions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nbtools import Notebook

NB = Notebook("02")
pytestmark = NB.pytestmark


@pytest.fixture(scope="module")
def base_ns():
    return NB.namespace()



def test_structure():
    kinds = {(k, g) for k, g, _ in NB.cells()}
    for fn in ("split_train_dev_test", "diagnose_bias_variance",
               "compute_cost_with_regularization", "backward_propagation_with_regularization"):
        assert ("solution", fn) in kinds
        assert ("test", f"test_{fn}") in kinds
    for _, _, src in NB.cells("solution"):
        assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src


@pytest.mark.parametrize("test_id", [
    "test_split_train_dev_test", "test_diagnose_bias_variance",
    "test_compute_cost_with_regularization", "test_backward_propagation_with_regularization"])
def test_reference_solution_passes(base_ns, test_id):
    NB.must_pass(test_id, ns=base_ns)


# ---------------------------------------------------------------- split_train_dev_test
SPLIT_HEAD = '''
def split_train_dev_test(X, Y, fractions, rng):
    m = X.shape[1]
'''
SPLIT_TAIL = '''
    m_train = int(round(fractions[0] * m)); m_dev = int(round(fractions[1] * m))
    a, b = m_train, m_train + m_dev
    return Xs[:, :a], Ys[:, :a], Xs[:, a:b], Ys[:, a:b], Xs[:, b:], Ys[:, b:]
'''
SPLIT_MUTANTS = {
    "no_shuffle": (SPLIT_HEAD + "    Xs, Ys = X, Y\n" + SPLIT_TAIL, "shuffle"),
    "separate_perms": (SPLIT_HEAD + "    Xs, Ys = X[:, rng.permutation(m)], Y[:, rng.permutation(m)]\n"
                       + SPLIT_TAIL, "SAME permutation"),
    "global_random": (SPLIT_HEAD + "    p = np.random.permutation(m)\n    Xs, Ys = X[:, p], Y[:, p]\n"
                      + SPLIT_TAIL, "rng"),
    "drop_remainder": ('''
def split_train_dev_test(X, Y, fractions, rng):
    m = X.shape[1]
    p = rng.permutation(m)
    Xs, Ys = X[:, p], Y[:, p]
    a = int(fractions[0] * m); b = a + int(fractions[1] * m); c = b + int(fractions[2] * m)
    return Xs[:, :a], Ys[:, :a], Xs[:, a:b], Ys[:, a:b], Xs[:, b:c], Ys[:, b:c]
''', "exactly one set"),
    "overlap": ('''
def split_train_dev_test(X, Y, fractions, rng):
    m = X.shape[1]
    p = rng.permutation(m)
    Xs, Ys = X[:, p], Y[:, p]
    a = int(round(fractions[0] * m)); d = int(round(fractions[1] * m))
    return Xs[:, :a], Ys[:, :a], Xs[:, a - d:a], Ys[:, a - d:a], Xs[:, a + d:], Ys[:, a + d:]
''', "appear twice"),
    # issue 16: shuffles the caller's arrays in place, returns the right sets
    "shuffles_in_place": ('''
def split_train_dev_test(X, Y, fractions, rng):
    m = X.shape[1]
    p = rng.permutation(m)
    X[:] = X[:, p]
    Y[:] = Y[:, p]
    a = round(fractions[0] * m); b = a + round(fractions[1] * m)
    return X[:, :a].copy(), Y[:, :a].copy(), X[:, a:b].copy(), Y[:, a:b].copy(), X[:, b:].copy(), Y[:, b:].copy()
''', "changed its argument X"),
    # issue 16: int() where the docstring says round() (caught on a fractional part >= .5)
    "int_instead_of_round": ('''
def split_train_dev_test(X, Y, fractions, rng):
    m = X.shape[1]
    p = rng.permutation(m)
    a = int(fractions[0] * m); b = a + int(fractions[1] * m)
    return X[:, p][:, :a], Y[:, p][:, :a], X[:, p][:, a:b], Y[:, p][:, a:b], X[:, p][:, b:], Y[:, p][:, b:]
''', "use round(), not int()"),
}


# issue 16: the documented rule "a gap larger than the threshold" tested on the boundary, and
# a dev error below the train error (no abs() of the gap).
DIAG_HEAD = "def diagnose_bias_variance(train_error, dev_error, base_error, threshold=0.05):\n"
BOUNDARY_MUTANTS = {
    "greater_or_equal": (DIAG_HEAD + """
    b = train_error - base_error >= threshold
    v = dev_error - train_error >= threshold
    return {(1, 1): "high bias and high variance", (1, 0): "high bias", (0, 1): "high variance",
            (0, 0): "good fit"}[(b, v)]
""", "use >, not >="),
    "absolute_gap": (DIAG_HEAD + """
    b = abs(train_error - base_error) > threshold
    v = abs(dev_error - train_error) > threshold
    return {(1, 1): "high bias and high variance", (1, 0): "high bias", (0, 1): "high variance",
            (0, 0): "good fit"}[(b, v)]
""", "don't take abs()"),
    "fixed_threshold": (DIAG_HEAD + """
    b = train_error - base_error > 0.05
    v = dev_error - train_error > 0.05
    return {(1, 1): "high bias and high variance", (1, 0): "high bias", (0, 1): "high variance",
            (0, 0): "good fit"}[(b, v)]
""", "threshold argument"),
}


@pytest.mark.parametrize("name", sorted(BOUNDARY_MUTANTS))
def test_diagnose_boundary_mutants_fail(name):
    src, keyword = BOUNDARY_MUTANTS[name]
    msg = NB.must_fail("test_diagnose_bias_variance", {"diagnose_bias_variance": src}, keyword)
    if name != "greater_or_equal":
        assert ">=" not in msg, f"{name} is told about >= although it used >: {msg}"


def test_diagnose_with_if_chain_passes():
    ok, msg = NB.run_test("test_diagnose_bias_variance", {"diagnose_bias_variance": DIAG_HEAD + """
    bias, variance = train_error - base_error, dev_error - train_error
    if bias > threshold:
        return "high bias and high variance" if variance > threshold else "high bias"
    return "high variance" if variance > threshold else "good fit"
"""})
    assert ok, msg


SPLIT_ALTERNATIVES = [
    # np.split on a permutation of indices, labels via take
    '''
def split_train_dev_test(X, Y, fractions, rng):
    m = X.shape[1]
    idx = rng.permutation(m)
    cuts = [round(fractions[0] * m), round(fractions[0] * m) + round(fractions[1] * m)]
    tr, dv, te = np.split(idx, cuts)
    return (np.take(X, tr, axis=1), np.take(Y, tr, axis=1), np.take(X, dv, axis=1),
            np.take(Y, dv, axis=1), np.take(X, te, axis=1), np.take(Y, te, axis=1))
''',
    # shuffle a copy of the stacked data in place, floor for dev size, loop over parts
    '''
def split_train_dev_test(X, Y, fractions, rng):
    data = np.vstack([X, Y]).T.copy()
    rng.shuffle(data)
    data = data.T
    n_x, m = X.shape[0], X.shape[1]
    sizes = [int(np.round(fractions[0] * m)), int(np.floor(fractions[1] * m + 0.5))]
    sizes.append(m - sum(sizes))
    out, start = [], 0
    for s in sizes:
        part = data[:, start:start + s]
        out += [part[:n_x], part[n_x:]]
        start += s
    return tuple(out)
''',
]


@pytest.mark.parametrize("i", range(len(SPLIT_ALTERNATIVES)))
def test_split_alternatives_pass(i):
    NB.must_pass("test_split_train_dev_test", {"split_train_dev_test": SPLIT_ALTERNATIVES[i]})


# ---------------------------------------------------------------- diagnose_bias_variance
DIAG = '''
def diagnose_bias_variance(train_error, dev_error, base_error, threshold=0.05):
    bias = {bias}
    var = {var}
    if bias > {thr} and var > {thr}:
        return "high bias and high variance"
    if bias > {thr}:
        return "high bias"
    if var > {thr}:
        return "high variance"
    return "good fit"
'''
DIAG_MUTANTS = {
    "variance_vs_base": (DIAG.format(bias="train_error - base_error", var="dev_error - base_error",
                                     thr="threshold"), "TRAIN error"),
    "ignores_base": (DIAG.format(bias="train_error", var="dev_error - train_error",
                                 thr="threshold"), "ignore base_error"),
    "fixed_threshold": (DIAG.format(bias="train_error - base_error",
                                    var="dev_error - train_error", thr="0.05"), "threshold argument"),
    "swapped": (DIAG.format(bias="dev_error - train_error", var="train_error - base_error",
                            thr="threshold"), "high variance"),
}


def test_diagnose_alternative_passes():
    src = '''
def diagnose_bias_variance(train_error, dev_error, base_error, threshold=0.05):
    labels = {(False, False): "good fit", (True, False): "high bias",
              (False, True): "high variance", (True, True): "high bias and high variance"}
    return labels[(bool(train_error - base_error > threshold),
                   bool(dev_error - train_error > threshold))]
'''
    NB.must_pass("test_diagnose_bias_variance", {"diagnose_bias_variance": src})


# ---------------------------------------------------------------- compute_cost_with_regularization
COST = '''
def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = Y.shape[1]
    ce = binary_cross_entropy(AL, Y)
    L = len([k for k in parameters if k.startswith("W")])
    Ws = [parameters["W" + str(l)] for l in range(1, L + 1)]
    return ce + {penalty}
'''
COST_MUTANTS = {
    "lambda_over_m": ("lambd / m * sum(np.sum(W ** 2) for W in Ws)", "twice too big"),
    "missing_1_over_m": ("lambd / 2 * sum(np.sum(W ** 2) for W in Ws)", "1/m is missing"),
    "biases_included": ("lambd / (2 * m) * sum(np.sum(v ** 2) for v in parameters.values())",
                        "includes the biases"),
    "last_layer_only": ("lambd / (2 * m) * np.sum(Ws[-1] ** 2)", "only the last layer"),
    "fixed_three_layers": ("lambd / (2 * m) * sum(np.sum(parameters[k] ** 2) for k in "
                           "('W1', 'W2', 'W3') if k in parameters)", "every layer"),
    "norm_not_squared": ("lambd / (2 * m) * sum(np.linalg.norm(W) for W in Ws)", "square"),
    "missing_cross_entropy": ("lambd / (2 * m) * sum(np.sum(W ** 2) for W in Ws) - ce",
                              "plain cross-entropy"),
}


COST_ALTERNATIVES = [
    # own cross-entropy, Frobenius norm squared, loop over sorted keys
    '''
def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(AL), Y) + np.multiply(-np.log(1 - AL), 1 - Y)
    cost = np.sum(logprobs) / m
    l2 = 0
    for key in sorted(parameters):
        if key[0] == "W":
            l2 = l2 + np.linalg.norm(parameters[key], "fro") ** 2
    return cost + (1 / m) * (lambd / 2) * l2
''',
    # vectorised with einsum and a dot product
    '''
def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = AL.shape[1]
    cross = -(np.dot(Y, np.log(AL).T) + np.dot(1 - Y, np.log(1 - AL).T)).item() / m
    penalty = sum(np.einsum("ij,ij->", v, v) for k, v in parameters.items() if k.startswith("W"))
    return cross + lambd * penalty / (2 * m)
''',
]


@pytest.mark.parametrize("i", range(len(COST_ALTERNATIVES)))
def test_cost_alternatives_pass(i):
    ok, msg = NB.run_test("test_compute_cost_with_regularization",
                    {"compute_cost_with_regularization": COST_ALTERNATIVES[i]})
    assert ok, msg


# ---------------------------------------------------------------- backward_propagation_with_regularization
BACK = '''
def backward_propagation_with_regularization(X, Y, cache, lambd):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = dZ3 @ A2.T / m + {r3}
    db3 = np.sum(dZ3, axis=1, keepdims=True) / m {rb}
    dA2 = W3.T @ dZ3
    dZ2 = dA2 * (A2 > 0)
    dW2 = dZ2 @ A1.T / m + {r2}
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = W2.T @ dZ2
    dZ1 = dA1 * (A1 > 0)
    dW1 = dZ1 @ X.T / {m1} + {r1}
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {{"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}}
'''
OK = dict(r1="lambd / m * W1", r2="lambd / m * W2", r3="lambd / m * W3", rb="", m1="m")
BACK_MUTANTS = {
    "missing_in_layer_2": (dict(OK, r2="0"), "dW2 is missing the regularization term"),
    "missing_everywhere": (dict(OK, r1="0", r2="0", r3="0"), "missing the regularization term"),
    "half_term": (dict(OK, r1="lambd / (2 * m) * W1", r2="lambd / (2 * m) * W2",
                       r3="lambd / (2 * m) * W3"), "not (lambd / (2 m)) W"),
    "missing_1_over_m": (dict(OK, r1="lambd * W1", r2="lambd * W2", r3="lambd * W3"),
                         "1/m is missing"),
    "bias_regularized": (dict(OK, rb="+ lambd / m * b3"), "biases are not regularized"),
    "plain_backprop_wrong": (dict(OK, m1="1"), "check the plain backprop"),
}


# ---------------------------------------------------------------- issue 16, a second set
# More learner mistakes (each with a keyword of the message it must get) and correct styles,
# written from four templates: a change of one expression each.
def _split(perm="rng.permutation(m)", mtr="round(fractions[0] * m)", mdv="round(fractions[1] * m)",
           m="X.shape[1]", body="Xs, Ys = X[:, p], Y[:, p]",
           ret="Xs[:, :a], Ys[:, :a], Xs[:, a:b], Ys[:, a:b], Xs[:, b:], Ys[:, b:]"):
    return (f"def split_train_dev_test(X, Y, fractions, rng):\n    m = {m}\n    p = {perm}\n    {body}\n"
            f"    a = int({mtr})\n    b = a + int({mdv})\n    return {ret}\n")


def _diag(bias="train_error - base_error", var="dev_error - train_error", cmp=">", thr="threshold",
          labels=("high bias and high variance", "high bias", "high variance"), default="0.05"):
    return (f"def diagnose_bias_variance(train_error, dev_error, base_error, threshold={default}):\n"
            f"    b = {bias} {cmp} {thr}\n    v = {var} {cmp} {thr}\n"
            f"    if b and v:\n        return {labels[0]!r}\n    if b:\n        return {labels[1]!r}\n"
            f"    if v:\n        return {labels[2]!r}\n    return 'good fit'\n")


def _cost(penalty, m="Y.shape[1]", ce="binary_cross_entropy(AL, Y)"):
    return (f"def compute_cost_with_regularization(AL, Y, parameters, lambd):\n    m = {m}\n"
            "    Ws = [v for k, v in parameters.items() if k.startswith('W')]\n"
            f"    return float({ce} + {penalty})\n")


def _back(r="lambd / m * W{l}", relu="(A{l} > 0)", db="np.sum(dZ{l}, axis=1, keepdims=True) / m",
          first="pass"):
    lines = ["def backward_propagation_with_regularization(X, Y, cache, lambd):", "    m = X.shape[1]",
             "    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache", "    " + first,
             "    dZ3 = A3 - Y"]
    for l, prev in ((3, "A2"), (2, "A1"), (1, "X")):
        if l < 3:
            lines.append(f"    dZ{l} = (W{l + 1}.T @ dZ{l + 1}) * " + relu.format(l=l))
        lines += [f"    dW{l} = dZ{l} @ {prev}.T / m + " + r.format(l=l), f"    db{l} = " + db.format(l=l)]
    return "\n".join(lines) + '\n    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}\n'


SQ = "sum(np.sum(W ** 2) for W in Ws)"
MORE_MUTANTS = [  # (function, source, keyword)
    ("split_train_dev_test", _split(m="X.shape[0]"), "m is X.shape[1]"),
    ("split_train_dev_test", _split(ret="Xs[:, :a], Xs[:, a:b], Xs[:, b:], Ys[:, :a], Ys[:, a:b], Ys[:, b:]"),
     "in another order"),  # once told "cut columns, not rows"
    ("split_train_dev_test", _split(body="X[:] = X[:, p]; Y[:] = Y[:, p]; Xs, Ys = X, Y"), "changed its argument X"),
    ("split_train_dev_test", _split(mdv="round((fractions[0] + fractions[1]) * m) - round(fractions[0] * m)"),
     "round(0.2 * 7)"),
    ("split_train_dev_test", _split(mtr="np.ceil(fractions[0] * m)"), "round(0.7 * 9)"),
    ("split_train_dev_test", _split(ret="Xs[:, :a], Ys[:, :a], Xs[:, a + 1:b], Ys[:, a + 1:b], Xs[:, b:], Ys[:, b:]"),
     "none dropped"),
    ("split_train_dev_test", _split(perm="rng.choice(m, m)"), "appear twice"),
    ("split_train_dev_test", _split(perm="np.random.default_rng(0).permutation(m)"), "rng argument"),
    ("split_train_dev_test", _split(ret="Xs[:, :a], Ys[:, :a], Xs[:, a:b], Ys[:, a:b], "
                                        "Xs[:, b:b + round(fractions[2] * m)], Ys[:, b:b + round(fractions[2] * m)]"),
     "none dropped"),
    ("split_train_dev_test", _split(mdv="round(fractions[2] * m)"), "round(0.2 * 9)"),
    ("split_train_dev_test", _split(perm="np.sort(rng.permutation(m))"), "just the first 60"),
    ("split_train_dev_test", _split(perm="rng.permutation(X.shape[0])", body="Xs, Ys = X[p], Y"),
     "not the rows (features)"),  # once told "the labels no longer belong to their examples"
    ("diagnose_bias_variance", _diag(bias="100 * (train_error - base_error)",
                                     var="100 * (dev_error - train_error)"), "10 points above train"),
    ("diagnose_bias_variance", _diag(labels=("High bias and high variance", "High bias", "High variance")),
     "return exactly one of"),
    ("diagnose_bias_variance", _diag(labels=("high variance and high bias", "high bias", "high variance")),
     "return exactly one of"),
    ("diagnose_bias_variance", _diag(default="0.1"), "10 points above train"),
    ("diagnose_bias_variance", _diag(cmp=">="), "use >, not >="),
    ("diagnose_bias_variance", _diag(bias="abs(train_error - base_error)"), "below the base error"),
    ("diagnose_bias_variance", _diag(thr="threshold * 100"), "10 points above train"),
    ("diagnose_bias_variance", _diag(labels=("high bias", "high bias", "high variance")), "both gaps are large"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * " + SQ, m="AL.shape[0]"), "1/m is missing"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.sum(W) ** 2 for W in Ws)"),
     "squares the sum"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.linalg.norm(W, 2) ** 2 for W in Ws)"),
     "spectral norm"),  # visible weights were constant (rank 1): passed the visible checks
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.sum(W @ W.T) for W in Ws)"),
     "it should be lambd / (2 m)"),
    ("compute_cost_with_regularization", _cost("lambd / 2 * m * " + SQ), "lambd / 2 * m multiplies by m"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.sum(v ** 2) for k, v in "
                                               "parameters.items() if k.startswith('w'))"), "is 0;"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * " + SQ, m="X_train.shape[1]"),
     "it should be lambd / (2 m)"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.sum(parameters['W%d' % l] ** 2) "
                                               "for l in range(1, len(parameters) // 2))"), "the last layer is missing"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * " + SQ, ce="-np.mean(Y * np.log(AL))"),
     "plain cross-entropy"),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.mean(W ** 2) for W in Ws)"),
     "np.mean(W ** 2) divides"),
    ("compute_cost_with_regularization", """
def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = Y.shape[1]
    squares = 0.0
    for l in range(1, len(parameters) // 2 + 1):
        squares += np.sum(np.square(parameters["W" + str(l)]))
        return float(binary_cross_entropy(AL, Y) + lambd / (2 * m) * squares)
""", "only the first layer is penalized"),
    ("backward_propagation_with_regularization", _back(r="- lambd / m * W{l}"), "wrong sign"),
    ("backward_propagation_with_regularization", _back(first="m = Y.shape[0]"), "the 1/m"),
    ("backward_propagation_with_regularization",
     _back(r="0", first="[W.__isub__(-lambd / m * W) for W in (W1, W2, W3)]"), "changed its argument cache"),
    ("backward_propagation_with_regularization", _back(relu="(A{l} >= 0)"), "the ReLU derivative"),
    ("backward_propagation_with_regularization", _back(db="np.sum(dZ{l}, axis=1) / m"), "expected (4, 1)"),
    ("backward_propagation_with_regularization", _back(db="np.sum(dZ{l}, axis=0, keepdims=True) / m"),
     "expected (4, 1)"),
    ("backward_propagation_with_regularization", _back(r="lambd / m * np.sign(W{l})"), "wrong amount"),
    ("backward_propagation_with_regularization",
     _back(db="np.sum(dZ{l}, axis=1, keepdims=True) / m + lambd / m * b{l}"), "biases are not regularized"),
    ("backward_propagation_with_regularization", _back(r="lambd / m * W{l} * ({l} == 3)"),
     "dW1 is missing the regularization term"),
    ("backward_propagation_with_regularization", _back(r="lambd * W{l} / (2 * m)"), "not (lambd / (2 m)) W"),
    ("backward_propagation_with_regularization", _back().replace('"dW1": dW1', '"dw1": dW1'), "has keys"),
]
MORE_STYLES = [  # (function, source): correct in another way
    ("split_train_dev_test", _split(perm="rng.choice(m, size=m, replace=False)")),
    ("split_train_dev_test", _split(body="Xs, Ys = X.T[p].T, Y.T[p].T")),
    ("split_train_dev_test", _split(perm="np.arange(m)", body="rng.shuffle(p); Xs, Ys = X[:, p], Y[:, p]")),
    ("split_train_dev_test", _split(body="Xs, Ys = np.take(X, p, axis=1), np.take(Y, p, axis=1)",
                                    mtr="np.round(fractions[0] * m)", mdv="np.round(fractions[1] * m)")),
    ("diagnose_bias_variance", _diag(bias="max(0.0, train_error - base_error)", var="max(0.0, dev_error - train_error)")),
    ("diagnose_bias_variance", _diag(bias="round(train_error - base_error, 10)", var="round(dev_error - train_error, 10)")),
    ("diagnose_bias_variance", _diag(bias="-(base_error - train_error)", var="-(train_error - dev_error)",
                                     cmp="- threshold >", thr="0")),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.linalg.norm(W) ** 2 for W in Ws)")),
    ("compute_cost_with_regularization", _cost("lambd / (2 * m) * sum(np.trace(W.T @ W) for W in Ws)", m="AL.shape[1]")),
    ("compute_cost_with_regularization", _cost("(lambd / m) * 0.5 * sum(np.square(parameters['W' + str(l)]).sum() "
                                               "for l in range(1, len(parameters) // 2 + 1))")),
    ("compute_cost_with_regularization", _cost("lambd * sum((W * W).sum() for W in Ws) / (2 * m)",
                                               ce="-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m")),
    ("backward_propagation_with_regularization", _back(relu="(Z{l} > 0)")),
    ("backward_propagation_with_regularization", _back(r="lambd * W{l} / m", relu="np.heaviside(Z{l}, 0)")),
    ("backward_propagation_with_regularization", _back(r="(lambd / m) * W{l}", db="dZ{l}.mean(axis=1, keepdims=True)")),
    ("backward_propagation_with_regularization", _back(relu="np.int64(A{l} > 0)")),
    # intermediate gradients kept in the dict as well (a backward pass may return them)
    ("backward_propagation_with_regularization", _back().replace('"db3": db3}', '"db3": db3, "dZ3": dZ3, "dZ2": dZ2}')),
]


@pytest.mark.parametrize("function,src", MORE_STYLES, ids=[f"{f[:8]}-{i}" for i, (f, _) in enumerate(MORE_STYLES)])
def test_more_correct_styles_pass(function, src):
    NB.must_pass(f"test_{function}", {function: src})


def _mistakes():
    """Every mistake of the tables above: (graded function, its wrong source, a keyword that the
    failure message must hold)."""
    tables = [("split_train_dev_test", SPLIT_MUTANTS, str),
              ("diagnose_bias_variance", DIAG_MUTANTS, str),
              ("compute_cost_with_regularization", COST_MUTANTS, lambda p: COST.format(penalty=p)),
              ("backward_propagation_with_regularization", BACK_MUTANTS, lambda f: BACK.format(**f))]
    for function, table, source in tables:
        for name, (change, keyword) in sorted(table.items()):
            yield pytest.param(function, source(change), keyword, id=f"{function[:8]}-{name}")
    for i, (function, src, keyword) in enumerate(MORE_MUTANTS):
        yield pytest.param(function, src, keyword, id=f"{function[:8]}-more{i}")


@pytest.mark.parametrize("function,src,keyword", list(_mistakes()))
def test_each_mistake_fails_with_a_message_naming_it(function, src, keyword):
    NB.must_fail(f"test_{function}", {function: src}, keyword)


def test_backward_is_judged_alone_with_a_wrong_cost():
    """A right backward pass with a wrong cost (λ/m) keeps its points: each exercise's test
    judges only the function it grades (issue 16)."""
    wrong_cost = COST.format(penalty="lambd / m * sum(np.sum(W ** 2) for W in Ws)")
    ok, msg = NB.run_test("test_backward_propagation_with_regularization",
                    {"compute_cost_with_regularization": wrong_cost})
    assert ok, msg


def test_backward_alternative_passes():
    src = '''
def backward_propagation_with_regularization(X, Y, cache, lambd):
    m = X.shape[1]
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3 = cache
    grads = {}
    dZ = A3 - Y
    layers = [(3, A2, W3, None), (2, A1, W2, Z2), (1, X, W1, Z1)]
    Ws = {1: W1, 2: W2, 3: W3}
    Zs = {1: Z1, 2: Z2}
    prev = {3: A2, 2: A1, 1: X}
    for l in (3, 2, 1):
        grads["dW%d" % l] = (np.dot(dZ, prev[l].T) + lambd * Ws[l]) / m
        grads["db%d" % l] = dZ.mean(axis=1).reshape(-1, 1)
        if l > 1:
            dZ = np.dot(Ws[l].T, dZ) * np.where(Zs[l - 1] > 0, 1.0, 0.0)
    return grads
'''
    ok, msg = NB.run_test("test_backward_propagation_with_regularization",
                    {"backward_propagation_with_regularization": src})
    assert ok, msg


# ---------------------------------------------------------------- the explorer
def _fast_explorer(ns, monkeypatch, **overrides):
    import helpers.explorers.regularization as R

    monkeypatch.setattr(R, "LAMBDAS", [0.0, 0.1, 10.0])
    funcs = dict(forward=ns["forward_propagation"], cost=ns["compute_cost_with_regularization"],
                 backward=ns["backward_propagation_with_regularization"],
                 init=ns["glorot_uniform"])
    funcs.update(overrides)
    return R.explore_lambda(ns["X_train"], ns["Y_train"], ns["X_dev"], ns["Y_dev"],
                            num_iterations=200, show=False, **funcs)


def test_explorer_slider_redraws(base_ns, monkeypatch):
    ex = _fast_explorer(base_ns, monkeypatch)
    assert ex.controls["lambd"].values == [0.0, 0.1, 10.0]
    before = ex.png
    assert before and ex.message == ""
    assert ex.set(lambd=10.0) != before
    ex.warm()
    assert len(ex.cache["run"]) == 3 and len(ex.frames) == 3
    norms = {k[0]: sum(r["norms"]) for k, r in ex.cache["run"].items()}
    assert norms[10.0] < norms[0.0], "a large λ must shrink the weights"


def test_explorer_not_done_message(base_ns, monkeypatch):
    def compute_cost_with_regularization(AL, Y, parameters, lambd):
        raise NotImplementedError()

    ex = _fast_explorer(base_ns, monkeypatch, cost=compute_cost_with_regularization)
    assert "Not yet" in ex.message
    assert "compute_cost_with_regularization" in ex.message


def test_explorer_shows_diverged(base_ns, monkeypatch):
    import helpers.explorers.regularization as R

    monkeypatch.setattr(R, "LAMBDAS", [0.0, 0.1])
    ns = base_ns
    ex = R.explore_lambda(ns["X_train"], ns["Y_train"], ns["X_dev"], ns["Y_dev"],
                          forward=ns["forward_propagation"],
                          cost=ns["compute_cost_with_regularization"],
                          backward=ns["backward_propagation_with_regularization"],
                          init=ns["glorot_uniform"], learning_rate=1e4, num_iterations=50,
                          show=False)
    ex.warm()
    assert all(r["diverged"] for r in ex.cache["run"].values())
    assert ex.png and ex.message == ""


def test_summaries_and_early_stopping(base_ns):
    import helpers.explorers.regularization as R
    from helpers.training import train

    ns = base_ns
    X, Y, Xd, Yd = ns["X_train"], ns["Y_train"], ns["X_dev"], ns["Y_dev"]
    h = train(X, Y, [2, 20, 3, 1], init=ns["glorot_uniform"], rng=np.random.default_rng(0),
              learning_rate=0.3, num_iterations=300,
              monitor=R.dev_cost_monitor(X, Y, Xd, Yd), monitor_every=50)
    step, params = R.best_iteration(h)
    assert step in [s for s, _ in h.monitor] and set(params) == set(h.parameters)
    s = R.summarize(h, X, Y, Xd, Yd)
    assert 0 <= s["train_acc"] <= 1 and len(s["norms"]) == 3
    assert R.weight_norms({"W1": np.ones((2, 2)), "b1": np.ones((2, 1))}) == [2.0]
