"""Notebook 07 (hyperparameter search, normalizing inputs): every autograder test accepts the
solution and other correct styles and rejects the classic mistakes with a message that names
them; the explorers run the learner's functions, redraw, and show divergence and unfinished
exercises properly."""

import textwrap

import matplotlib
import numpy as np
import pytest

from tests.nbtools import Notebook

matplotlib.use("Agg")
NB = Notebook("07")
pytestmark = NB.pytestmark
TESTS = [gid for _, gid, _ in NB.cells("test")]


def solution_with(gid: str, body: str) -> str:
    """The notebook's solution cell ``gid`` with the body between the solution markers
    replaced by ``body`` (so the signature, docstring and return stay the notebook's)."""
    src = dict((g, s) for _, g, s in NB.cells("solution"))[gid]
    head, rest = src.split("### BEGIN SOLUTION", 1)
    tail = rest.split("### END SOLUTION", 1)[1]
    indent = head.splitlines()[-1]
    body = textwrap.indent(textwrap.dedent(body).strip("\n"), indent)
    return f"{head}### BEGIN SOLUTION\n{body}\n{indent}### END SOLUTION{tail}"


def test_the_notebook_has_the_five_graded_tests():
    assert TESTS == ["test_sample_log_uniform", "test_sample_beta", "test_random_search",
                     "test_zoom", "test_normalize_inputs"]



@pytest.mark.parametrize("test_id", TESTS)
def test_solution_passes(test_id):
    NB.must_pass(test_id)


RS_LOOP = """
trials = []
for _ in range(n_trials):
    hyper = {}
    for name, (kind, low, high) in space.items():
        if kind == "log":
            hyper[name] = float(sample_log_uniform(low, high, 1, rng)[0])
        elif kind == "beta":
            hyper[name] = float(sample_beta(low, high, 1, rng)[0])
        else:
            hyper[name] = int(rng.integers(low, high + 1))
    trials.append({"hyper": hyper, "score": float(train_fn(**hyper))})
{sort}
"""
# the loop sorted best first, as asked: the mistakes below change one thing of it
RS_SORTED = RS_LOOP.replace("{sort}", "trials.sort(key=lambda t: -t['score'])")


def normalize_with(axis: int = 1, sigma: str = "", zero: str = "sigma[sigma == 0] = 1.0",
                   each: str = "(X - mu) / sigma") -> str:
    """A normalize_inputs body: statistics over ``axis``, ``sigma`` (an expression), the fix of
    a zero sigma (``zero``, a statement or ""), and ``each`` array's normalized form."""
    sigma = sigma or f"X_train.std(axis={axis}, keepdims=True)"
    return (f"mu = X_train.mean(axis={axis}, keepdims=True)\nsigma = {sigma}\n{zero}\n"
            f"normalized = tuple({each} for X in (X_train, *others))\n")


MUTANTS = {
    # sample_log_uniform
    "log uniform on a linear scale": ("test_sample_log_uniform", "sample_log_uniform",
                                      "values = rng.uniform(low, high, size=n)",
                                      "uniform on a linear scale"),
    "log10 bounds, e power": ("test_sample_log_uniform", "sample_log_uniform",
                              "values = np.exp(rng.uniform(np.log10(low), np.log10(high), n))",
                              "same base"),
    "a fixed logspace grid": ("test_sample_log_uniform", "sample_log_uniform",
                              "values = np.logspace(np.log10(low), np.log10(high), n)",
                              "np.logspace"),
    "global np.random": ("test_sample_log_uniform", "sample_log_uniform",
                         "values = 10 ** np.random.uniform(np.log10(low), np.log10(high), n)",
                         "not from np.random"),
    # sample_beta
    "beta uniform": ("test_sample_beta", "sample_beta", "values = rng.uniform(low, high, size=n)",
                     "Sample 1 - β log-uniformly"),
    "beta itself log-uniform": ("test_sample_beta", "sample_beta",
                                "values = sample_log_uniform(low, high, n, rng)",
                                "Sample 1 - β log-uniformly"),
    "returns 1 - beta": ("test_sample_beta", "sample_beta",
                         "values = sample_log_uniform(1 - high, 1 - low, n, rng)",
                         "return 1 - β instead of β"),
    # random_search
    "not sorted": ("test_random_search", "random_search", RS_LOOP.replace("{sort}", ""),
                   "yours are not sorted"),
    # issue 16: an integer drawn as round(uniform(low, high)) makes both ends half as likely
    "int by rounding a uniform": (
        "test_random_search", "random_search",
        RS_SORTED.replace(
            "int(rng.integers(low, high + 1))", "int(round(rng.uniform(low, high)))"),
        "half as often"),
    "sorted worst first": ("test_random_search", "random_search",
                           RS_LOOP.replace("{sort}", "trials.sort(key=lambda t: t['score'])"),
                           "worst first"),
    "log hyperparameter uniform": (
        "test_random_search", "random_search",
        RS_SORTED.replace(
            "float(sample_log_uniform(low, high, 1, rng)[0])", "float(rng.uniform(low, high))"),
        "use sample_log_uniform"),
    "beta hyperparameter uniform": (
        "test_random_search", "random_search",
        RS_SORTED.replace(
            "float(sample_beta(low, high, 1, rng)[0])", "float(rng.uniform(low, high))"),
        "use sample_beta"),
    "int leaves out high": (
        "test_random_search", "random_search",
        RS_SORTED.replace(
            "high + 1", "high"),
        "high is included"),
    "train_fn(hyper)": (
        "test_random_search", "random_search",
        RS_SORTED.replace(
            "train_fn(**hyper)", "train_fn(hyper)"),
        "train_fn(**hyper)"),
    "hyperparameters left as arrays": (
        "test_random_search", "random_search",
        RS_SORTED.replace(
            "float(sample_log_uniform(low, high, 1, rng)[0])",
            "sample_log_uniform(low, high, 1, rng)"),
        "single number"),
    "a grid of 5 values reused": ("test_random_search", "random_search", """
        columns = {}
        for name, (kind, low, high) in space.items():
            if kind == "log":
                columns[name] = sample_log_uniform(low, high, 5, rng)
            elif kind == "beta":
                columns[name] = sample_beta(low, high, 5, rng)
            else:
                columns[name] = rng.integers(low, high + 1, 5)
        trials = []
        for i in range(n_trials):
            hyper = {k: v[i % 5].item() for k, v in columns.items()}
            trials.append({"hyper": hyper, "score": train_fn(**hyper)})
        trials.sort(key=lambda t: -t["score"])
        """, "distinct values of 'learning_rate'"),
    # zoom
    "zoom on the best trial only": ("test_zoom", "zoom", """
        new_space = {name: (kind, best_trials[0]["hyper"][name], best_trials[0]["hyper"][name])
                     for name, (kind, low, high) in space.items()}
        """, "use every trial"),
    "zoom mutates space": ("test_zoom", "zoom", """
        for name, (kind, low, high) in list(space.items()):
            values = [t["hyper"][name] for t in best_trials]
            space[name] = (kind, min(values), max(values))
        new_space = space
        """, "leave the space it was given unchanged"),
    "zoom drops the kind": ("test_zoom", "zoom", """
        new_space = {name: (min(t["hyper"][name] for t in best_trials),
                            max(t["hyper"][name] for t in best_trials)) for name in space}
        """, "same kind"),
    # normalize_inputs
    "dev normalized with its own statistics": ("test_normalize_inputs", "normalize_inputs", """
        mu = X_train.mean(axis=1, keepdims=True)
        sigma = X_train.std(axis=1, keepdims=True)
        sigma = np.where(sigma == 0, 1.0, sigma)
        normalized = tuple((X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
                           for X in (X_train, *others))
        """, "its own statistics"),
    "zero std not handled": ("test_normalize_inputs", "normalize_inputs",
                             normalize_with(zero=""), "divide by 1 where sigma is 0"),
    "zero std patched with epsilon": ("test_normalize_inputs", "normalize_inputs",
                                      normalize_with(sigma="X_train.std(axis=1, keepdims=True) + 1e-8",
                                                     zero=""), "tiny epsilon"),
    "std with 1/(m-1)": ("test_normalize_inputs", "normalize_inputs",
                         normalize_with(sigma="X_train.std(axis=1, ddof=1, keepdims=True)"),
                         "1/(m-1)"),
    "variance instead of std": ("test_normalize_inputs", "normalize_inputs",
                                normalize_with(sigma="X_train.var(axis=1, keepdims=True)"),
                                "square root"),
    # issue 16: statistics over the examples' axis gave a raw broadcasting ValueError
    "wrong axis, broadcast error": ("test_normalize_inputs", "normalize_inputs",
                                    normalize_with(axis=0), "are mu and sigma of shape (n_x, 1)"),
    "statistics over the wrong axis": ("test_normalize_inputs", "normalize_inputs",
                                       normalize_with(axis=0, each="(X - mu.mean()) / sigma.mean()"),
                                       "(axis=1)"),
    "normalized in place": ("test_normalize_inputs", "normalize_inputs", """
        mu = X_train.mean(axis=1, keepdims=True)
        sigma = X_train.std(axis=1, keepdims=True)
        sigma[sigma == 0] = 1.0
        for X in (X_train, *others):
            X -= mu
            X /= sigma
        normalized = (X_train, *others)
        """, "in place"),
}

# the larger set of issue 16 (the kind of gap, not one example): each fails naming its mistake
RS_INT = "int(rng.integers(low, high + 1))"
# a correct search with a helper that draws one value, sorted with itemgetter
RS_HELPER = """
import operator

def one(kind, low, high):
    if kind == "log":
        return sample_log_uniform(low, high, 1, rng).item()
    if kind == "beta":
        return sample_beta(low, high, 1, rng).item()
    return int(rng.integers(low, high, endpoint=True))

trials = []
for _ in range(n_trials):
    hyper = {name: one(*spec) for name, spec in space.items()}
    trials.append({"hyper": hyper, "score": train_fn(**hyper)})
trials.sort(key=operator.itemgetter("score"), reverse=True)
"""
MUTANTS |= {
    "exponent drawn between the values": ("test_sample_log_uniform", "sample_log_uniform",
                                          "values = 10 ** rng.uniform(low, high, n)",
                                          "not exponents"),
    "the exponents returned": ("test_sample_log_uniform", "sample_log_uniform",
                               "values = rng.uniform(np.log10(low), np.log10(high), n)",
                               "return 10 ** r"),
    "ln bounds, power of 10": ("test_sample_log_uniform", "sample_log_uniform",
                               "values = 10 ** rng.uniform(np.log(low), np.log(high), n)",
                               "natural logarithms"),
    "low exponent not subtracted": ("test_sample_log_uniform", "sample_log_uniform",
                                    "values = 10 ** (np.log10(low) + np.log10(high) * rng.random(n))",
                                    "distinct"),
    "one value for all n": ("test_sample_log_uniform", "sample_log_uniform",
                            "values = np.full(n, 10 ** rng.uniform(np.log10(low), np.log10(high)))",
                            "only 1 distinct"),
    "whole exponents": ("test_sample_log_uniform", "sample_log_uniform",
                        "values = 10.0 ** rng.integers(np.log10(low), np.log10(high) + 1, n)",
                        "whole exponents"),
    "a grid of 10 drawn from": ("test_sample_log_uniform", "sample_log_uniform",
                                "values = rng.choice(np.logspace(np.log10(low), np.log10(high), 10), n)",
                                "nor a grid"),
    "a generator of its own": ("test_sample_log_uniform", "sample_log_uniform",
                               "rng = np.random.default_rng(0)\n"
                               "values = 10 ** rng.uniform(np.log10(low), np.log10(high), n)",
                               "generator of your own"),
    "clipped normal exponent": ("test_sample_log_uniform", "sample_log_uniform", """
        a, b = np.log10(low), np.log10(high)
        values = 10 ** np.clip(rng.normal((a + b) / 2, (b - a) / 4, n), a, b)
        """, "spread evenly"),
    "exponent bounds reversed": ("test_sample_log_uniform", "sample_log_uniform",
                                 "values = 10 ** rng.uniform(np.log10(high), np.log10(low), n)",
                                 "smaller bound comes first"),
    "no size": ("test_sample_log_uniform", "sample_log_uniform",
                "values = 10 ** rng.uniform(np.log10(low), np.log10(high))",
                "must return shape (20000,)"),
    # scipy's loguniform refuses low == high, which the docstring allows (a zoomed range)
    "scipy loguniform, low == high": ("test_sample_log_uniform", "sample_log_uniform",
                                      "from scipy.stats import loguniform\n"
                                      "values = loguniform.rvs(low, high, size=n, random_state=rng)",
                                      "low == high is allowed"),
    "β: exponent drawn between 1 - high and 1 - low": (
        "test_sample_beta", "sample_beta", "values = 1 - 10 ** rng.uniform(1 - high, 1 - low, n)",
        "not exponents"),
    "β: bounds of 1 - β reversed": ("test_sample_beta", "sample_beta",
                                    "values = 1 - sample_log_uniform(1 - low, 1 - high, n, rng)",
                                    "1 - high (the smaller)"),
    "β: one value for all n": ("test_sample_beta", "sample_beta",
                               "values = 1 - np.full(n, sample_log_uniform(1 - high, 1 - low, 1, rng)[0])",
                               "distinct"),
    "β: np.exp of log10 bounds": ("test_sample_beta", "sample_beta",
                                  "values = 1 - np.exp(rng.uniform(np.log10(1 - high), "
                                  "np.log10(1 - low), n))", "same base"),
    "β: 1 - β drawn between low and high": ("test_sample_beta", "sample_beta",
                                            "values = 1 - sample_log_uniform(low, high, n, rng)",
                                            "instead of between 1 - high and 1 - low"),
    # draws inside a mistake's interval without filling it are not given that mistake's name
    "β: exponents of another range, no cause guessed": (
        "test_sample_beta", "sample_beta", "values = 1 - 10 ** -rng.uniform(1.2, 2.8, n)",
        "sample 1 - β log-uniformly in [1 - high, 1 - low]"),
    "β: exponents of the example range": ("test_sample_beta", "sample_beta",
                                          "values = 1 - 10 ** -rng.uniform(1, 3, n)",
                                          "must lie in [low, high] = [0.5, 0.99]"),
    # log(1) = log10(1) = 0 hides a mixed base in [1e-4, 1]; the hidden range [2, 50] shows it
    "bases mixed, ln(low) and log10(high)": ("test_sample_log_uniform", "sample_log_uniform",
                                             "values = np.exp(rng.uniform(np.log(low), "
                                             "np.log10(high), n))", "same base"),
    "int truncated from a uniform": ("test_random_search", "random_search",
                                     RS_SORTED.replace(RS_INT, "int(rng.uniform(low, high))"),
                                     "int(uniform(low, high)) leave it out"),
    "int with high + 1 and endpoint=True": ("test_random_search", "random_search",
                                            RS_SORTED.replace(RS_INT, "int(rng.integers(low, high + "
                                                              "1, endpoint=True))"),
                                            "must stay within 2..5"),
    "int from range(low, high)": ("test_random_search", "random_search",
                                  RS_SORTED.replace(RS_INT, "int(rng.choice(range(low, high)))"),
                                  "range(low, high)"),
    "one hyper dict for every trial": ("test_random_search", "random_search", RS_SORTED.replace(
        "trials = []\n", "trials = []\nhyper = {}\n").replace("    hyper = {}\n", ""),
        "same 'hyper' dict"),
    "a generator of its own in the search": ("test_random_search", "random_search",
                                             "rng = np.random.default_rng(0)\n" + RS_SORTED,
                                             "generator of your own"),
    "kind read from the name": ("test_random_search", "random_search", RS_SORTED.replace(
        'if kind == "log"', 'if name == "learning_rate"').replace(
        'elif kind == "beta"', 'elif name == "beta"'), "by its kind"),
    "train_fn called positionally": ("test_random_search", "random_search", RS_SORTED.replace(
        "train_fn(**hyper)", "train_fn(*hyper.values())"), "train_fn(**hyper)"),
    "one setting for all trials": ("test_random_search", "random_search", RS_HELPER.replace(
        "for _ in range(n_trials):\n    hyper = {name: one(*spec) for name, spec in space.items()}",
        "hyper = {name: one(*spec) for name, spec in space.items()}\nfor _ in range(n_trials):"
    ).replace('{"hyper": hyper,', '{"hyper": dict(hyper),'), "distinct values"),
    "sorted by a hyperparameter": ("test_random_search", "random_search", RS_LOOP.replace(
        "{sort}", "trials.sort(key=lambda t: -t['hyper']['n_h'])"), "not sorted"),
    "only the best ten returned": ("test_random_search", "random_search",
                                   RS_SORTED + "trials = trials[:10]\n", "list of 400 trials"),
    "zoom on the first three": ("test_zoom", "zoom", """
        new_space = {}
        for name, (kind, low, high) in space.items():
            values = [t["hyper"][name] for t in best_trials[:3]]
            new_space[name] = (kind, min(values), max(values))
        """, "use every trial"),
    "zoom by the order of the values": ("test_zoom", "zoom", """
        columns = list(zip(*[list(t["hyper"].values()) for t in best_trials]))
        new_space = {name: (kind, min(col), max(col))
                     for (name, (kind, low, high)), col in zip(space.items(), columns)}
        """, "use every trial"),
    "zoom with low and high swapped": ("test_zoom", "zoom", """
        new_space = {}
        for name, (kind, low, high) in space.items():
            values = [t["hyper"][name] for t in best_trials]
            new_space[name] = (kind, max(values), min(values))
        """, "swapped"),
    "zoom widened": ("test_zoom", "zoom", """
        new_space = {}
        for name, (kind, low, high) in space.items():
            values = [t["hyper"][name] for t in best_trials]
            new_space[name] = (kind, min(values) / 2, max(values) * 2)
        """, "smallest one"),
    "zoom keeps the old low": ("test_zoom", "zoom", """
        new_space = {}
        for name, (kind, low, high) in space.items():
            values = [t["hyper"][name] for t in best_trials]
            new_space[name] = (kind, low, max(values))
        """, "smallest one"),
    "zoom sorts best_trials": ("test_zoom", "zoom", """
        best_trials.sort(key=lambda t: t["score"])
        new_space = {}
        for name, (kind, low, high) in space.items():
            values = [t["hyper"][name] for t in best_trials]
            new_space[name] = (kind, min(values), max(values))
        """, "don't sort"),
    "statistics of all sets together": ("test_normalize_inputs", "normalize_inputs", """
        X_all = np.hstack([X_train, *others])
        mu = X_all.mean(axis=1, keepdims=True)
        sigma = X_all.std(axis=1, keepdims=True)
        sigma[sigma == 0] = 1.0
        normalized = tuple((X - mu) / sigma for X in (X_train, *others))
        """, "TRAINING examples"),
    "sigma 0 replaced only in the division": ("test_normalize_inputs", "normalize_inputs",
                                              normalize_with(sigma="X_train.std(axis=1, keepdims="
                                                             "True)", zero="",
                                                             each="(X - mu) / np.where(sigma == 0,"
                                                                  " 1, sigma)"),
                                              "return the sigma you divided by"),
    "the other sets changed in place": ("test_normalize_inputs", "normalize_inputs", """
        mu = X_train.mean(axis=1, keepdims=True)
        sigma = X_train.std(axis=1, keepdims=True)
        sigma[sigma == 0] = 1.0
        for X in others:
            X -= mu
            X /= sigma
        normalized = ((X_train - mu) / sigma, *others)
        """, "others[0]"),
    "min-max scaling": ("test_normalize_inputs", "normalize_inputs", """
        mu = X_train.min(axis=1, keepdims=True)
        sigma = X_train.max(axis=1, keepdims=True) - mu
        sigma[sigma == 0] = 1.0
        normalized = tuple((X - mu) / sigma for X in (X_train, *others))
        """, "mean 0"),
    "root mean square, not centred": ("test_normalize_inputs", "normalize_inputs",
                                      normalize_with(sigma="np.sqrt(np.mean(X_train ** 2, axis=1, "
                                                           "keepdims=True))"),
                                      "standard deviation 1"),
    "dev divided by its own sigma": ("test_normalize_inputs", "normalize_inputs",
                                     normalize_with(each="(X - mu) / (sigma if X is X_train else "
                                                         "X.std(axis=1, keepdims=True))"),
                                     "training statistics"),
    "no keepdims": ("test_normalize_inputs", "normalize_inputs", """
        mu = X_train.mean(axis=1)
        sigma = X_train.std(axis=1)
        sigma[sigma == 0] = 1.0
        normalized = tuple((X - mu) / sigma for X in (X_train, *others))
        """, "keepdims=True"),
    "the training set not returned": ("test_normalize_inputs", "normalize_inputs",
                                      normalize_with() + "normalized = normalized[1:]\n",
                                      "one normalized array per input"),
    "X_train changed through out=": ("test_normalize_inputs", "normalize_inputs", """
        mu = X_train.mean(axis=1, keepdims=True)
        sigma = X_train.std(axis=1, keepdims=True)
        sigma[sigma == 0] = 1.0
        np.subtract(X_train, mu, out=X_train)
        np.divide(X_train, sigma, out=X_train)
        normalized = (X_train, *((X - mu) / sigma for X in others))
        """, "changed its argument X_train"),
    "sigma floored at 1e-8": ("test_normalize_inputs", "normalize_inputs",
                              normalize_with(sigma="np.maximum(X_train.std(axis=1, keepdims=True),"
                                                   " 1e-8)", zero=""), "tiny epsilon"),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_mutant_fails_with_a_pointed_message(name):
    test_id, gid, body, keyword = MUTANTS[name]
    ok, msg = NB.run_test(test_id, replace={gid: solution_with(gid, body)})
    assert not ok, f"mutant {name!r} passed {test_id}"
    assert keyword in msg, f"mutant {name!r}: message does not say {keyword!r}: {msg}"


ALTERNATIVES = {
    "log uniform, natural logs": ("test_sample_log_uniform", "sample_log_uniform",
                                  "values = np.exp(rng.uniform(np.log(low), np.log(high), n))"),
    "log uniform, a loop of ratios": ("test_sample_log_uniform", "sample_log_uniform",
                                      "values = np.array([low * (high / low) ** rng.random() "
                                      "for _ in range(n)])"),
    "beta written out": ("test_sample_beta", "sample_beta", """
        r = rng.uniform(np.log10(1 - high), np.log10(1 - low), n)
        values = 1 - 10 ** r
        """),
    "beta, a loop": ("test_sample_beta", "sample_beta", """
        values = np.empty(n)
        for i in range(n):
            one_minus = np.exp(rng.uniform(np.log(1 - high), np.log(1 - low)))
            values[i] = 1 - one_minus
        """),
    "random search, columns first": ("test_random_search", "random_search", """
        columns = {}
        for name, (kind, low, high) in space.items():
            if kind == "log":
                columns[name] = sample_log_uniform(low, high, n_trials, rng)
            elif kind == "beta":
                columns[name] = sample_beta(low, high, n_trials, rng)
            else:
                columns[name] = rng.integers(low, high, n_trials, endpoint=True)
        trials = []
        for i in range(n_trials):
            hyper = {k: v[i] for k, v in columns.items()}
            trials.append({"hyper": hyper, "score": train_fn(**hyper)})
        trials = sorted(trials, key=lambda t: -t["score"])
        """),
    "random search, int as floor of a uniform": ("test_random_search", "random_search",
        RS_SORTED.replace(
            "int(rng.integers(low, high + 1))", "int(np.floor(rng.uniform(low, high + 1)))")),
    "zoom with numpy": ("test_zoom", "zoom", """
        new_space = {}
        for name in space:
            values = np.array([trial["hyper"][name] for trial in best_trials])
            new_space[name] = (space[name][0], values.min(), values.max())
        """),
    "normalize, a loop over features": ("test_normalize_inputs", "normalize_inputs", """
        n_x, m = X_train.shape
        mu = np.zeros((n_x, 1))
        sigma = np.ones((n_x, 1))
        for j in range(n_x):
            mu[j, 0] = np.sum(X_train[j]) / m
            var = np.sum((X_train[j] - mu[j, 0]) ** 2) / m
            if var > 1e-24:
                sigma[j, 0] = np.sqrt(var)
        normalized = [(X - mu) / sigma for X in [X_train, *others]]
        """),
}

ALTERNATIVES |= {
    "log uniform, an affine map of random()": ("test_sample_log_uniform", "sample_log_uniform", """
        a, b = np.log10(low), np.log10(high)
        values = np.power(10.0, a + (b - a) * rng.random(n))
        """),
    "log uniform, low times a power of 10": ("test_sample_log_uniform", "sample_log_uniform",
                                             "values = low * 10 ** (rng.random(n) * np.log10(high / low))"),
    "log uniform, base 2": ("test_sample_log_uniform", "sample_log_uniform",
                            "values = 2.0 ** rng.uniform(np.log2(low), np.log2(high), size=(n,))"),
    "log uniform, one keyword call per value": ("test_sample_log_uniform", "sample_log_uniform",
                                                "values = np.array([10 ** rng.uniform(low=np.log10("
                                                "low), high=np.log10(high)) for _ in range(n)])"),
    "beta, a ratio to a random power": ("test_sample_beta", "sample_beta",
                                        "values = 1 - (1 - high) * ((1 - low) / (1 - high)) ** "
                                        "rng.random(n)"),
    "beta, scipy's loguniform on 1 - β": ("test_sample_beta", "sample_beta",
                                          "from scipy.stats import loguniform\nvalues = 1 - "
                                          "loguniform.rvs(1 - high, 1 - low, size=n, "
                                          "random_state=rng)"),
    "random search, int rounded from a widened uniform": (
        "test_random_search", "random_search",
        RS_SORTED.replace(RS_INT, "int(np.round(rng.uniform(low - 0.5, high + 0.5)))")),
    "random search, int chosen from arange": ("test_random_search", "random_search",
                                              RS_SORTED.replace(RS_INT, "rng.choice(np.arange("
                                                                "low, high + 1))")),
    "random search, sorted then reversed": ("test_random_search", "random_search", RS_LOOP.replace(
        "{sort}", "trials = sorted(trials, key=lambda t: t['score'])[::-1]")),
    "random search, a helper and itemgetter": ("test_random_search", "random_search", RS_HELPER),
    "zoom, a copy of space updated": ("test_zoom", "zoom", """
        new_space = dict(space)
        for name in new_space:
            values = sorted(t["hyper"][name] for t in best_trials)
            new_space[name] = (space[name][0], values[0], values[-1])
        """),
    # (kind, low, high) as a list: the visible and the hidden checks both accept it
    "zoom, lists": ("test_zoom", "zoom", """
        new_space = {}
        for name, (kind, low, high) in space.items():
            values = [t["hyper"][name] for t in best_trials]
            new_space[name] = [kind, min(values), max(values)]
        """),
    "zoom, deepcopy and numpy": ("test_zoom", "zoom", """
        import copy
        new_space = copy.deepcopy(space)
        for name, (kind, low, high) in space.items():
            values = np.array([t["hyper"][name] for t in best_trials])
            new_space[name] = (kind, np.min(values), np.max(values))
        """),
    "normalize, sigma + (sigma == 0)": ("test_normalize_inputs", "normalize_inputs", """
        mu = np.mean(X_train, axis=1).reshape(-1, 1)
        sigma = np.sqrt(np.mean((X_train - mu) ** 2, axis=1)).reshape(-1, 1)
        sigma = sigma + (sigma == 0)
        normalized = [np.divide(X - mu, sigma) for X in (X_train,) + others]
        """),
    "normalize, copies changed in place": ("test_normalize_inputs", "normalize_inputs", """
        mu = X_train.mean(axis=1, keepdims=True)
        sigma = X_train.std(axis=1, keepdims=True)
        sigma[sigma < 1e-12] = 1
        normalized = []
        for X in (X_train, *others):
            Y = X.astype(float).copy()
            Y -= mu
            Y /= sigma
            normalized.append(Y)
        normalized = tuple(normalized)
        """),
}


@pytest.mark.parametrize("name", ALTERNATIVES)
def test_other_correct_styles_pass(name):
    test_id, gid, body = ALTERNATIVES[name]
    ok, msg = NB.run_test(test_id, replace={gid: solution_with(gid, body)})
    assert ok, f"correct style {name!r} failed {test_id}: {msg}"


def test_random_search_int_check_passes_on_other_seeds():
    """The bound on the counts of an 'int' hyperparameter is one a correct sampler passes with
    overwhelming probability (Hoeffding, 2e-9 per value): it holds on many other seeds too."""
    from helpers.checks import counts_bound

    ns = NB.namespace()
    bound = counts_bound(4000, 0.25)
    for seed in range(40):
        ints = [t["hyper"]["n_h"] for t in ns["random_search"](
            lambda n_h: 0.0, {"n_h": ("int", 2, 5)}, 4000, np.random.default_rng(seed))]
        assert all(abs(ints.count(v) - 1000) < bound for v in (2, 3, 4, 5)), seed
        rounded = np.rint(np.random.default_rng(seed).uniform(2, 5, 4000)).astype(int).tolist()
        assert any(abs(rounded.count(v) - 1000) >= bound for v in (2, 5)), seed


def test_search_checks_pass_on_other_seeds():
    """The checks added for the larger set of mistakes (kinds read from the space under other
    names, another seed giving other trials) hold for the solution on many seeds, not only the
    test cell's."""
    from helpers.checks.hyperparameter_search import (
        check_kinds_not_names,
        check_same_seed_same_trials,
    )

    ns = NB.namespace()
    samplers = {"log": ns["sample_log_uniform"], "beta": ns["sample_beta"]}
    for seed in range(25):
        check_kinds_not_names(ns["random_search"], samplers, seed=seed)
        check_same_seed_same_trials(ns["random_search"], {"n_h": ("int", 1, 3)}, seed=seed)


def test_random_search_names_a_wrong_sampler():
    """random_search calls the learner's sample_log_uniform (its docstring says so): when that
    one is wrong, the message names it instead of blaming random_search."""
    wrong = solution_with("sample_log_uniform", "values = rng.uniform(low, high, size=n)")
    ok, msg = NB.run_test("test_random_search", replace={"sample_log_uniform": wrong})
    assert not ok and "calls your `sample_log_uniform`" in msg, msg
    ok, msg = NB.run_test("test_sample_beta", replace={"sample_log_uniform": wrong})
    assert not ok and "calls your `sample_log_uniform`" in msg, msg


def test_a_sampler_is_blamed_only_by_a_function_that_calls_it():
    """sample_beta written out (not calling sample_log_uniform) is judged on its own mistake,
    even while the learner's sample_log_uniform is wrong."""
    wrong_log = solution_with("sample_log_uniform", "values = rng.uniform(low, high, size=n)")
    beta_returns_1_minus = solution_with("sample_beta", """
        r = rng.uniform(np.log10(1 - high), np.log10(1 - low), n)
        values = 10 ** r
        """)
    ok, msg = NB.run_test("test_sample_beta", replace={"sample_log_uniform": wrong_log,
                                                       "sample_beta": beta_returns_1_minus})
    assert not ok and "return 1 - β instead of β" in msg and "calls your" not in msg, msg


# Neighbours of the mistakes above (issue 16: fix the kind of gap): each fails, naming it.
NEIGHBOURS = {
    # a log scale squeezed toward its low end: right range, wrong shape
    "log exponent skewed": ("test_sample_log_uniform", "sample_log_uniform", """
        r = np.log10(low) + (np.log10(high) - np.log10(low)) * rng.random(n) ** 1.3
        values = 10 ** r
        """, "uniformly in [log10(low), log10(high)]"),
    "log exponent skewed in the search": ("test_random_search", "random_search", RS_SORTED.replace(
        "float(sample_log_uniform(low, high, 1, rng)[0])",
        "float(low * (high / low) ** (rng.random() ** 2))"), "use sample_log_uniform"),
    "train_fn called twice per trial": ("test_random_search", "random_search", RS_SORTED.replace(
        'trials.append({"hyper": hyper, "score": float(train_fn(**hyper))})',
        'train_fn(**hyper)\n    trials.append({"hyper": hyper, "score": float(train_fn(**hyper))})'),
        "call it once per trial"),
    # a TypeError of random_search's own is not blamed on the way train_fn is called
    "a TypeError of its own": ("test_random_search", "random_search", RS_SORTED.replace(
        "int(rng.integers(low, high + 1))", "int(rng.integers(low, high + 1, size=2))"),
        "your `random_search` raised TypeError"),
}


@pytest.mark.parametrize("name", NEIGHBOURS)
def test_neighbouring_mistakes_fail_naming_them(name):
    test_id, gid, body, keyword = NEIGHBOURS[name]
    NB.must_fail(test_id, {gid: solution_with(gid, body)}, keyword)


def test_spread_bounds_hold_for_correct_samplers_and_not_for_the_mistakes():
    """The spread check's bounds: correct draws pass on many seeds and sizes; linear-uniform
    draws, and β drawn uniformly, fail at every size the notebook uses."""
    from helpers.checks.hyperparameter_search import spread_finding

    for seed in range(60):
        rng = np.random.default_rng(seed)
        for n in (400, 2000, 20000):
            log = 10 ** rng.uniform(-4, 0, n)
            beta = 1 - 10 ** rng.uniform(-3, -1, n)
            assert spread_finding(log, "log", 1e-4, 1.0) is None, (seed, n)
            assert spread_finding(beta, "beta", 0.9, 0.999) is None, (seed, n)
            assert spread_finding(rng.uniform(1e-4, 1.0, n), "log", 1e-4, 1.0) is not None
            assert spread_finding(rng.uniform(0.9, 0.999, n), "beta", 0.9, 0.999) is not None


def test_int_counts_name_rounding_for_other_ranges():
    """The check of an 'int' hyperparameter's counts is not tuned to (2, 5)."""
    from helpers.checks import CheckFailed
    from helpers.checks.hyperparameter_search import check_int_draws

    ns = NB.namespace({"random_search": solution_with("random_search", RS_SORTED.replace(
        "int(rng.integers(low, high + 1))", "int(round(rng.uniform(low, high)))"))})
    with pytest.raises(CheckFailed, match="half as often"):
        check_int_draws(ns["random_search"], low=1, high=6, n_trials=6000, seed=5)
    check_int_draws(NB.namespace()["random_search"], low=1, high=6, n_trials=6000, seed=5)


# ---------------------------------------------------------------- the explorers

@pytest.fixture(scope="module")
def ns():
    return NB.namespace()


def test_normalization_explorer_redraws_and_shows_divergence(ns):
    from helpers.explorers.hyperparameters import explore_normalization, regression_data

    X, y = regression_data()
    ex = explore_normalization(ns["normalize_inputs"], X, y, show=False)
    assert ex.message == "" and ex.png[:4] == b"\x89PNG"
    raw, norm = (a.get_title() for a in ex.figure.axes[:2])
    assert "converged" in raw and "converged" in norm and "diverged" not in raw + norm
    first = ex.png
    ex.set(learning_rate=1.0)  # raw inputs diverge, normalized converge at once
    assert ex.png != first
    raw, norm = (a.get_title() for a in ex.figure.axes[:2])
    assert "diverged at step" in raw and "converged in" in norm
    ex.set(learning_rate=10 ** 0.5)  # both diverge: shown, not crashed
    raw, norm = (a.get_title() for a in ex.figure.axes[:2])
    assert "diverged" in raw and "diverged" in norm and ex.message == ""


def test_normalization_explorer_names_the_unfinished_exercise():
    from helpers.explorers.hyperparameters import explore_normalization, regression_data

    def normalize_inputs(X_train, *others):
        raise NotImplementedError()

    ex = explore_normalization(normalize_inputs, *regression_data(), show=False)
    assert "Not yet" in ex.message and "normalize_inputs" in ex.message
    assert "Traceback" not in ex.message


def test_trials_explorer_runs_the_learners_search(ns):
    from helpers.explorers.hyperparameters import explore_search_trials

    ex = explore_search_trials(ns["random_search"], show=False)
    assert ex.message == ""
    first = ex.png
    ex.set(n_trials=64)
    assert ex.png != first
    result = ex.cache["trials"][(64,)]
    assert len(result["random"]) == 64 and len(result["grid"]) == 64
    assert "64 trials" in ex.figure.axes[1].get_title()


def test_trials_explorer_names_the_unfinished_exercise(ns):
    from helpers.explorers.hyperparameters import explore_search_trials

    def sample_log_uniform(low, high, n, rng):
        raise NotImplementedError()

    def random_search(train_fn, space, n_trials, rng):
        return [sample_log_uniform(1, 2, 1, rng)]

    ex = explore_search_trials(random_search, show=False)
    assert "Not yet" in ex.message and "sample_log_uniform" in ex.message


def test_descent_reports_converged_running_and_diverged():
    from helpers.explorers.hyperparameters import bowl, descent, regression_data

    p = bowl(*regression_data())
    assert np.all(np.linalg.eigvalsh(p["H"]) > 0)
    assert descent(p, 0.1)["status"] == "converged"
    assert descent(p, 1e-3, max_steps=50)["status"] == "running"
    d = descent(p, 1.0)
    assert d["status"] == "diverged" and "diverged at step" in d["message"]


def test_explorer_pictures_follow_the_sliders(ns):
    from helpers.explorers.hyperparameters import (
        explore_normalization,
        explore_search_trials,
        regression_data,
    )

    ex = explore_normalization(ns["normalize_inputs"], *regression_data(), show=False)
    ex.set(learning_rate=1.0)
    axes = ex.figure.axes
    path = axes[0].get_lines()[0]
    assert path.get_color() != axes[1].get_lines()[0].get_color(), \
        "the raw run (diverged) and the normalized one (converged) differ in colour"

    ex = explore_search_trials(ns["random_search"], show=False)
    ex.set(n_trials=36)
    axes = ex.figure.axes
    trials = axes[1].get_lines()[0]
    assert len(trials.get_xdata()) == 36 and "36 trials" in axes[1].get_title()
    legend = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert any(label.startswith("best: ") for label in legend)
