"""Notebook 05 (optimization methods): its autograder tests accept correct solutions in several
styles and reject each classic mistake with a message that points at it; its explorers work,
show a friendly message before the exercises are done, and show diverged runs as diverged."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from tests.nbtools import Notebook

NB = Notebook("05")
pytestmark = NB.pytestmark






# ---------------------------------------------------------------- the notebook as written
def test_notebook_structure():
    kinds = NB.cells()
    sols = {gid for kind, gid, _ in kinds if kind == "solution"}
    tests = {gid for kind, gid, _ in kinds if kind == "test"}
    assert sols == {
        "update_parameters_with_gd", "random_mini_batches", "exponentially_weighted_average",
        "initialize_velocity", "update_parameters_with_momentum", "initialize_rmsprop",
        "update_parameters_with_rmsprop", "initialize_adam", "update_parameters_with_adam",
        "update_lr", "schedule_lr_decay"}
    assert tests == {f"test_{s}" for s in sols}
    for kind, gid, src in kinds:
        if kind == "solution":
            assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, gid
        if kind == "test":
            assert "### BEGIN HIDDEN TESTS" in src, gid


def test_reference_solutions_pass_every_test():
    failed = NB.failing_tests()
    assert not failed, failed


# ---------------------------------------------------------------- update_parameters_with_gd
GD_HEAD = "def update_parameters_with_gd(parameters, grads, learning_rate):\n"

GD_MUTANTS = {
    "uphill": GD_HEAD + """
    for k in parameters:
        parameters[k] = parameters[k] + learning_rate * grads["d" + k]
    return parameters
""",
    "did not change": GD_HEAD + """
    L = len(parameters) // 2
    for l in range(1, L + 1):
        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
    return parameters
""",
    "read-only": GD_HEAD + """
    for k in parameters:
        grads["d" + k] *= learning_rate
        parameters[k] = parameters[k] - grads["d" + k]
    return parameters
""",
    "write this step yourself": GD_HEAD + """
    from helpers.gradients import dictionary_to_vector, gradients_to_vector, vector_to_dictionary
    theta, layout = dictionary_to_vector(parameters)
    return vector_to_dictionary(theta - learning_rate * gradients_to_vector(grads, layout), layout)
""",
    # the notebook's global layers_dims ([2, 5, 2, 1]) instead of the parameters: a deeper net's
    # last layer is left out
    "W4 did not change": GD_HEAD + """
    for l in range(1, len(layers_dims)):
        parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return parameters
""",
    # the gradients' keys without their "d", layers counted from 0: a KeyError with its sentence
    "add the 'd'": GD_HEAD + """
    for k in parameters:
        parameters[k] = parameters[k] - learning_rate * grads[k]
    return parameters
""",
    "layers, 1 to L": GD_HEAD + """
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return parameters
""",
    # a shape the checks cannot subtract: a sentence about the shape, not a broadcasting error
    "the returned parameters['W1'] has shape (2, 3)": GD_HEAD + """
    return {k: (p - learning_rate * grads["d" + k]).T for k, p in parameters.items()}
""",
}


@pytest.mark.parametrize("src", [
    GD_HEAD + "    return {k: p - learning_rate * grads['d' + k] for k, p in parameters.items()}\n",
    GD_HEAD + """
    for name in parameters:
        parameters[name] -= learning_rate * grads["d" + name]
    return parameters
""",
    GD_HEAD + """
    keys = sorted(parameters)
    flat = np.concatenate([parameters[k].ravel() for k in keys])
    flat = flat - learning_rate * np.concatenate([grads["d" + k].ravel() for k in keys])
    out, i = {}, 0
    for k in keys:
        out[k] = flat[i:i + parameters[k].size].reshape(parameters[k].shape)
        i += parameters[k].size
    return out
""",
])
def test_gd_other_styles_pass(src):
    NB.must_pass("test_update_parameters_with_gd", {"update_parameters_with_gd": src})


# ---------------------------------------------------------------- random_mini_batches
MB_HEAD = "def random_mini_batches(X, Y, mini_batch_size, rng):\n    m = X.shape[1]\n"


def _mb(shuffle: str, cut: str) -> str:
    return MB_HEAD + shuffle + cut


SHUFFLE = "    perm = rng.permutation(m)\n    sX, sY = X[:, perm], Y[:, perm]\n"
CUT = """
    out = []
    n = m // mini_batch_size
    for k in range(n):
        out.append((sX[:, k * mini_batch_size:(k + 1) * mini_batch_size],
                    sY[:, k * mini_batch_size:(k + 1) * mini_batch_size]))
    if m % mini_batch_size:
        out.append((sX[:, n * mini_batch_size:], sY[:, n * mini_batch_size:]))
    return out
"""

MB_MUTANTS = {
    "original order": _mb("    sX, sY = X, Y\n", CUT),
    "same permutation to X and to Y": _mb(
        "    sX, sY = X[:, rng.permutation(m)], Y[:, rng.permutation(m)]\n", CUT),
    # only X shuffled: told the labels no longer match (not that two permutations were used)
    "no longer match their examples": _mb("    sX, sY = X[:, rng.permutation(m)], Y\n", CUT),
    "partial mini-batch of 20 examples is missing": _mb(SHUFFLE, """
    return [(sX[:, k:k + mini_batch_size], sY[:, k:k + mini_batch_size])
            for k in range(0, m - mini_batch_size + 1, mini_batch_size)]
"""),
    "duplicated": _mb(SHUFFLE, CUT.replace(
        "    return out", "    if m % mini_batch_size:\n        out.append(out[-1])\n    return out")),
    "overlap": _mb(SHUFFLE, CUT.replace("sX[:, n * mini_batch_size:], sY[:, n * mini_batch_size:]",
                                        "sX[:, -mini_batch_size:], sY[:, -mini_batch_size:]")),
    "empty one": _mb(SHUFFLE, """
    out = []
    for k in range(m // mini_batch_size + 1):
        out.append((sX[:, k * mini_batch_size:(k + 1) * mini_batch_size],
                    sY[:, k * mini_batch_size:(k + 1) * mini_batch_size]))
    return out
"""),
    "not np.random": _mb("    perm = np.random.permutation(m)\n    sX, sY = X[:, perm], Y[:, perm]\n",
                         CUT),
    # issue 16, second round: drawing with replacement, a generator of its own, the global state,
    # one full batch short, a small m left without its only (partial) batch, rows for columns
    "appear twice": _mb("    perm = rng.choice(m, m)\n    sX, sY = X[:, perm], Y[:, perm]\n", CUT),
    "different rng seeds gave the same order": _mb(
        "    perm = np.random.default_rng(0).permutation(m)\n    sX, sY = X[:, perm], Y[:, perm]\n", CUT),
    "same rng seed gave different": _mb(
        "    perm = np.arange(m)\n    np.random.shuffle(perm)\n    sX, sY = X[:, perm], Y[:, perm]\n", CUT),
    "expected [64, 64, 20]": _mb(SHUFFLE, CUT.replace("range(n)", "range(n - 1)")),
    "partial mini-batch of 10 examples is missing": _mb(SHUFFLE, CUT.replace(
        "if m % mini_batch_size:", "if m % mini_batch_size and out:")),
    "the examples are COLUMNS": _mb("    perm = rng.permutation(m)\n    sX, sY = X[perm], Y[perm]\n", CUT),
    "was changed": _mb("    perm = rng.permutation(m)\n    X[:] = X[:, perm]\n    Y[:] = Y[:, perm]\n"
                       "    sX, sY = X, Y\n", CUT),
    "a tuple (X_batch, Y_batch)": _mb(SHUFFLE, CUT.replace("return out", "return [sX, sY]")),
    # the checks' own code fails on this output: the sentence is about random_mini_batches,
    # never "your `check_mini_batches` raised" (a course function is not the learner's)
    "checking `random_mini_batches` raised ValueError": _mb(SHUFFLE, CUT.replace(
        "return out", "return [(x.astype(str), y) for x, y in out]")),
}


@pytest.mark.parametrize("src", [
    MB_HEAD + """
    idx = np.arange(m)
    rng.shuffle(idx)
    return [(X[:, idx[i:i + mini_batch_size]], Y[:, idx[i:i + mini_batch_size]])
            for i in range(0, m, mini_batch_size)]
""",
    MB_HEAD + """
    order = rng.choice(m, size=m, replace=False)
    Xs, Ys = X.take(order, axis=1), Y.take(order, axis=1)
    cuts = list(range(mini_batch_size, m, mini_batch_size))
    return list(zip(np.split(Xs, cuts, axis=1), np.split(Ys, cuts, axis=1)))
""",
    MB_HEAD + """
    p = rng.permutation(m)
    idx = np.array_split(p, range(mini_batch_size, m, mini_batch_size))
    return [(X[:, i], Y[:, i]) for i in idx]
""",
    # the generator's other documented calls: shuffle a stacked copy, or rng.permuted
    MB_HEAD + """
    XY = np.concatenate([X, Y]).T.copy()
    rng.shuffle(XY)
    sX, sY = XY.T[:-1], XY.T[-1:]
    return [(sX[:, i:i + mini_batch_size], sY[:, i:i + mini_batch_size])
            for i in range(0, m, mini_batch_size)]
""",
    MB_HEAD + """
    order = rng.permuted(np.arange(m))
    return [(X[:, order[i:i + mini_batch_size]], Y[:, order[i:i + mini_batch_size]])
            for i in range(0, m, mini_batch_size)]
""",
])
def test_mini_batch_other_styles_pass(src):
    NB.must_pass("test_random_mini_batches", {"random_mini_batches": src})


# ---------------------------------------------------------------- exponentially_weighted_average
EWA_HEAD = "def exponentially_weighted_average(values, beta, bias_correction=True):\n"


def _ewa(update: str, out: str, v0: str = "0.0") -> str:
    return EWA_HEAD + f"""
    v = {v0}
    res = []
    for t in range(1, len(values) + 1):
        v = {update}
        res.append({out})
    return np.array(res)
"""


OK_UPDATE = "beta * v + (1 - beta) * values[t - 1]"
OK_OUT = "v / (1 - beta**t) if bias_correction else v"
EWA_MUTANTS = {
    "(1 - beta)": _ewa("beta * v + values[t - 1]", OK_OUT),
    "divided by zero": _ewa(OK_UPDATE, "v / (1 - beta**(t - 1)) if bias_correction else v"),
    "fed back": EWA_HEAD + """
    v, res = 0.0, []
    for t in range(1, len(values) + 1):
        v = beta * v + (1 - beta) * values[t - 1]
        if bias_correction:
            v = v / (1 - beta**t)
        res.append(v)
    return np.array(res)
""",
    "v_0 = 0": _ewa(OK_UPDATE, OK_OUT, v0="values[0]"),
    "are swapped": _ewa("(1 - beta) * v + beta * values[t - 1]", OK_OUT),
    "only when bias_correction": _ewa(OK_UPDATE, "v / (1 - beta**t)"),
    # issue 16, second round
    "t starting at 1": _ewa(OK_UPDATE, "v / (1 - beta**(t + 1)) if bias_correction else v"),
    "1 - beta * t": _ewa(OK_UPDATE, "v / (1 - beta * t) if bias_correction else v"),
    "changed its argument values": EWA_HEAD + """
    v = 0.0
    for t in range(1, len(values) + 1):
        v = beta * v + (1 - beta) * values[t - 1]
        values[t - 1] = v / (1 - beta**t) if bias_correction else v
    return values
""",
    # np.zeros_like(values) of integer values rounds every average
    "integer values": EWA_HEAD + """
    v, res = 0.0, np.zeros_like(values)
    for t in range(1, len(values) + 1):
        v = beta * v + (1 - beta) * values[t - 1]
        res[t - 1] = v / (1 - beta**t) if bias_correction else v
    return res
""",
}


@pytest.mark.parametrize("src", [
    EWA_HEAD + """
    theta = np.asarray(values, dtype=float)
    T = theta.size
    i, j = np.indices((T, T))
    weights = np.where(j <= i, (1 - beta) * beta ** np.maximum(i - j, 0), 0.0)
    v = weights @ theta
    if bias_correction:
        v = v / (1 - beta ** np.arange(1, T + 1))
    return v
""",
    EWA_HEAD + """
    avg = np.empty(len(values))
    running = 0
    for i, x in enumerate(values):
        running = running * beta + x * (1 - beta)
        avg[i] = running / (1 - beta ** (i + 1)) if bias_correction else running
    return avg
""",
    EWA_HEAD + """
    out, v = [], 0
    for i in range(len(values)):
        v = beta * v + (1 - beta) * values[i]
        out.append(v / (1 - beta ** (i + 1)) if bias_correction else v)
    return out
""",
    EWA_HEAD + """
    x = np.asarray(values, dtype=float)
    t = np.arange(1, len(x) + 1)
    v = np.array([(1 - beta) * np.sum(beta ** (k - np.arange(1, k + 1)) * x[:k]) for k in t])
    return v / (1 - beta ** t) if bias_correction else v
""",
])
def test_ewa_other_styles_pass(src):
    NB.must_pass("test_exponentially_weighted_average", {"exponentially_weighted_average": src})


# ---------------------------------------------------------------- momentum
VEL_ALIAS = """
def initialize_velocity(parameters):
    v = {}
    for k in parameters:
        v["d" + k] = parameters[k]
        v["d" + k][...] = 0
    return v
"""
VEL_NO_D = """
def initialize_velocity(parameters):
    return {k: np.zeros_like(p) for k, p in parameters.items()}
"""


@pytest.mark.parametrize("src,keyword", [(VEL_ALIAS, "changed its argument parameters"),
                                         (VEL_NO_D, "keys")])
def test_velocity_mistakes_fail(src, keyword):
    NB.must_fail("test_initialize_velocity", {"initialize_velocity": src}, keyword)


MOM_HEAD = "def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):\n"
MOM_MUTANTS = {
    "(1 - beta)": MOM_HEAD + """
    for k in parameters:
        v["d" + k] = beta * v["d" + k] + grads["d" + k]
        parameters[k] = parameters[k] - learning_rate * v["d" + k]
    return parameters, v
""",
    "old velocity": MOM_HEAD + """
    for k in parameters:
        parameters[k] = parameters[k] - learning_rate * v["d" + k]
        v["d" + k] = beta * v["d" + k] + (1 - beta) * grads["d" + k]
    return parameters, v
""",
    "beta and (1 - beta) are swapped": MOM_HEAD + """
    for k in parameters:
        v["d" + k] = (1 - beta) * v["d" + k] + beta * grads["d" + k]
        parameters[k] = parameters[k] - learning_rate * v["d" + k]
    return parameters, v
""",
    # momentum from another convention (learning rate inside v): not this notebook's formula
    "should be (1 - beta) times the gradient": MOM_HEAD + """
    for k in parameters:
        v["d" + k] = beta * v["d" + k] + learning_rate * grads["d" + k]
        parameters[k] = parameters[k] - v["d" + k]
    return parameters, v
""",
    "keyed 'dW1', 'db1'": MOM_HEAD + """
    for k in parameters:
        v[k] = beta * v[k] + (1 - beta) * grads["d" + k]
        parameters[k] = parameters[k] - learning_rate * v[k]
    return parameters, v
""",
    "with the gradient": MOM_HEAD + """
    for k in parameters:
        v["d" + k] = beta * v["d" + k] + (1 - beta) * grads["d" + k]
        parameters[k] = parameters[k] - learning_rate * grads["d" + k]
    return parameters, v
""",
}


@pytest.mark.parametrize("src", [
    MOM_HEAD + """
    for key, g in grads.items():
        v[key] *= beta
        v[key] += (1 - beta) * g
        parameters[key[1:]] -= learning_rate * v[key]
    return parameters, v
""",
    MOM_HEAD + """
    new_v = {k: beta * v[k] + (1 - beta) * grads[k] for k in v}
    new_p = {k: parameters[k] - learning_rate * new_v["d" + k] for k in parameters}
    return new_p, new_v
""",
    MOM_HEAD + """
    for k in list(parameters):
        np.multiply(v["d" + k], beta, out=v["d" + k])
        v["d" + k] += (1 - beta) * grads["d" + k]
        parameters[k] -= learning_rate * v["d" + k]
    return parameters, v
""",
])
def test_momentum_other_styles_pass(src):
    NB.must_pass("test_update_parameters_with_momentum", {"update_parameters_with_momentum": src})


# ---------------------------------------------------------------- RMSprop
RMS_HEAD = ("def update_parameters_with_rmsprop(parameters, grads, s, beta2, learning_rate, "
            "epsilon=1e-8):\n")


def _rms(s_update: str, step: str) -> str:
    return RMS_HEAD + f"""
    for k in parameters:
        g = grads["d" + k]
        s["d" + k] = {s_update}
        parameters[k] = parameters[k] - learning_rate * {step}
    return parameters, s
"""


RMS_OK_S = 'beta2 * s["d" + k] + (1 - beta2) * g**2'
RMS_MUTANTS = {
    "inside the square root": _rms(RMS_OK_S, 'g / np.sqrt(s["d" + k] + epsilon)'),
    "(1 - beta2)": _rms('beta2 * s["d" + k] + g**2', 'g / (np.sqrt(s["d" + k]) + epsilon)'),
    "beta2 and (1 - beta2) are swapped": _rms('(1 - beta2) * s["d" + k] + beta2 * g**2',
                                              'g / (np.sqrt(s["d" + k]) + epsilon)'),
    "the square root is missing": _rms(RMS_OK_S, 'g / (s["d" + k] + epsilon)'),
    "not with the epsilon argument": _rms(RMS_OK_S, 'g / (np.sqrt(s["d" + k]) + 1e-8)'),
    "parenthesise it": _rms(RMS_OK_S, 'g / np.sqrt(s["d" + k]) + epsilon'),
    "updated with the old s": RMS_HEAD + """
    for k in parameters:
        g = grads["d" + k]
        parameters[k] = parameters[k] - learning_rate * g / (np.sqrt(s["d" + k]) + epsilon)
        s["d" + k] = beta2 * s["d" + k] + (1 - beta2) * g**2
    return parameters, s
""",
    "elementwise square": _rms('beta2 * s["d" + k] + (1 - beta2) * np.abs(g)',
                               'g / (np.sqrt(s["d" + k]) + epsilon)'),
}


def test_rmsprop_other_style_passes():
    NB.must_pass("test_update_parameters_with_rmsprop", {"update_parameters_with_rmsprop": RMS_HEAD + """
    out = dict(parameters)
    for name, g in grads.items():
        s[name] = beta2 * s[name] + (1.0 - beta2) * np.square(g)
        out[name[1:]] = out[name[1:]] - learning_rate * g / (epsilon + np.sqrt(s[name]))
    return out, s
"""})
    NB.must_pass("test_update_parameters_with_rmsprop", {"update_parameters_with_rmsprop": _rms(
        'beta2 * s["d" + k] + (1 - beta2) * np.power(g, 2)', 'g / (s["d" + k] ** 0.5 + epsilon)')})
    NB.must_pass("test_initialize_rmsprop", {"initialize_rmsprop": """
def initialize_rmsprop(parameters):
    return {"d" + k: np.zeros(p.shape) for k, p in parameters.items()}
"""})


# ---------------------------------------------------------------- Adam
ADAM_HEAD = ("def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01,\n"
             "                                beta1=0.9, beta2=0.999, epsilon=1e-8):\n")


def _adam(vc: str = 'v[dk] / (1 - beta1**t)', sc: str = 's[dk] / (1 - beta2**t)',
          step: str = 'vc[dk] / (np.sqrt(sc[dk]) + epsilon)', extra: str = "",
          v: str = "beta1 * v[dk] + (1 - beta1) * grads[dk]",
          s: str = "beta2 * s[dk] + (1 - beta2) * grads[dk] ** 2") -> str:
    return ADAM_HEAD + f"""
    vc, sc = {{}}, {{}}
    for k in parameters:
        dk = "d" + k
        v[dk] = {v}
        s[dk] = {s}
        vc[dk] = {vc}
        sc[dk] = {sc}
{extra}        parameters[k] = parameters[k] - learning_rate * {step}
    return parameters, v, s, vc, sc
"""


ADAM_MUTANTS = {
    "uses beta1": _adam(sc="s[dk] / (1 - beta1**t)"),
    "inside the square root": _adam(step="vc[dk] / np.sqrt(sc[dk] + epsilon)"),
    "v_corrected equals v": _adam(vc="v[dk]", sc="s[dk]"),
    "t + 1 instead of t": _adam(vc="v[dk] / (1 - beta1**(t + 1))", sc="s[dk] / (1 - beta2**(t + 1))"),
    "t - 1 instead of t": _adam(vc="v[dk] / (1 - beta1**(t - 1))", sc="s[dk] / (1 - beta2**(t - 1))"),
    "holds the corrected value": _adam(extra="        v[dk] = vc[dk]\n"),
    "read-only": _adam(extra="        grads[dk] *= 0.5\n"),
    # issue 16, second round: the neighbours (each names its own mistake)
    "beta1 and (1 - beta1) are swapped": _adam(v="(1 - beta1) * v[dk] + beta1 * grads[dk]"),
    "averaged with beta2": _adam(v="beta2 * v[dk] + (1 - beta2) * grads[dk]",
                                 s="beta1 * s[dk] + (1 - beta1) * grads[dk] ** 2"),
    "1 - beta1 * t": _adam(vc="v[dk] / (1 - beta1 * t)", sc="s[dk] / (1 - beta2 * t)"),
    "computed from the old v": ADAM_HEAD + """
    vc, sc = {}, {}
    for k in parameters:
        dk = "d" + k
        vc[dk] = v[dk] / (1 - beta1**t)
        sc[dk] = s[dk] / (1 - beta2**t)
        v[dk] = beta1 * v[dk] + (1 - beta1) * grads[dk]
        s[dk] = beta2 * s[dk] + (1 - beta2) * grads[dk] ** 2
        parameters[k] = parameters[k] - learning_rate * vc[dk] / (np.sqrt(sc[dk]) + epsilon)
    return parameters, v, s, vc, sc
""",
    "parenthesise it": _adam(step="vc[dk] / np.sqrt(sc[dk]) + epsilon"),
    "the square root is missing": _adam(step="vc[dk] / (sc[dk] + epsilon)"),
}


def test_adam_same_dict_for_v_and_s_fails():
    NB.must_fail("test_initialize_adam", {"initialize_adam": """
def initialize_adam(parameters):
    v = {"d" + k: np.zeros_like(p) for k, p in parameters.items()}
    return v, v
"""}, "same arrays")


@pytest.mark.parametrize("src", [
    ADAM_HEAD + """
    v_hat, s_hat = {}, {}
    c1, c2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
    for key, g in grads.items():
        v[key] *= beta1
        v[key] += (1 - beta1) * g
        s[key] *= beta2
        s[key] += (1 - beta2) * g * g
        v_hat[key] = v[key] / c1
        s_hat[key] = s[key] / c2
        parameters[key[1:]] -= learning_rate * v_hat[key] / (s_hat[key] ** 0.5 + epsilon)
    return parameters, v, s, v_hat, s_hat
""",
    ADAM_HEAD + """
    L = len(parameters) // 2
    new_v = {k: beta1 * v[k] + (1 - beta1) * grads[k] for k in v}
    new_s = {k: beta2 * s[k] + (1 - beta2) * np.power(grads[k], 2) for k in s}
    v_c = {k: x / (1 - np.power(beta1, t)) for k, x in new_v.items()}
    s_c = {k: x / (1 - np.power(beta2, t)) for k, x in new_s.items()}
    new_p = {}
    for l in range(1, L + 1):
        for p in "Wb":
            new_p[f"{p}{l}"] = parameters[f"{p}{l}"] - learning_rate * v_c[f"d{p}{l}"] / (
                np.sqrt(s_c[f"d{p}{l}"]) + epsilon)
    return new_p, new_v, new_s, v_c, s_c
""",
])
def test_adam_other_styles_pass(src):
    NB.must_pass("test_update_parameters_with_adam", {"update_parameters_with_adam": src})


# ---------------------------------------------------------------- learning-rate decay
@pytest.mark.parametrize("body", [
    "    return learning_rate0 * (1.0 + decay_rate * epoch_num) ** -1\n",
    "    return float(np.divide(learning_rate0, np.add(1, np.multiply(decay_rate, epoch_num))))\n",
])
def test_update_lr_other_styles_pass(body):
    NB.must_pass("test_update_lr", {"update_lr": "def update_lr(learning_rate0, epoch_num, decay_rate):\n"
                                    + body})


SCHED_HEAD = "def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):\n"
SCHED_MUTANTS = {
    "rounded down": "epoch_num / time_interval",
    "nearest": "round(epoch_num / time_interval)",
    "learning_rate0 itself": "(epoch_num // time_interval + 1)",
    "remainder": "(epoch_num % time_interval)",
    "decays every epoch": "epoch_num",
    # issue 16, second round
    "not the time_interval argument": "(epoch_num // 1000)",
    "don't add 1 to epoch_num": "((epoch_num + 1) // time_interval)",
    "decays only once": "min(epoch_num // time_interval, 1)",
}
LR_HEAD = "def update_lr(learning_rate0, epoch_num, decay_rate):\n"
# (function, keyword) -> body: the whole formula mistaken (not only the number of decays)
DECAY_MUTANTS = {
    ("update_lr", "parenthesise"): "    return learning_rate0 / 1 + decay_rate * epoch_num\n",
    ("update_lr", "parenthesise the whole"): "    return learning_rate0 / (1 + decay_rate) * epoch_num\n",
    ("update_lr", "exponential decay"): "    return learning_rate0 * decay_rate ** epoch_num\n",
    ("update_lr", "no + 1"): "    return learning_rate0 / (1 + decay_rate * (epoch_num + 1))\n",
    ("update_lr", "not //"): "    return learning_rate0 // (1 + decay_rate * epoch_num)\n",
    ("schedule_lr_decay", "parenthesise the whole denominator"):
        "    return learning_rate0 / 1 + decay_rate * np.floor(epoch_num / time_interval)\n",
}


# ---------------------------------------------------------------- every mistake, one table
# (graded function, keyword the message must hold) -> the mistaken solution
MISTAKES = {
    **{("update_parameters_with_gd", k): src for k, src in GD_MUTANTS.items()},
    **{("random_mini_batches", k): src for k, src in MB_MUTANTS.items()},
    **{("exponentially_weighted_average", k): src for k, src in EWA_MUTANTS.items()},
    **{("update_parameters_with_momentum", k): src for k, src in MOM_MUTANTS.items()},
    **{("update_parameters_with_rmsprop", k): src for k, src in RMS_MUTANTS.items()},
    **{("update_parameters_with_adam", k): src for k, src in ADAM_MUTANTS.items()},
    **{("schedule_lr_decay", k): SCHED_HEAD + f"    return learning_rate0 / (1 + decay_rate * {d})\n"
       for k, d in SCHED_MUTANTS.items()},
    **{(f, k): (LR_HEAD if f == "update_lr" else SCHED_HEAD) + body
       for (f, k), body in DECAY_MUTANTS.items()},
    # the optimizers' zero states: one layer short, a vector per W, v and s one dict
    ("initialize_velocity", "expected ['dW1', 'dW2', 'db1', 'db2']"): """
def initialize_velocity(parameters):
    L = len(parameters) // 2
    return {f"d{p}{l}": np.zeros_like(parameters[f"{p}{l}"]) for l in range(1, L) for p in "Wb"}
""",
    ("initialize_rmsprop", "has shape (3,), expected (3, 2)"): """
def initialize_rmsprop(parameters):
    return {"d" + k: np.zeros(p.shape[0]) for k, p in parameters.items()}
""",
    ("initialize_adam", "v and s are the same arrays"): """
def initialize_adam(parameters):
    v = {"d" + k: np.zeros_like(p) for k, p in parameters.items()}
    return v, v.copy()
""",
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name,keyword", list(MISTAKES), ids=lambda x: str(x))
def test_mistakes_fail(name, keyword):
    NB.must_fail(f"test_{name}", {name: MISTAKES[name, keyword]}, keyword)


@pytest.mark.parametrize("body", [
    "    import math\n    return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))\n",
    "    k = int(epoch_num / time_interval)\n    return learning_rate0 / (1.0 + k * decay_rate)\n",
    "    k, _ = divmod(epoch_num, time_interval)\n    return learning_rate0 * 1.0 / (1 + decay_rate * k)\n",
])
def test_schedule_other_styles_pass(body):
    NB.must_pass("test_schedule_lr_decay", {"schedule_lr_decay": SCHED_HEAD + body})


# ---------------------------------------------------------------- explorers and figures
@pytest.fixture(scope="module")
def ref():
    """The notebook's reference solutions (setup + solution cells)."""
    return NB.namespace()


def _named_not_done(name, like=None):
    """A stub that raises NotImplementedError; with ``like`` (the reference solution) it has
    the exercise's own signature, as the learner's unfinished cell does."""
    signature = "(*args, **kwargs)" if like is None else str(inspect.signature(like))
    ns: dict = {}
    exec(f"def {name}{signature}:\n    raise NotImplementedError()\n", ns)
    return ns[name]


def _optimizer_fns(ref, **override):
    names = ["update_parameters_with_gd", "initialize_velocity", "update_parameters_with_momentum",
             "initialize_rmsprop", "update_parameters_with_rmsprop", "initialize_adam",
             "update_parameters_with_adam"]
    fns = {n: ref[n] for n in names}
    fns.update(override)
    return fns


def test_ewa_explorer(ref):
    from helpers.explorers.optimization import explore_ewa

    ex = explore_ewa(ref["exponentially_weighted_average"], show=False)
    before = ex.png
    assert before and ex.message == ""
    ex.set(beta=0.5)
    assert ex.png != before
    before = ex.png
    ex.set(bias_correction=False)
    assert ex.png != before

    ex = explore_ewa(_named_not_done("exponentially_weighted_average"), show=False)
    assert "Not yet" in ex.message
    assert "exponentially_weighted_average" in ex.message


def test_loss_surface_explorer(ref):
    from helpers.explorers.optimization import explore_loss_surface

    ex = explore_loss_surface(**_optimizer_fns(ref), num_steps=60, show=False)
    before = ex.png
    assert before and ex.message == ""
    ex.set(beta1=0.5)
    assert ex.png != before
    before = ex.png
    ex.set(surface="saddle")
    assert ex.png != before
    # alpha = 1 on the valley (curvature 4 across it): gradient descent diverges, shown as such
    ex.set(surface="elongated valley")
    ex.set(learning_rate=1.0)
    trajs = ex.result_at(ex.index)
    assert trajs["GD"].diverged and not trajs["Adam"].diverged
    legend = [t.get_text() for t in ex.figure.axes[0].get_legend().get_texts()]
    assert "GD (diverged)" in legend
    assert ex.message == ""


def test_loss_surface_explorer_not_done(ref):
    from helpers.explorers.optimization import explore_loss_surface

    names = ["update_parameters_with_gd", "initialize_velocity", "update_parameters_with_momentum",
             "initialize_rmsprop", "update_parameters_with_rmsprop", "initialize_adam",
             "update_parameters_with_adam"]
    ex = explore_loss_surface(**{n: _named_not_done(n, ref[n]) for n in names}, num_steps=20,
                              show=False)
    assert "Not yet" in ex.message and "update_parameters_with_gd" in ex.message
    assert ex.png is None
    # only GD done: the figure shows it and names the exercises still to do
    ex = explore_loss_surface(**_optimizer_fns(ref, update_parameters_with_adam=_named_not_done(
        "update_parameters_with_adam", ref["update_parameters_with_adam"])), num_steps=20,
        show=False)
    assert ex.message == "" and ex.png
    texts = [t.get_text() for t in ex.figure.axes[1].texts]
    assert any("update_parameters_with_adam" in t for t in texts)


def test_batch_size_explorer(ref):
    from helpers.explorers.optimization import explore_batch_size

    X, Y = ref["X_train"][:, :60], ref["Y_train"][:, :60]
    ex = explore_batch_size(X, Y, [2, 5, 2, 1], init=ref["glorot_uniform"],
                            mini_batches=ref["random_mini_batches"],
                            update=ref["update_parameters_with_gd"], num_epochs=3,
                            sizes=(1, 16), show=False)
    assert ex.controls["mini_batch_size"].values == [1, 16, 60]  # and the full batch
    before = ex.png
    ex.set(mini_batch_size=1)
    assert ex.png != before
    assert "60 update(s) per epoch" in ex.figure.axes[0].get_title()

    ex = explore_batch_size(X, Y, [2, 5, 2, 1], init=ref["glorot_uniform"],
                            mini_batches=_named_not_done("random_mini_batches"), num_epochs=2,
                            sizes=(16,), show=False)
    assert "Not yet" in ex.message and "random_mini_batches" in ex.message

    ex = explore_batch_size(X, Y, [2, 5, 2, 1], init=ref["glorot_uniform"],
                            mini_batches=ref["random_mini_batches"],
                            update=ref["update_parameters_with_gd"], learning_rate=500.0,
                            num_epochs=5, sizes=(16,), show=False)
    assert "DIVERGED" in ex.figure.axes[0].get_title()
    assert ex.message == ""


def test_static_figures(ref):
    import matplotlib.pyplot as plt

    from helpers.explorers.optimization import (
        plot_mini_batches,
        plot_optimizers,
        plot_saddle_points,
        run_accuracies,
    )
    from helpers.training import train

    X, Y = ref["X_train"], ref["Y_train"]
    batches = ref["random_mini_batches"](X, Y, 64, np.random.default_rng(0))
    ax = plot_mini_batches(batches)
    assert len(ax.get_legend().get_texts()) == 5
    h = train(X, Y, [2, 5, 2, 1], init=ref["glorot_uniform"], rng=np.random.default_rng(0),
              update=ref["update_parameters_with_gd"], learning_rate=0.1, num_iterations=20)
    accs = run_accuracies({"GD": h}, X, Y, ref["X_test"], ref["Y_test"])
    fig = plot_optimizers({"GD": h}, X, Y, ref["X_test"], ref["Y_test"], show_learning_rate=True)
    assert 0 <= accs["GD"][0] <= 1 and len(fig.axes) == 3
    fig = plot_saddle_points(update_parameters_with_gd=ref["update_parameters_with_gd"],
                             initialize_adam=ref["initialize_adam"],
                             update_parameters_with_adam=ref["update_parameters_with_adam"])
    assert fig.axes
    plt.close("all")


@pytest.mark.parametrize("module", ["helpers.explorers.optimization", "helpers.checks.optimization"])
def test_shipped_modules_define_no_graded_function(module):
    """The modules the learner receives (explorers, checks) must not implement a graded exercise
    (tests/test_release_answers.py also scans their code for the answers' patterns)."""
    import importlib

    mod = importlib.import_module(module)
    graded = {"update_parameters_with_gd", "random_mini_batches", "exponentially_weighted_average",
              "initialize_velocity", "update_parameters_with_momentum", "initialize_rmsprop",
              "update_parameters_with_rmsprop", "initialize_adam", "update_parameters_with_adam",
              "update_lr", "schedule_lr_decay"}
    defined = {n for n, obj in vars(mod).items() if callable(obj)
               and getattr(obj, "__module__", "") == mod.__name__}
    assert not graded & defined


def test_explorer_pictures_follow_the_controls(ref):
    from helpers.explorers.optimization import explore_ewa, explore_loss_surface

    ex = explore_ewa(ref["exponentially_weighted_average"], show=False)
    ex.set(beta=0.5)
    ex.set(bias_correction=False)
    axes = ex.figure.axes
    assert "β = 0.50" in axes[0].get_title()
    assert "no bias correction" in axes[0].get_lines()[1].get_label()

    ex = explore_loss_surface(**_optimizer_fns(ref), num_steps=40, show=False)
    ex.set(surface="saddle")
    ex.set(beta1=0.5)
    axes = ex.figure.axes
    assert axes[0].get_title().startswith("saddle")
    assert "β₁ = 0.50" in axes[0].get_title()
    start = [line for line in axes[0].get_lines() if line.get_label() == "start"][0]
    assert start.get_ydata()[0] == pytest.approx(0.003), "the saddle's starting point"
