"""Notebook 08 (batch normalization): its autograder tests accept correct solutions in several
styles (the compact and the step-by-step backward pass among them) and reject each classic
mistake with a message that names it; a mistake in one exercise never fails another's test; the
visible checks do not spell out the solutions; the explorers run the learner's functions and say
which exercise to finish before it is done."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.nbtools import Notebook

NB = Notebook("08")
pytestmark = NB.pytestmark
CHECKS = NB.path.parent.parent / "helpers" / "checks" / "batch_normalization.py"
EXERCISES = ("batchnorm_forward", "batchnorm_backward", "update_running_stats",
             "batchnorm_inference")


# ---------------------------------------------------------------- the notebook as written
def test_notebook_structure():
    kinds = NB.cells()
    sols = {gid for kind, gid, _ in kinds if kind == "solution"}
    tests = {gid for kind, gid, _ in kinds if kind == "test"}
    assert sols == set(EXERCISES)
    assert tests == {f"test_{s}" for s in sols}
    for kind, gid, src in kinds:
        if kind == "solution":
            assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, gid
        if kind == "test":
            assert "### BEGIN HIDDEN TESTS" in src and "### END HIDDEN TESTS" in src, gid


def test_reference_solutions_pass_every_test():
    failed = NB.failing_tests()
    assert not failed, failed


def test_every_docstring_states_the_mutation_contract():
    for _kind, gid, src in NB.cells("solution"):
        assert "left unchanged" in src, f"{gid}'s docstring must say whether it changes its inputs"


# Code that normalizes Z with its own statistics, or averages statistics: it belongs in the
# solution cells and the hidden regions, never in a visible test cell. (Visible checks may measure
# properties of the learner's OUTPUT, e.g. its rows' means and standard deviations.)
DISTINCTIVE = [r"np\.var\(", r"\.var\(", r"np\.mean\(\s*Z\b", r"\bZ\.mean\(", r"\bZ\.std\(",
               r"\(Z\s*-\s*mu\)", r"\(Z\s*-\s*running_mean\)", r"momentum\s*\*\s*running",
               r"\(1\s*-\s*momentum\)\s*\*", r"dZ_hat\s*=", r"np\.sum\(\s*dZ_tilde",
               r"dZ_tilde\.sum\(", r"sqrt\(\s*var\s*\+\s*eps",
               # other notebooks' answers: a centred difference (04), an adaptive step (05)
               r"\)\s*/\s*\(\s*2\s*\*", r"/\s*\(\s*np\.sqrt\([^()]*\)\s*\+"]


def test_visible_checks_do_not_spell_out_the_solutions():
    from grading import notebooks as N

    release = N.student_version(N.load_source(NB.path).nb)
    tests = [c.source for c in release.cells
             if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert len(tests) == 4
    # what the visible checks run ships too: helpers.checks.batch_normalization
    shown = "\n".join(tests) + "\n" + CHECKS.read_text(encoding="utf-8")
    found = [p for p in DISTINCTIVE if re.search(p, shown)]
    assert not found, f"the visible checks show graded code: {found}"
    assert "### BEGIN HIDDEN TESTS" not in shown


# ---------------------------------------------------------------- batchnorm_forward
FWD_HEAD = "def batchnorm_forward(Z, gamma, beta, epsilon=1e-5):\n"
FWD_TAIL = ("    cache = {'Z': Z, 'Z_hat': Z_hat, 'mu': mu, 'var': var, 'gamma': gamma, "
            "'epsilon': epsilon}\n    return Z_tilde, cache\n")


def _fwd(body: str) -> str:
    return FWD_HEAD + body + FWD_TAIL


OK_STATS = ("    mu = np.mean(Z, axis=1, keepdims=True)\n"
            "    var = np.mean((Z - mu) ** 2, axis=1, keepdims=True)\n")
OK_NORM = "    Z_hat = (Z - mu) / np.sqrt(var + epsilon)\n"
OK_AFFINE = "    Z_tilde = gamma * Z_hat + beta\n"

FWD_MUTANTS = {
    "wrong axis": _fwd("    mu = np.mean(Z, axis=0, keepdims=True)\n"
                       "    var = np.var(Z, axis=0, keepdims=True)\n" + OK_NORM + OK_AFFINE),
    "keepdims": _fwd("    mu = np.mean(Z, axis=1)\n    var = np.var(Z, axis=1)\n"
                     + OK_NORM + OK_AFFINE),
    "ddof=1": _fwd("    mu = np.mean(Z, axis=1, keepdims=True)\n"
                   "    var = np.var(Z, axis=1, ddof=1, keepdims=True)\n" + OK_NORM + OK_AFFINE),
    "outside the square root": _fwd(OK_STATS + "    Z_hat = (Z - mu) / (np.sqrt(var) + epsilon)\n"
                                    + OK_AFFINE),
    "not applied": _fwd(OK_STATS + OK_NORM + "    Z_tilde = Z_hat\n"),
    "applied before normalizing": _fwd(
        "    Zs = gamma * Z + beta\n    mu = np.mean(Zs, axis=1, keepdims=True)\n"
        "    var = np.var(Zs, axis=1, keepdims=True)\n"
        "    Z_hat = (Zs - mu) / np.sqrt(var + epsilon)\n    Z_tilde = Z_hat\n"),
    "mutated": _fwd("    mu = np.mean(Z, axis=1, keepdims=True)\n"
                    "    var = np.var(Z, axis=1, keepdims=True)\n"
                    "    Z -= mu\n    Z_hat = Z / np.sqrt(var + epsilon)\n" + OK_AFFINE),
    "β": _fwd(OK_STATS + OK_NORM + "    Z_tilde = gamma * Z_hat\n"),
    "use the epsilon argument": _fwd(OK_STATS + "    Z_hat = (Z - mu) / np.sqrt(var + 1e-5)\n"
                                     + OK_AFFINE),
    "not done yet": FWD_HEAD + "    raise NotImplementedError()\n",
}

# the larger set of issue 16 (the kind of gap, not one example): each fails naming its mistake
FWD_MUTANTS |= {
    "over the wrong axis": _fwd("    mu = np.mean(Z, axis=1, keepdims=True)\n"
                                "    var = np.mean((Z - mu) ** 2, axis=0, keepdims=True)\n"
                                + OK_NORM + OK_AFFINE),
    "one value per unit": _fwd("    mu = np.mean(Z)\n    var = np.var(Z)\n" + OK_NORM + OK_AFFINE),
    "divided by σ² + ε, the variance": _fwd(OK_STATS + "    Z_hat = (Z - mu) / (var + epsilon)\n"
                                            + OK_AFFINE),
    "γ and β are swapped": _fwd(OK_STATS + OK_NORM + "    Z_tilde = beta * Z_hat + gamma\n"),
    "flattened": _fwd(OK_STATS + OK_NORM + "    Z_tilde = gamma.ravel() * Z_hat + beta.ravel()\n"),
    "transposed": _fwd(OK_STATS + OK_NORM + "    Z_tilde = gamma.T * Z_hat + beta.T\n"),
    "not @": _fwd(OK_STATS + OK_NORM + "    Z_tilde = gamma @ Z_hat + beta\n"),
    "cache['var'] holds σ² + ε": _fwd(OK_STATS + "    var = var + epsilon\n"
                                      "    Z_hat = (Z - mu) / np.sqrt(var)\n" + OK_AFFINE),
    "the same array": _fwd(OK_STATS + OK_NORM + "    Z_tilde = Z_hat\n    Z_tilde *= gamma\n"
                                                "    Z_tilde += beta\n"),
    "store Ẑ itself": _fwd(OK_STATS + "    Z_hat = Z - mu\n"
                                      "    Z_tilde = gamma * Z_hat / np.sqrt(var + epsilon) + beta\n"),
    "must be each unit's variance": _fwd("    mu = np.mean(Z, axis=1, keepdims=True)\n"
                                         "    var = np.mean(Z ** 2, axis=1, keepdims=True)\n"
                                         + OK_NORM + OK_AFFINE),
    "inside the square root": _fwd(OK_STATS + "    Z_hat = (Z - mu) / np.sqrt(var)\n" + OK_AFFINE),
}


FWD_STYLES = [
    _fwd("    mu = Z.mean(axis=1, keepdims=True)\n    var = Z.var(axis=1, keepdims=True)\n"
         "    Z_hat = (Z - mu) * (var + epsilon) ** -0.5\n    Z_tilde = Z_hat * gamma + beta\n"),
    _fwd("""    n, m = Z.shape
    mu = np.zeros((n, 1))
    var = np.zeros((n, 1))
    Z_hat = np.zeros((n, m))
    for j in range(n):
        mu[j, 0] = sum(Z[j, i] for i in range(m)) / m
        var[j, 0] = sum((Z[j, i] - mu[j, 0]) ** 2 for i in range(m)) / m
        for i in range(m):
            Z_hat[j, i] = (Z[j, i] - mu[j, 0]) / (var[j, 0] + epsilon) ** 0.5
    Z_tilde = gamma * Z_hat + beta
"""),
    _fwd("""    m = Z.shape[1]
    mu = Z @ np.ones((m, 1)) / m
    xmu = Z - mu
    var = (xmu ** 2) @ np.ones((m, 1)) / m
    ivar = 1.0 / np.sqrt(var + epsilon)
    Z_hat = xmu * ivar
    Z_tilde = np.multiply(gamma, Z_hat) + beta
"""),
]

FWD_STYLES += [
    _fwd("    mu = np.mean(Z, axis=1, keepdims=True)\n"
         "    var = np.mean(Z ** 2, axis=1, keepdims=True) - mu ** 2\n" + OK_NORM + OK_AFFINE),
    _fwd("    mu = Z.T.mean(axis=0, keepdims=True).T\n    var = np.var(Z.T, axis=0).reshape(-1, 1)\n"
         "    inv = 1 / np.sqrt(var + epsilon)\n    Z_hat = (Z - mu) * inv\n"
         "    Z_tilde = np.add(np.multiply(gamma, Z_hat), beta)\n"),
    _fwd("    m = Z.shape[1]\n    mu = np.einsum('ij->i', Z)[:, None] / m\n    D = Z - mu\n"
         "    var = np.einsum('ij,ij->i', D, D)[:, None] / m\n    Z_hat = D / np.sqrt(var + epsilon)\n"
         "    Z_tilde = gamma * Z_hat + beta\n"),
]


# ---------------------------------------------------------------- batchnorm_backward
BWD_HEAD = "def batchnorm_backward(dZ_tilde, cache):\n"
BWD_PRE = ("    Z_hat, var, gamma, eps = cache['Z_hat'], cache['var'], cache['gamma'], "
           "cache['epsilon']\n    m = dZ_tilde.shape[1]\n")
OK_DB = "    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)\n"
OK_DG = "    dgamma = np.sum(dZ_tilde * Z_hat, axis=1, keepdims=True)\n"
OK_DZ = ("    dZ_hat = gamma * dZ_tilde\n"
         "    dZ = (m * dZ_hat - dZ_hat.sum(axis=1, keepdims=True) - Z_hat * (dZ_hat * Z_hat)"
         ".sum(axis=1, keepdims=True)) / (m * np.sqrt(var + eps))\n")
BWD_TAIL = "    return dZ, dgamma, dbeta\n"


def _bwd(db=OK_DB, dg=OK_DG, dz=OK_DZ) -> str:
    return BWD_HEAD + BWD_PRE + db + dg + dz + BWD_TAIL


BWD_MUTANTS = {
    "paths through μ and σ²": _bwd(dz="    dZ = gamma * dZ_tilde / np.sqrt(var + eps)\n"),
    "path through μ": _bwd(dz="    dZ_hat = gamma * dZ_tilde\n    dZ = (m * dZ_hat - Z_hat * "
                              "(dZ_hat * Z_hat).sum(axis=1, keepdims=True)) / "
                              "(m * np.sqrt(var + eps))\n"),
    "path through σ²": _bwd(dz="    dZ_hat = gamma * dZ_tilde\n    dZ = (m * dZ_hat - "
                               "dZ_hat.sum(axis=1, keepdims=True)) / (m * np.sqrt(var + eps))\n"),
    "wrong axis": _bwd(db="    dbeta = np.sum(dZ_tilde, axis=0, keepdims=True)\n",
                       dg="    dgamma = np.sum(dZ_tilde * Z_hat, axis=0, keepdims=True)\n"),
    "dgamma is wrong": _bwd(dg="    dgamma = np.sum(dZ_tilde, axis=1, keepdims=True)\n"),
    "dbeta is wrong": _bwd(db="    dbeta = np.mean(dZ_tilde, axis=1, keepdims=True)\n"),
    "mutated": BWD_HEAD + BWD_PRE + OK_DB + OK_DG + "    dZ_tilde *= gamma\n    dZ_hat = dZ_tilde\n"
    + OK_DZ.split("\n", 1)[1] + BWD_TAIL,
    "cache['epsilon'] inside the square root": _bwd(
        dz=OK_DZ.replace("np.sqrt(var + eps)", "np.sqrt(var)")),
    "m times too large": _bwd(dz=OK_DZ.replace("(m * np.sqrt(var + eps))", "np.sqrt(var + eps)")),
    "keepdims": _bwd(db="    dbeta = np.sum(dZ_tilde, axis=1)\n",
                     dg="    dgamma = np.sum(dZ_tilde * Z_hat, axis=1)\n"),
    "not done yet": BWD_HEAD + "    raise NotImplementedError()\n",
}

# the step-by-step graph form, dμ without its term through dσ² (zero: the deviations sum to 0)
BWD_GRAPH = BWD_HEAD + """
    Z, mu, var, gamma, eps = cache["Z"], cache["mu"], cache["var"], cache["gamma"], cache["epsilon"]
    m = Z.shape[1]
    dZ_hat = gamma * dZ_tilde
    dvar = np.sum(dZ_hat * (Z - mu), axis=1, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = -np.sum(dZ_hat, axis=1, keepdims=True) / np.sqrt(var + eps)
    dZ = dZ_hat / np.sqrt(var + eps) + dvar * 2 * (Z - mu) / m + dmu / m
    return dZ, np.sum(dZ_tilde * cache["Z_hat"], axis=1, keepdims=True), np.sum(dZ_tilde, axis=1, keepdims=True)
"""

BWD_MUTANTS |= {
    "m times too small": _bwd(dz=OK_DZ.replace("(m * np.sqrt(var + eps))",
                                               "(m * m * np.sqrt(var + eps))")),
    "lacks the factor γ": _bwd(dz=OK_DZ.replace("dZ_hat = gamma * dZ_tilde", "dZ_hat = dZ_tilde")),
    "dgamma and dbeta are swapped": _bwd(
        db="    dbeta = np.sum(dZ_tilde * Z_hat, axis=1, keepdims=True)\n",
        dg="    dgamma = np.sum(dZ_tilde, axis=1, keepdims=True)\n"),
    "summed over the wrong axis": _bwd(
        dg="    dgamma = np.sum(dZ_tilde * Z_hat, axis=0, keepdims=True)\n"),
    "sum to 0": _bwd(dz=OK_DZ.replace("m * dZ_hat - dZ_hat.sum", "m * dZ_hat + dZ_hat.sum")),
    "orthogonal to that row of Ẑ": _bwd(dz=OK_DZ.replace(".sum(axis=1, keepdims=True)) /",
                                                         ".mean(axis=1, keepdims=True)) /")),
    "dgamma is wrong: with dZ_tilde = Z_hat": _bwd(
        dg="    dgamma = np.sum(dZ_tilde * cache['Z'], axis=1, keepdims=True)\n"),
    "dbeta is wrong: with dZ_tilde all ones": _bwd(
        db="    dbeta = np.sum(gamma * dZ_tilde, axis=1, keepdims=True)\n"),
    "Z's shape": _bwd(dz=OK_DZ + "    dZ = dZ.T\n"),
    # the graph form with a factor lost: 1/2 of dσ² (through σ²), 1/m of dμ (through μ)
    "path through σ² is missing or wrong": BWD_GRAPH.replace("* -0.5 *", "* -1.0 *"),
    "path through μ is missing or wrong": BWD_GRAPH.replace("+ dmu / m", "+ dmu"),
    "with cache['epsilon'] inside the square root": _bwd(
        dz=OK_DZ.replace("np.sqrt(var + eps)", "(np.sqrt(var) + eps)")),
    "not cache['Z']": BWD_HEAD + "    Z_hat, Z, mu, var, gamma, eps = cache.values()\n"
                                "    m = dZ_tilde.shape[1]\n" + OK_DB + OK_DG + OK_DZ + BWD_TAIL,
    "dZ_tilde.shape[1]": _bwd(dz=OK_DZ.replace("m * ", "dZ_tilde.shape[0] * ")),
    "the keys 'Z', 'Z_hat', 'mu', 'var'": BWD_HEAD + BWD_PRE.replace("cache['epsilon']",
                                                                   "cache['eps']") + OK_DB + OK_DG
    + OK_DZ + BWD_TAIL,
}


BWD_STYLES = [
    # the step-by-step graph form, from the cache's Z and mu
    BWD_HEAD + """
    Z, mu, var, gamma, eps = cache["Z"], cache["mu"], cache["var"], cache["gamma"], cache["epsilon"]
    m = Z.shape[1]
    xmu = Z - mu
    ivar = 1.0 / np.sqrt(var + eps)
    Z_hat = xmu * ivar
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_hat).sum(axis=1, keepdims=True)
    dZ_hat = dZ_tilde * gamma
    divar = (dZ_hat * xmu).sum(axis=1, keepdims=True)
    dxmu1 = dZ_hat * ivar
    dsqrtvar = -divar / (var + eps)
    dvar = 0.5 * dsqrtvar / np.sqrt(var + eps)
    dsq = dvar * np.ones_like(Z) / m
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=1, keepdims=True)
    dx2 = dmu * np.ones_like(Z) / m
    return dx1 + dx2, dgamma, dbeta
""",
    # the notebook's formulas for dσ², dμ, dz one after the other
    BWD_HEAD + """
    Z, mu, var, gamma, eps = cache["Z"], cache["mu"], cache["var"], cache["gamma"], cache["epsilon"]
    m = Z.shape[1]
    Z_hat = cache["Z_hat"]
    dZ_hat = gamma * dZ_tilde
    dvar = np.sum(dZ_hat * (Z - mu), axis=1, keepdims=True) * -0.5 * (var + eps) ** -1.5
    dmu = (-np.sum(dZ_hat, axis=1, keepdims=True) / np.sqrt(var + eps)
           - dvar * 2 * np.mean(Z - mu, axis=1, keepdims=True))
    dZ = dZ_hat / np.sqrt(var + eps) + dvar * 2 * (Z - mu) / m + dmu / m
    return dZ, np.sum(dZ_tilde * Z_hat, axis=1, keepdims=True), np.sum(dZ_tilde, axis=1, keepdims=True)
""",
    # one unit at a time, the compact form
    BWD_HEAD + """
    n, m = dZ_tilde.shape
    dZ, dgamma, dbeta = np.zeros((n, m)), np.zeros((n, 1)), np.zeros((n, 1))
    for j in range(n):
        zh, g = cache["Z_hat"][j], dZ_tilde[j]
        s = np.sqrt(cache["var"][j, 0] + cache["epsilon"])
        dbeta[j, 0] = g.sum()
        dgamma[j, 0] = g @ zh
        dzh = cache["gamma"][j, 0] * g
        dZ[j] = (dzh - dzh.mean() - zh * (dzh @ zh) / m) / s
    return dZ, dgamma, dbeta
""",
]

BWD_STYLES += [
    BWD_GRAPH,
    BWD_HEAD + """
    Z_hat, var, gamma, eps = cache["Z_hat"], cache["var"], cache["gamma"], cache["epsilon"]
    m = Z_hat.shape[1]
    dbeta = np.einsum('ij->i', dZ_tilde)[:, None]
    dgamma = np.einsum('ij,ij->i', dZ_tilde, Z_hat)[:, None]
    dZ = (gamma / np.sqrt(var + eps) / m) * (m * dZ_tilde - dbeta - Z_hat * dgamma)
    return dZ, dgamma, dbeta
""",
    # the mean form, dgamma and dbeta reshaped instead of keepdims
    BWD_HEAD + """
    Z_hat = cache["Z_hat"]
    std = np.sqrt(cache["var"] + cache["epsilon"])
    dZ_hat = dZ_tilde * cache["gamma"]
    dZ = (dZ_hat - dZ_hat.mean(axis=1, keepdims=True)
          - Z_hat * (dZ_hat * Z_hat).mean(axis=1, keepdims=True)) / std
    return dZ, (dZ_tilde * Z_hat).sum(axis=1).reshape(-1, 1), dZ_tilde.sum(axis=1).reshape(-1, 1)
""",
    # each unit's Jacobian of Ẑ with respect to its row of Z, written out
    BWD_HEAD + """
    n, m = dZ_tilde.shape
    dZ = np.zeros((n, m))
    for j in range(n):
        zh = cache["Z_hat"][j]
        s = np.sqrt(cache["var"][j, 0] + cache["epsilon"])
        J = (np.eye(m) - 1.0 / m - np.outer(zh, zh) / m) / s
        dZ[j] = cache["gamma"][j, 0] * J.T @ dZ_tilde[j]
    return dZ, np.sum(dZ_tilde * cache["Z_hat"], axis=1, keepdims=True), np.sum(dZ_tilde, axis=1, keepdims=True)
""",
    # the cache unpacked in the docstring's order
    BWD_HEAD + "    Z, Z_hat, mu, var, gamma, eps = cache.values()\n    m = dZ_tilde.shape[1]\n"
    + OK_DB + OK_DG + OK_DZ + BWD_TAIL,
    # Ẑ recomputed from the cache's Z, mu and var
    BWD_HEAD + """
    Z, mu, var, gamma, eps = cache["Z"], cache["mu"], cache["var"], cache["gamma"], cache["epsilon"]
    m = Z.shape[1]
    inv_std = (var + eps) ** -0.5
    Z_hat = (Z - mu) * inv_std
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = np.sum(Z_hat * dZ_tilde, axis=1, keepdims=True)
    dZ = gamma * inv_std / m * (m * dZ_tilde - dbeta - Z_hat * dgamma)
    return dZ, dgamma, dbeta
""",
]


@pytest.mark.parametrize("forward", list(FWD_MUTANTS))
def test_backward_is_judged_alone(forward):
    """A wrong or unfinished batchnorm_forward (any in the table, a wrong cache among them: Ẑ
    changed in place, ε kept in var) never costs batchnorm_backward its points."""
    NB.must_pass("test_batchnorm_backward", {"batchnorm_forward": FWD_MUTANTS[forward]})


def test_backward_hidden_part_compares_with_a_numerical_gradient():
    """A backward pass that is wrong only for a batch size the visible checks do not use is
    caught by the hidden numerical-gradient comparison."""
    wrong_for_m10 = _bwd(dz=OK_DZ + "    dZ = dZ * (1 + 1e-3 * (m == 10))\n")
    ok, msg = NB.run_test("test_batchnorm_backward", replace={"batchnorm_backward": wrong_for_m10})
    assert not ok and "numerical gradient" in msg


# ---------------------------------------------------------------- update_running_stats
RUN_HEAD = "def update_running_stats(running_mean, running_var, mu, var, momentum=0.9):\n"
RUN_MUTANTS = {
    "swapped": RUN_HEAD + "    return ((1 - momentum) * running_mean + momentum * mu,\n"
                          "            (1 - momentum) * running_var + momentum * var)\n",
    "mutated": RUN_HEAD + "    running_mean *= momentum\n    running_mean += (1 - momentum) * mu\n"
                          "    running_var *= momentum\n    running_var += (1 - momentum) * var\n"
                          "    return running_mean, running_var\n",
    "batch mean": RUN_HEAD + "    return (momentum * running_mean + (1 - momentum) * mu,\n"
                             "            momentum * running_var + (1 - momentum) * mu)\n",
    "not done yet": RUN_HEAD + "    raise NotImplementedError()\n",
    "10 %": RUN_HEAD + "    return momentum * running_mean + mu, momentum * running_var + var\n",
}
RUN_MUTANTS |= {
    "batch VARIANCE": RUN_HEAD + "    return (momentum * running_mean + (1 - momentum) * var,\n"
                                 "            momentum * running_var + (1 - momentum) * var)\n",
    "with momentum = 1": RUN_HEAD + "    return (0.9 * running_mean + 0.1 * mu,\n"
                                    "            0.9 * running_var + 0.1 * var)\n",
    "changed its argument running_mean": RUN_HEAD + (
        "    running_mean[:] = momentum * running_mean + (1 - momentum) * mu\n"
        "    running_var[:] = momentum * running_var + (1 - momentum) * var\n"
        "    return running_mean, running_var\n"),
    "mutated in place": RUN_HEAD + (
        "    np.multiply(running_mean, momentum, out=running_mean)\n"
        "    return (running_mean + (1 - momentum) * mu,\n"
        "            momentum * running_var + (1 - momentum) * var)\n"),
    "toward the batch variance": RUN_HEAD + (
        "    return (momentum * running_mean + (1 - momentum) * mu,\n"
        "            momentum * running_var + (1 - momentum) * np.sqrt(var))\n"),
    "moved [0.5": RUN_HEAD + "    return (running_mean + mu) / 2, (running_var + var) / 2\n",
    "moved [1. 1.]": RUN_HEAD + "    return mu.copy(), var.copy()\n",
}


RUN_STYLES = [RUN_HEAD + body for body in (
    "    return (running_mean + (1 - momentum) * (mu - running_mean),\n"
    "            running_var + (1 - momentum) * (var - running_var))\n",
    "    new = [momentum * old + (1.0 - momentum) * batch\n"
    "           for old, batch in ((running_mean, mu), (running_var, var))]\n"
    "    return new[0], new[1]\n",
    "    rm = running_mean.copy()\n    rv = running_var.copy()\n    rm *= momentum\n"
    "    rm += (1 - momentum) * mu\n    rv *= momentum\n    rv += (1 - momentum) * var\n"
    "    return rm, rv\n",
)]

RUN_STYLES += [RUN_HEAD + body for body in (
    "    rm = np.add(np.multiply(momentum, running_mean), np.multiply(1 - momentum, mu))\n"
    "    return rm, np.add(momentum * running_var, (1 - momentum) * var)\n",
    "    rm = np.empty(running_mean.shape)\n    rv = np.empty(running_var.shape)\n"
    "    for j in range(running_mean.shape[0]):\n"
    "        rm[j] = momentum * running_mean[j] + (1 - momentum) * mu[j]\n"
    "        rv[j] = momentum * running_var[j] + (1 - momentum) * var[j]\n"
    "    return rm, rv\n",
    "    a = 1.0 - momentum\n"
    "    return running_mean * (1 - a) + a * mu, running_var - a * (running_var - var)\n",
)]


# ---------------------------------------------------------------- batchnorm_inference
INF_HEAD = ("def batchnorm_inference(Z, gamma, beta, running_mean, running_var, "
            "epsilon=1e-5):\n")
INF_MUTANTS = {
    "batch statistics are used at test time": INF_HEAD + """
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(var + epsilon) + beta
""",
    "outside the square root": INF_HEAD
    + "    return gamma * (Z - running_mean) / (np.sqrt(running_var) + epsilon) + beta\n",
    "after normalizing": INF_HEAD
    + "    return ((gamma * Z + beta) - running_mean) / np.sqrt(running_var + epsilon)\n",
    "mutated": INF_HEAD + "    Z -= running_mean\n"
    "    return gamma * Z / np.sqrt(running_var + epsilon) + beta\n",
    "not done yet": INF_HEAD + "    raise NotImplementedError()\n",
    "γ + β": INF_HEAD + "    return (Z - running_mean) / np.sqrt(running_var + epsilon) + beta\n",
}

INF_STYLES = [INF_HEAD + body for body in (
    "    scale = gamma / np.sqrt(running_var + epsilon)\n"
    "    return scale * Z + (beta - scale * running_mean)\n",
    "    Z_hat = (Z - running_mean) * (running_var + epsilon) ** -0.5\n"
    "    return np.multiply(Z_hat, gamma) + beta\n",
)]

INF_MUTANTS |= {
    "divided by running_var + ε, the variance": INF_HEAD
    + "    return gamma * (Z - running_mean) / (running_var + epsilon) + beta\n",
    "divide by sqrt(running_var + epsilon)": INF_HEAD
    + "    return gamma * (Z - running_mean) / np.sqrt(running_var) + beta\n",
    "must give Z_tilde = β": INF_HEAD
    + "    return beta * (Z - running_mean) / np.sqrt(running_var + epsilon) + gamma\n",
    "depends on the other examples": INF_HEAD + """
    var = np.var(Z, axis=1, keepdims=True)
    return gamma * (Z - running_mean) / np.sqrt(var + epsilon) + beta
""",
    "batch of ONE example": INF_HEAD + """
    mu = np.mean(Z, axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(running_var + epsilon) + beta
""",
    "not flattened or transposed": INF_HEAD
    + "    return gamma.T * (Z - running_mean) / np.sqrt(running_var + epsilon) + beta.T\n",
    "statistics are used at test time": INF_HEAD + """
    mu = 0.5 * running_mean + 0.5 * Z.mean(axis=1, keepdims=True)
    return gamma * (Z - mu) / np.sqrt(running_var + epsilon) + beta
""",
    "subtract running_mean": INF_HEAD
    + "    return gamma * (Z + running_mean) / np.sqrt(running_var + epsilon) + beta\n",
    "changed its argument Z": INF_HEAD + """
    Z_hat = np.subtract(Z, running_mean, out=Z)
    Z_hat /= np.sqrt(running_var + epsilon)
    return gamma * Z_hat + beta
""",
}

INF_STYLES += [INF_HEAD + body for body in (
    "    out = np.empty(Z.shape)\n    for j in range(Z.shape[1]):\n"
    "        col = Z[:, j:j + 1]\n"
    "        out[:, j:j + 1] = gamma * (col - running_mean) / np.sqrt(running_var + epsilon) + beta\n"
    "    return out\n",
    "    std = np.sqrt(np.add(running_var, epsilon))\n"
    "    return gamma * np.divide(np.subtract(Z, running_mean), std) + beta\n",
)]


# ---------------------------------------------------------------- every exercise's tables
# exercise -> ({keyword: a mistake whose message must say keyword}, [correct solutions])
TABLES = {"batchnorm_forward": (FWD_MUTANTS, FWD_STYLES),
          "batchnorm_backward": (BWD_MUTANTS, BWD_STYLES),
          "update_running_stats": (RUN_MUTANTS, RUN_STYLES),
          "batchnorm_inference": (INF_MUTANTS, INF_STYLES)}


@pytest.mark.parametrize("exercise,keyword", [(e, k) for e, (mistakes, _) in TABLES.items()
                                              for k in mistakes])
def test_each_mistake_fails_with_a_message_naming_it(exercise, keyword):
    NB.must_fail(f"test_{exercise}", {exercise: TABLES[exercise][0][keyword]}, keyword)


@pytest.mark.parametrize("exercise,number", [(e, i) for e, (_, styles) in TABLES.items()
                                             for i in range(len(styles))])
def test_other_correct_styles_pass(exercise, number):
    NB.must_pass(f"test_{exercise}", {exercise: TABLES[exercise][1][number]})


def test_each_test_judges_only_its_function():
    """Every other exercise unfinished: each test still passes with its own function right."""
    stubs = {name: f"def {name}(*args, **kwargs):\n    raise NotImplementedError()\n"
             for name in EXERCISES}
    for name in EXERCISES:
        replace = {k: v for k, v in stubs.items() if k != name}
        NB.must_pass(f"test_{name}", replace)


def test_a_mutation_message_names_the_argument():
    """Arguments are compared entry by entry: the message names what was changed."""
    changes_cache = _bwd(dz=OK_DZ + "    cache['Z_hat'][0, 0] += 1.0\n")
    NB.must_fail("test_batchnorm_backward", {"batchnorm_backward": changes_cache}, "cache['Z_hat']")
    changes_var = RUN_HEAD + ("    running_var[0, 0] = 7.0\n"
                              "    return (momentum * running_mean + (1 - momentum) * mu,\n"
                              "            momentum * running_var + (1 - momentum) * var)\n")
    NB.must_fail("test_update_running_stats", {"update_running_stats": changes_var},
           "changed its argument running_var")


def test_the_checks_take_the_learners_functions_as_arguments():
    """The checks see only what a test cell passes them (the grader passes proxies of the
    learner's functions): no reaching into the caller's namespace."""
    for path in (CHECKS, CHECKS.with_name("hyperparameter_search.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("_getframe", "currentframe", "f_globals", "f_locals", "__main__"):
            assert needle not in text, f"{path.name} looks up {needle}"


# ---------------------------------------------------------------- explorers and figures
@pytest.fixture(scope="module")
def ref():
    return NB.namespace()


@pytest.fixture(scope="module")
def fns(ref):
    return {"bn_forward": ref["batchnorm_forward"], "bn_backward": ref["batchnorm_backward"],
            "update_running_stats": ref["update_running_stats"],
            "bn_inference": ref["batchnorm_inference"]}


def _not_done(name):
    ns: dict = {}
    exec(f"def {name}(*args, **kwargs):\n    raise NotImplementedError()\n", ns)
    return ns[name]


@pytest.fixture(scope="module")
def small_runs(ref, fns):
    from helpers.explorers.batchnorm import train_runs

    return train_runs(ref["X_train"], ref["Y_train"], ref["X_test"], ref["Y_test"], fns,
                      learning_rates=(0.316, 10.0))


def test_learning_rate_explorer(ref, fns, small_runs):
    from helpers.explorers.batchnorm import explore_learning_rate

    ex = explore_learning_rate(ref["X_train"], ref["Y_train"], ref["X_test"], ref["Y_test"], fns,
                               known=small_runs, show=False)
    assert ex.message == ""
    ex.set(learning_rate=10.0)
    before = ex.png
    ex.set(batchnorm=False)
    assert ex.png != before
    title = ex.figure.axes[0].get_title()
    assert "without batch norm" in title and "DIVERGED" in title  # shown as diverged


def test_batch_size_and_momentum_explorers(ref, fns, small_runs):
    from helpers.explorers.batchnorm import explore_batch_size, explore_momentum

    res = small_runs[(0.316, True)]
    ex = explore_batch_size(ref["X_train"], ref["X_test"], ref["Y_test"], res, fns, show=False)
    before = ex.png
    ex.set(batch_size=4)
    assert ex.png != before and "batches of 4" in ex.figure.axes[0].get_title()
    ex.set(batch_size=256)
    spreads = {k[0]: float(np.subtract(*np.percentile(v["mu"], [84, 16]))) for k, v in
               ex.cache["stats"].items()}
    assert spreads[4] > 3 * spreads[256]

    ex = explore_momentum(ref["X_train"], ref["X_test"], ref["Y_test"], res, fns, show=False)
    before = ex.png
    ex.set(momentum=0.999)
    assert ex.png != before and "74.1%" in ex.figure.axes[0].get_title()
    lagging = ex.cache["replay"][(0.999,)]["acc"][-1]
    tracking = ex.cache["replay"][(0.9,)]["acc"][-1]
    assert tracking > lagging + 0.1


def test_explorers_name_the_unfinished_exercise(ref, fns, small_runs):
    from helpers.explorers.batchnorm import (
        explore_batch_size,
        explore_learning_rate,
        explore_momentum,
    )

    data = (ref["X_train"], ref["Y_train"], ref["X_test"], ref["Y_test"])
    ex = explore_learning_rate(*data, dict(fns, bn_backward=_not_done("batchnorm_backward")),
                               show=False)
    assert "Not yet" in ex.message and "batchnorm_backward" in ex.message
    res = small_runs[(0.316, True)]
    ex = explore_batch_size(ref["X_train"], ref["X_test"], ref["Y_test"], res,
                            dict(fns, bn_forward=_not_done("batchnorm_forward")), show=False)
    assert "Not yet" in ex.message and "batchnorm_forward" in ex.message
    ex = explore_momentum(ref["X_train"], ref["X_test"], ref["Y_test"], res,
                          dict(fns, update_running_stats=_not_done("update_running_stats")),
                          show=False)
    assert "Not yet" in ex.message and "update_running_stats" in ex.message


def test_static_figures(ref, fns, small_runs):
    import matplotlib.pyplot as plt

    from helpers.explorers.batchnorm import (
        plot_layer_distributions,
        plot_learning_rates,
        plot_test_statistics,
        test_accuracies,
    )

    fig = plot_learning_rates(small_runs)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "α = 10: diverged" in legend
    fig = plot_layer_distributions(small_runs[(0.316, False)], small_runs[(0.316, True)])
    assert len(fig.axes) == 10
    accs = test_accuracies(ref["X_test"], ref["Y_test"], small_runs[(0.316, True)], fns)
    assert accs["batch"][1] < 0.6 < 0.9 < accs["running"]
    assert plot_test_statistics(accs).get_title()
    plt.close("all")
