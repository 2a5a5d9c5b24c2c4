"""The checks of notebook 07's exercises: the two samplers, random search, zoom, normalize_inputs.

A test cell passes the learner's function and its own case, e.g.::

    check_sampler(sample_log_uniform, "log", low=1e-4, high=1.0, n=20000, seed=101)

and each function here checks one property and fails with a sentence that names the mistake.
Nothing here computes an exercise's answer: the samplers and random search are judged by where
their draws lie on the hyperparameter's log scale (``log_position``; one piece of code, with one
set of statistical bounds, serves both samplers and random search), ``zoom`` against ranges the
test cell reads off its own trials, ``normalize_inputs`` by properties of what it returns.

A hyperparameter's *kind* is the one of ``random_search``'s space: "log" (a float drawn
log-uniformly in [low, high]), "beta" (β in [low, high] with 1 - β log-uniform), "int".
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from helpers.checks import (
    ExerciseNotDone,
    Snapshot,
    as_array,
    check,
    counts_bound,
    fail,
    function_name,
    ks_bound,
    ks_uniform,
    prerequisite,
    uses,
)

# The chance that a correct sampler fails one of the bounds below, per bound.
FALSE_ALARM = 1e-9


def _num(x: float) -> str:
    """A bound as a learner writes it: 0.999, 10, 1e-4."""
    if x == 0 or abs(x) >= 1e-3:
        return f"{x:.4g}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


# ---------------------------------------------------------------- where draws lie on a log scale
def log_position(values: Any, kind: str, low: float, high: float) -> np.ndarray:
    """Where each value lies on the log scale of its ``kind``, from 0 to 1 (uniform on [0, 1]
    for a correct sampler). values (n,) -> (n,).

    "log":  (log10 v - log10 low) / (log10 high - log10 low)
    "beta": (log10(1 - v) - log10(1 - high)) / (log10(1 - low) - log10(1 - high)), 0 at β = high
    """
    v = np.ravel(np.asarray(values, dtype=float))
    with np.errstate(all="ignore"):
        if kind == "log":
            a, b, x = math.log10(low), math.log10(high), np.log10(v)
        else:
            a, b, x = math.log10(1 - high), math.log10(1 - low), np.log10(1 - v)
        return (x - a) / (b - a)


def _scale(kind: str, low: float, high: float, noun: str) -> str:
    """The log scale of ``kind`` in words, with its interval: "log10 of the values over [-4, 0]"."""
    if kind == "log":
        return f"log10 of the {noun} over [{math.log10(low):.3g}, {math.log10(high):.3g}]"
    return f"log10(1 - β) over [{math.log10(1 - high):.3g}, {math.log10(1 - low):.3g}]"


def _half(kind: str, low: float, high: float, share: float, noun: str) -> str:
    """"Only x % of the values are below the middle of the log scale, but half should be"."""
    if kind == "log":
        mid = math.sqrt(low * high)
        return (f"only {share:.1%} of the {noun} are below {_num(mid)}, but on a log scale half of "
                f"[{_num(low)}, {_num(high)}] lies below {_num(mid)}")
    mid = 1 - math.sqrt((1 - low) * (1 - high))
    return (f"only {share:.1%} of the {noun} are above {_num(mid)}, but half of them should be "
            f"(1 - β in [{_num(1 - high)}, {_num(1 - mid)}] is half of the log scale of 1 - β)")


def spread_finding(values: Any, kind: str, low: float, high: float,
                   noun: str = "values") -> tuple[str, str] | None:
    """What is wrong with the spread of ``values`` (n,), drawn for a ``kind`` hyperparameter in
    [low, high] (low < high), as (property, a sentence of fact); None when nothing is.

    The properties, checked in this order: "finite" (a NaN or an infinite value), "range" (a
    value outside [low, high]), "distinct" (values repeated: one value for all, whole exponents,
    a grid), "span" (no
    draw in the first or the last quarter of the log scale), "half" (too few draws in the half
    of the log scale nearest to low for "log", to high for "beta"), "quarters" (the four quarters
    of the log scale unevenly filled), "ks" (Kolmogorov-Smirnov distance to the uniform law).
    Each bound is one a correct sampler fails with probability below FALSE_ALARM.
    """
    v = np.ravel(np.asarray(values, dtype=float))
    n, tol = v.size, 1e-9 * max(abs(low), abs(high))
    interval = f"[{_num(low)}, {_num(high)}]"
    if not np.all(np.isfinite(v)):
        return "finite", f"some of the {noun} are NaN or infinite"
    if v.min() < low - tol or v.max() > high + tol:
        return "range", (f"the {noun} must lie in [low, high] = {interval}, got values from "
                         f"{v.min():.4g} to {v.max():.4g}")
    distinct = len(np.unique(v))
    if distinct < n / 2:  # n floats drawn from a continuous law are all different
        return "distinct", f"{n} draws gave only {distinct} distinct {noun}"
    u = log_position(v, kind, low, high)
    if u.min() > 0.25 or u.max() < 0.75:
        return "span", (f"{n} draws should fill the whole range {interval}, but they only span "
                        f"[{v.min():.3g}, {v.max():.3g}]")
    share = float(np.mean(u < 0.5))
    if share < 0.5 - counts_bound(n, 0.5, FALSE_ALARM) / n:
        return "half", _half(kind, low, high, share, noun)
    quarters = np.histogram(u, bins=4, range=(0.0, 1.0))[0] / n
    if np.max(np.abs(quarters - 0.25)) > counts_bound(n, 0.25, FALSE_ALARM) / n:
        return "quarters", (f"{_scale(kind, low, high, noun)} should be spread evenly: each "
                            f"quarter should get 25% of the draws, got {np.round(quarters, 3)}")
    distance, bound = ks_uniform(u), ks_bound(n, FALSE_ALARM)
    if distance >= bound:
        return "ks", (f"{_scale(kind, low, high, noun)} is not spread evenly (Kolmogorov-"
                      f"Smirnov distance {distance:.3f}; a correct sampler's stays below "
                      f"{bound:.3f})")
    return None


def blame_sampler(user: Callable, sampler: Callable | None, kind: str, low: float,
                  high: float) -> None:
    """Fail naming ``sampler`` when ``user`` calls it (as its docstring asks) and the sampler's
    own draws in [low, high] are wrong: the mistake is the sampler's, not ``user``'s."""
    if sampler is None or not uses(user, names=[function_name(sampler)]):
        return
    try:
        own = draw(sampler, low, high, 2000, seed=1)
        ok = spread_finding(own, kind, low, high) is None
    except AssertionError:
        ok = False
    what = "does not draw log-uniformly" if kind == "log" else "does not draw 1 - β log-uniformly"
    prerequisite(function_name(sampler), ok, function_name(user), what)


# ---------------------------------------------------------------- the samplers
SAMPLER_ADVICE = {
    "log": {
        "range": "draw the exponent r uniformly between log10(low) and log10(high) and return "
                 "10 ** r (the logarithm and the power in the same base)",
        "span": "take the logarithm of the bounds and the power in the same base (10 ** r after "
                "log10, or np.exp after np.log)",
        "half": "this looks uniform on a linear scale. Draw the exponent r uniformly in "
                "[log10(low), log10(high)] and return 10 ** r",
        "distinct": "draw n values, each with its own exponent from a continuous uniform law, "
                    "r = rng.uniform(log10(low), log10(high), size=n) (not one value repeated, "
                    "whole exponents, nor a grid), and return 10 ** r",
        "": "draw the exponent r uniformly in [log10(low), log10(high)] and return 10 ** r",
    },
    "beta": {
        "range": "sample 1 - β log-uniformly in [1 - high, 1 - low] (10 ** r with r between "
                 "their log10), then β = 1 - that",
        "half": "this looks like β sampled uniformly (or β itself sampled on a log scale). "
                "Sample 1 - β log-uniformly in [1 - high, 1 - low], then β = 1 - that",
        "distinct": "draw n values of 1 - β, each from a continuous law (size=n; not one value "
                    "repeated nor a grid), log-uniformly in [1 - high, 1 - low]",
        "": "sample 1 - β log-uniformly in [1 - high, 1 - low], then β = 1 - that",
    },
}


def _fills(x: np.ndarray, lo: float, hi: float, log: bool) -> bool:
    """True when the draws x lie in [lo, hi] and reach both of its ends (within a tenth of its
    width, on a log scale when ``log``): thousands of draws of a law that fills that interval."""
    with np.errstate(all="ignore"):
        x, lo, hi = (np.log10(x), math.log10(lo), math.log10(hi)) if log else (x, lo, hi)
        u = (x - lo) / (hi - lo)
    return bool(np.all(np.isfinite(u)) and u.min() >= -1e-9 and u.max() <= 1 + 1e-9
                and u.min() < 0.1 and u.max() > 0.9)


def range_cause(values: Any, kind: str, low: float, high: float) -> str | None:
    """Advice for draws outside [low, high] when they fill the interval where a known mistake
    puts them: 1 - β, the exponents themselves, an exponent drawn between the values, two bases
    mixed. None when no mistake's interval fits."""
    v = np.ravel(np.asarray(values, dtype=float))
    a, b = (low, high) if kind == "log" else (1 - high, 1 - low)  # the log-uniform quantity
    if kind == "beta" and _fills(v, a, b, log=True):
        return ("your values fill [1 - high, 1 - low]: you return 1 - β instead of β, or drew "
                "1 - β between low and high instead of between 1 - high and 1 - low")
    x = v if kind == "log" else 1 - v
    la, lb, ea, eb = math.log10(a), math.log10(b), math.log(a), math.log(b)
    causes = [((la, lb, False), "look like the exponents r themselves (in [log10(low), "
                                "log10(high)]): return 10 ** r"),
              ((10 ** a, 10 ** b, True), "look like 10 ** r with r drawn between the bounds "
                                         "themselves: the bounds are values, not exponents, so "
                                         "draw r between their log10"),
              ((10 ** ea, 10 ** eb, True), "look like 10 ** r with r drawn between natural "
                                           "logarithms: take the logarithm and the power in the "
                                           "same base"),
              ((math.exp(la), math.exp(lb), True), "look like np.exp(r) with r drawn between "
                                                   "log10 values: take the logarithm and the "
                                                   "power in the same base")]
    what = "your values" if kind == "log" else "your 1 - β values"
    for (lo, hi, log), advice in causes:
        if _fills(x, lo, hi, log):
            return f"{what} {advice}"
    return None


SAMPLER_HINTS = {"ValueError": "if it is rng.uniform's 'high - low < 0': the smaller bound comes "
                 "first, log10(low) then log10(high); for 1 - β, 1 - high (the smaller) then 1 - low"}


def draw(sampler: Callable, low: float, high: float, n: int, seed: int) -> np.ndarray:
    """sampler(low, high, n, rng) with rng = np.random.default_rng(seed), as floats of shape
    (n,), or a sentence about what it returned."""
    values = as_array(sampler(low, high, n, np.random.default_rng(seed)),
                      f"the values of {function_name(sampler)}")
    check(values.shape == (n,), f"{function_name(sampler)}({_num(low)}, {_num(high)}, {n}, rng) must "
          f"return shape ({n},), got {values.shape}")
    return values


def check_sampler(sampler: Callable, kind: str, low: float, high: float, n: int, seed: int,
                  calls: Callable | None = None) -> np.ndarray:
    """Draw n values (n in the thousands) of a ``kind`` hyperparameter in [low, high] and check
    their spread on its log scale (``spread_finding``); returns them, shape (n,).

    calls  for a "beta" sampler, the "log" sampler it is asked to use (sample_beta calls
           sample_log_uniform): when that one is wrong, the message names it.
    """
    values = draw(sampler, low, high, n, seed)
    found = spread_finding(values, kind, low, high, "values" if kind == "log" else "β values")
    if found:
        if calls is not None and kind == "beta":
            blame_sampler(sampler, calls, "log", 1 - high, 1 - low)
        advice = SAMPLER_ADVICE[kind]
        cause = range_cause(values, kind, low, high) if found[0] == "range" else None
        fail(f"{found[1]}: {cause or advice.get(found[0], advice[''])}")
    return values


def check_draws_from_rng(sampler: Callable, low: float, high: float) -> None:
    """Five values with the same seed twice are the same; with another seed they differ."""
    a, b = draw(sampler, low, high, 5, seed=3), draw(sampler, low, high, 5, seed=3)
    check(np.array_equal(a, b), "two generators with the same seed gave different values: draw "
          "the random numbers from rng, not from np.random")
    check(not np.array_equal(a, draw(sampler, low, high, 5, seed=4)), "two different seeds gave "
          "the same values: the values must be random draws from the rng argument (not from a "
          "generator of your own, nor a fixed grid such as np.logspace)")


# ---------------------------------------------------------------- random_search
DRAWN = {"log": "log-uniformly (use sample_log_uniform)", "beta": "through 1 - β (use sample_beta)"}


def stand_in_score(space: Mapping[str, tuple], hyper: Mapping[str, Any]) -> float:
    """The dev score of a setting ``hyper`` of ``space`` for a stand-in train_fn: best in the
    middle of each float hyperparameter's log scale, a little better for larger ints."""
    score = 0.0
    for name, (kind, low, high) in space.items():
        value = _number(hyper[name])
        if kind == "int":
            score += 0.01 * value
        else:
            score -= abs(float(log_position([value], kind, low, high)[0]) - 0.5)
    return score


class StandInTraining:
    """A stand-in for train_fn over ``space``: it takes one keyword argument per hyperparameter
    (called as train_fn(**hyper); a positional call relies on the order of the dict and is
    refused), returns ``stand_in_score``, and counts its calls."""

    def __init__(self, space: Mapping[str, tuple]):
        self.space = dict(space)
        self.signature = inspect.Signature(
            [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY) for k in space])
        self.calls = 0
        self.bad_call = ""  # why a call did not fit the signature, if one did not

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        self.calls += 1
        try:
            hyper = self.signature.bind(*args, **kwargs).arguments
        except TypeError as exc:
            self.bad_call = str(exc)
            raise
        return stand_in_score(self.space, hyper)


def run_search(random_search: Callable, space: Mapping[str, tuple], n_trials: int,
               seed: int) -> list:
    """random_search(train_fn, space, n_trials, np.random.default_rng(seed)) with a
    StandInTraining as train_fn; checks that it returns a list of n_trials trials, calls
    train_fn once per trial, with keyword arguments, and leaves space unchanged."""
    train_fn, args = StandInTraining(space), Snapshot(space=space)
    try:
        trials = random_search(train_fn, space, n_trials, np.random.default_rng(seed))
    except TypeError:
        if not train_fn.bad_call:
            raise
        trials = None
    check(not train_fn.bad_call, f"calling train_fn failed ({train_fn.bad_call}): call it with the "
          "hyperparameters as keyword arguments, train_fn(**hyper)")
    args.check_unchanged(function_name(random_search), "read the space, don't edit it")
    size = len(trials) if hasattr(trials, "__len__") else "?"
    check(isinstance(trials, list) and size == n_trials, f"random_search(..., n_trials={n_trials}, "
          f"...) must return a list of {n_trials} trials, got {type(trials).__name__} of length "
          f"{size}")
    check(train_fn.calls == n_trials, f"train_fn was called {train_fn.calls} times for {n_trials} "
          "trials: call it once per trial")
    return trials


def _number(x: Any) -> float:
    try:
        return float(np.asarray(x, dtype=float).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        return math.nan


def check_trials(trials: list, space: Mapping[str, tuple]) -> None:
    """Each trial is {"hyper": one number per hyperparameter of space, "score": what the
    stand-in train_fn (stand_in_score) gave that setting}, each trial with a dict of its own, and
    the trials are sorted best first."""
    hypers = [t.get("hyper") for t in trials if isinstance(t, dict)]
    check(len({id(h) for h in hypers}) == len(hypers), "several trials hold the same 'hyper' dict "
          "(one object, changed by every later trial): build a new dict in every trial (hyper = "
          "{} inside the loop)")
    for t in trials:
        check(isinstance(t, dict) and set(t) >= {"hyper", "score"},
              f"each trial must be a dict {{'hyper': {{...}}, 'score': ...}}, got {t!r}")
        h = t["hyper"]
        got = sorted(h) if isinstance(h, Mapping) else type(h).__name__
        check(isinstance(h, Mapping) and set(h) == set(space), "each trial's 'hyper' must hold one "
              f"value per hyperparameter of the space {sorted(space)}, got {got}")
        check(all(np.ndim(v) == 0 for v in h.values()), f"each hyperparameter value must be a "
              f"single number, got {h!r}: take the one value out of a sample of size 1 (e.g. "
              "sample_log_uniform(low, high, 1, rng)[0])")
        check(all(isinstance(v, int | float | np.number) for v in h.values()), "each "
              f"hyperparameter value must be a single number, got {h!r}")
        score, want = _number(t["score"]), stand_in_score(space, h)
        check(math.isclose(score, want, abs_tol=1e-12) or math.isnan(score) and math.isnan(want),
              "a trial's 'score' must be what train_fn returned for that trial's own 'hyper'")
    scores = [_number(t["score"]) for t in trials]
    if any(a < b for a, b in zip(scores, scores[1:])):
        ascending = all(a <= b for a, b in zip(scores, scores[1:]))
        fail("the trials must be sorted by score, best (highest) first"
             + (" -- yours are sorted worst first" if ascending else " -- yours are not sorted"))


def check_draws(random_search: Callable, trials: list, space: Mapping[str, tuple],
                samplers: Mapping[str, Callable]) -> None:
    """The values each hyperparameter took over the trials: whole numbers covering low..high
    for "int"; for "log" and "beta", a fresh value in every trial, spread as a correct sampler's
    (``spread_finding``). samplers {kind: the learner's sampler random_search is asked to call}:
    when random_search calls a sampler that is itself wrong, the message names the sampler."""
    for name, (kind, low, high) in space.items():
        values = [t["hyper"][name] for t in trials]
        if kind == "int":
            check_int_values(values, low, high)
            continue
        distinct = len(np.unique(np.asarray(values, dtype=float)))
        check(distinct == len(values), f"{len(values)} trials tried only {distinct} distinct "
              f"values of {name!r}: random search draws a fresh value of every hyperparameter in "
              "every trial (no grid, no reuse)")
        found = spread_finding(values, kind, low, high, f"{name!r} values")
        if found:
            blame_sampler(random_search, samplers.get(kind), kind, low, high)
            fail(f"{found[1]}: a {kind!r} hyperparameter must be drawn {DRAWN[kind]}")


def check_int_values(values: Sequence, low: int, high: int) -> None:
    """Values of an "int" hyperparameter in (low, high): ints, every one of low..high taken."""
    check(all(isinstance(v, int | np.integer) for v in values), "an 'int' hyperparameter must be "
          "a whole number (int), e.g. int(rng.integers(...))")
    got = sorted({int(v) for v in values})
    outside = [v for v in got if not low <= v <= high]
    check(not outside, f"an 'int' hyperparameter in ({low}, {high}) must stay within {low}..{high}, "
          f"got {outside}: rng.integers(low, high + 1) already includes high (with endpoint=True, "
          "rng.integers(low, high + 1) goes one further)")
    every = ", ".join(str(k) for k in range(low, high + 1))
    check(got == list(range(low, high + 1)), f"an 'int' hyperparameter in ({low}, {high}) must "
          f"take every value {every} (both ends included); got {got}"
          + (f" ({high} never came up: high is included, e.g. rng.integers(low, high + 1); "
             "rng.integers(low, high), range(low, high) and int(uniform(low, high)) leave it out)"
             if high not in got else ""))


def check_int_draws(random_search: Callable, low: int, high: int, n_trials: int,
                    seed: int) -> None:
    """n_trials draws of one "int" hyperparameter in (low, high): each whole number comes up
    about equally often, the two ends too (a Hoeffding bound per count)."""
    space = {"n_h": ("int", low, high)}
    trials = run_search(random_search, space, n_trials, seed)
    check_trials(trials, space)
    values = [_number(t["hyper"]["n_h"]) for t in trials]
    counts = {v: values.count(v) for v in range(low, high + 1)}
    each, bound = n_trials / len(counts), counts_bound(n_trials, 1 / len(counts), FALSE_ALARM)
    if all(abs(c - each) < bound for c in counts.values()):
        return
    ends = (counts[low] + counts[high]) / 2
    middle = [c for v, c in counts.items() if low < v < high]
    halved = bool(middle) and ends < float(np.mean(middle)) - bound
    fail(f"{n_trials} draws of an 'int' hyperparameter in ({low}, {high}) gave the counts "
         f"{counts}, but each value should come up about {each:.0f} times"
         + (": the two ends come up about half as often as the others, as with round(uniform("
            "low, high)); draw whole numbers directly, rng.integers(low, high + 1)" if halved
            else ""))


def check_same_seed_same_trials(random_search: Callable, space: Mapping[str, tuple],
                                seed: int) -> None:
    """Two searches of 40 trials with generators of the same seed give the same trials; with
    another seed, other trials (40 trials: even a space of one int in 1..3 repeats them with a
    probability of 3 ** -40)."""
    first, again, other = (random_search(StandInTraining(space), space, 40,
                                         np.random.default_rng(s)) for s in (seed, seed, seed + 1))
    check(first == again, "the same seed must give the same trials: draw every random number "
          "from rng")
    check(first != other, "two different seeds gave the same trials: draw every random number "
          "from the rng argument, not from a generator of your own")


# hyperparameters whose names say nothing of their kind (the test cell's are the notebook's own)
OTHER_NAMES = {"alpha": ("log", 1e-3, 0.1), "momentum": ("beta", 0.8, 0.99), "units": ("int", 1, 4)}


def check_kinds_not_names(random_search: Callable, samplers: Mapping[str, Callable],
                          seed: int, space: Mapping[str, tuple] = OTHER_NAMES) -> None:
    """A search over hyperparameters of other names: each is still drawn by its kind (the
    first entry of its tuple in space), whatever its name (``check_trials``, ``check_draws``)."""
    trials = run_search(random_search, space, 400, seed)
    try:
        check_trials(trials, space)
        check_draws(random_search, trials, space, samplers)
    except ExerciseNotDone:
        raise
    except AssertionError as exc:
        fail(f"with hyperparameters of other names, {dict(space)}: {exc}. Draw each one by its "
             "kind, space[name][0], whatever its name")


# ---------------------------------------------------------------- zoom
def check_zoom(zoom: Callable, space: Mapping[str, tuple], best_trials: list,
               ranges: Mapping[str, tuple[float, float]]) -> dict:
    """zoom(space, best_trials): a new dict with the same names and kinds, each range the one the
    test read off best_trials (``ranges`` {name: (low, high)}), its arguments unchanged.
    Returns the new space."""
    spaces, trials = Snapshot(space=space), Snapshot(best_trials=best_trials)
    new = zoom(space, best_trials)
    trials.check_unchanged("zoom", "read the trials' values, don't sort or edit the list")
    spaces.check_unchanged("zoom", "build a new dict and leave the space it was given unchanged")
    check(isinstance(new, dict) and set(new) == set(space), "zoom must return a dict with the "
          f"same hyperparameter names {sorted(space)}")
    check(new is not space, "zoom must build a new dict and leave the space it was given unchanged")
    for name, (kind, _low, _high) in space.items():
        got = new[name]
        check(isinstance(got, tuple | list) and len(got) == 3 and got[0] == kind,
              f"new_space[{name!r}] must be (kind, low, high) with the same kind {kind!r} (so the "
              f"fine search samples on the same scale), got {got!r}")
        lo, hi = ranges[name]
        check(lo == hi or not (np.isclose(_number(got[1]), hi) and np.isclose(_number(got[2]), lo)),
              f"the new range of {name!r} is [{got[1]}, {got[2]}]: low and high are swapped, "
              "the smallest value comes first")
        check(np.isclose(_number(got[1]), lo) and np.isclose(_number(got[2]), hi),
              f"the new range of {name!r} must be the smallest one holding all best trials' "
              f"values, [{lo}, {hi}], got [{got[1]}, {got[2]}]: use every trial in best_trials, "
              "their smallest and largest value")
    return new


# ---------------------------------------------------------------- normalize_inputs
NORMALIZE_HINTS = {"ValueError": "the arrays could not be combined: are mu and sigma of shape "
                   "(n_x, 1), one per feature (row), computed over the examples (axis=1, "
                   "keepdims=True)?"}


def normalized_sets(normalize_inputs: Callable, X_train: np.ndarray,
                    *others: np.ndarray) -> tuple[tuple, np.ndarray, np.ndarray]:
    """normalize_inputs(X_train, *others), checked for its form: ((one array per input, each of
    its input's shape (n_x, m_k)), mu (n_x, 1), sigma (n_x, 1)), the inputs left unchanged."""
    named = {"X_train": X_train, **{f"others[{k}]": X for k, X in enumerate(others)}}
    args = Snapshot(**named)
    out = normalize_inputs(X_train, *others)
    check(isinstance(out, tuple) and len(out) == 3,
          "normalize_inputs must return three things: (normalized arrays, mu, sigma)")
    normalized, mu, sigma = out
    check(isinstance(normalized, tuple | list), "the first thing normalize_inputs returns must "
          f"be a tuple of normalized arrays, got {type(normalized).__name__}")
    check(len(normalized) == len(named), f"normalize_inputs(X_train, X_dev, X_test) must give one "
          f"normalized array per input ({len(named)}), got {len(normalized)}")
    args.check_unchanged("normalize_inputs", "compute new arrays (X - mu) / sigma instead of "
                         "X -= mu in place")
    n_x = X_train.shape[0]
    check(np.shape(mu) == (n_x, 1) and np.shape(sigma) == (n_x, 1), f"mu and sigma must have "
          f"shape (n_x, 1) = ({n_x}, 1), one per feature (row), computed over the examples "
          f"(axis=1); got {np.shape(mu)} and {np.shape(sigma)}")
    check(all(np.shape(N) == np.shape(X) for N, X in zip(normalized, named.values())),
          "each normalized array must keep the shape of its input")
    return (tuple(as_array(N, "a normalized array") for N in normalized),
            as_array(mu, "mu"), as_array(sigma, "sigma"))


def check_training_set_normalized(N_train: np.ndarray, X_train: np.ndarray, mu: np.ndarray,
                                  sigma: np.ndarray) -> None:
    """N_train (n_x, m) is (X_train - mu) / sigma for the returned mu, sigma (n_x, 1), and each
    of its features has mean 0 and standard deviation 1 (with 1/m)."""
    check(np.allclose(N_train * sigma + mu, X_train), "the normalized training set must be "
          "(X_train - mu) / sigma with the mu and sigma you return")
    check(np.allclose(N_train.mean(axis=1), 0, atol=1e-9), "each normalized training feature must "
          "have mean 0: mu is each feature's mean over the TRAINING examples")
    m, spread = X_train.shape[1], N_train.std(axis=1)
    check(not np.allclose(spread, np.sqrt((m - 1) / m)),
          "sigma uses 1/(m-1): use 1/m as in the formula (np.std's default)")
    check(np.allclose(spread, 1), f"each normalized training feature must have standard deviation "
          f"1, got {np.round(spread, 3)}: sigma is the standard deviation, the square root of the "
          "variance (with 1/m)")


def check_others_use_training_statistics(normalized: Sequence[np.ndarray],
                                         originals: Sequence[np.ndarray], mu: np.ndarray,
                                         sigma: np.ndarray) -> None:
    """Every other set (dev, test; (n_x, m_k) each) is normalized with the TRAINING mu and
    sigma, not with statistics of its own."""
    check(not np.allclose(normalized[0].mean(axis=1), 0, atol=1e-6), "the dev array was "
          "normalized with its own statistics (its mean is now 0): normalize every array with the "
          "TRAINING mu and sigma")
    check(all(np.allclose(N * sigma + mu, X) for N, X in zip(normalized, originals)),
          "dev/test arrays must be normalized with the training statistics: (X - mu_train) / "
          "sigma_train")


def check_constant_feature(normalize_inputs: Callable, rng: np.random.Generator) -> None:
    """A feature constant in training (value 5; 7 in the dev set) has sigma = 0: the function
    divides by 1 there, so the dev value becomes (7 - 5) / 1 = 2, and returns sigma = 1."""
    X = np.vstack([rng.normal(0, 2, 30), np.full(30, 5.0)])
    X_dev = np.vstack([rng.normal(0, 2, 10), np.full(10, 7.0)])
    with np.errstate(all="ignore"):
        (N, N_dev), _mu, sigma = normalized_sets(normalize_inputs, X, X_dev)
    check(np.all(np.isfinite(N)) and np.all(np.isfinite(N_dev)), "a feature that is constant in "
          "training has sigma = 0 and dividing by it gives nan/inf: divide by 1 where sigma is 0")
    check(np.allclose(N[1], 0.0) and np.allclose(N_dev[1], 2.0), "for a constant training "
          f"feature (value 5), a dev value of 7 should become (7 - 5) / 1 = 2, got "
          f"{N_dev[1, 0]:.3g}: replace sigma = 0 by 1 (adding a tiny epsilon to sigma avoids the "
          "nan but blows such values up)")
    check(np.isclose(np.ravel(sigma)[1], 1.0), "return the sigma you divided by: 1 for the "
          "constant feature")
