"""Checks of notebook 05's exercises (optimization methods): properties and mistake diagnoses.

Each check takes the learner's function as its first argument, builds its own inputs (its own
parameters, gradients, optimizer states and generators), calls the function on copies and judges
what comes back by *properties*: an update judged from a zero state and from a zero gradient,
a step judged by its direction and length, a schedule judged by alpha_0 / alpha - 1. When a
property fails, the sentence names the mistake that explains the numbers. Nothing here computes
a graded function's answer (tests/test_release_answers.py scans this file); the hidden tests'
cases and references stay in the notebook's hidden regions.

update_parameters_with_gd    gd_step, check_gd_step, check_no_helpers_called (UPDATE_HINTS for
                             the four update rules' KeyErrors)
random_mini_batches          MINI_BATCH_HINTS, check_mini_batches, check_shuffles_with_rng
exponentially_weighted_avg   averages_of, check_averages
momentum, RMSprop, Adam      optimizer_problem, momentum_step, rmsprop_step, adam_step,
                             check_momentum, check_rmsprop, check_adam, check_adam_first_step
                             (one judge of a moving average, check_moving_average, serves all three)
learning-rate decay          check_update_lr, check_schedule_lr_decay
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from helpers.checks import (
    Snapshot,
    as_array,
    check,
    check_keys,
    check_shape,
    fail,
    helpers_called,
    random_like,
    random_parameters,
)

Params = dict[str, np.ndarray]
# a mistake: (a, b, message): when a equals b (np.allclose), the message names the mistake
Mistake = tuple[Any, Any, str]


def judge(got: Any, want: Any, mistakes: Iterable[Mistake], otherwise: str,
          rtol: float = 1e-9, atol: float = 1e-12) -> None:
    """Pass when ``got`` equals ``want``; else fail with the message of the first mistake whose
    two sides are equal (the mistake that explains the numbers), or with ``otherwise``."""
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return
    for a, b, message in mistakes:
        check(not np.allclose(a, b), message)
    fail(otherwise)


# ---------------------------------------------------------------- calling an update rule
# added to "your code raised KeyError (…)" in the update rules' test cells
UPDATE_HINTS = {"KeyError": "parameters are keyed 'W1', 'b1', …; the gradients and the states v "
                "and s are keyed 'dW1', 'db1', … — add the 'd' (grads['d' + key]), and loop over "
                "the L = len(parameters) // 2 layers, 1 to L"}


def run_update(update: Callable, name: str, returns: Sequence[str], parameters: Params,
               grads: Params, states: Sequence[Params], *args: Any, **kwargs: Any) -> tuple:
    """``update(parameters, grads, *states, *args, **kwargs)`` on copies of the parameters and
    the states; ``grads`` must come back unchanged. Returns the dicts named in ``returns`` (e.g.
    ("parameters", "v")) as float arrays, after checking their keys and shapes."""
    params = {k: np.array(x, dtype=float) for k, x in parameters.items()}
    copies = [{k: np.array(x, dtype=float) for k, x in st.items()} for st in states]
    args_before = Snapshot(grads=grads)
    out = update(params, grads, *copies, *args, **kwargs)
    args_before.check_unchanged(name, "grads is read-only")
    if len(returns) == 1:
        out = (out,)
    else:
        check(isinstance(out, tuple) and len(out) == len(returns),
              f"return the tuple ({', '.join(returns)})")
    result = []
    for d, what in zip(out, returns):
        ref = parameters if what == "parameters" else grads
        check_keys(d, ref, f"the returned {what}")
        result.append({k: check_shape(x, np.shape(ref[k]), f"the returned {what}['{k}']")
                       for k, x in d.items()})
    return tuple(result)


def optimizer_problem(layer_dims: list[int], seed: int,
                      *states: str) -> tuple[Params, Params, list[Params]]:
    """A test's own problem: random parameters for ``layer_dims``, random gradients (keys "dW1",
    …, shaped like the parameters) and one random state per name in ``states`` ("v": any sign,
    "s": positive, like a mean of squares)."""
    rng = np.random.default_rng(seed)
    params = random_parameters(layer_dims, rng)
    grads = random_like(params, rng)
    return params, grads, [random_like(params, rng, positive=name == "s") for name in states]


def _three_runs(step: Callable[[Params, list[Params]], tuple], grads: Params,
                states: list[Params]) -> tuple[tuple, tuple, tuple]:
    """The update from the given states, from zero states, and with a zero gradient."""
    zeros = {k: 0 * g for k, g in grads.items()}
    return step(grads, states), step(grads, [zeros] * len(states)), step(zeros, states)


# ---------------------------------------------------------------- gradient descent
def gd_step(update: Callable, layer_dims: list[int], learning_rate: float,
            seed: int) -> tuple[Params, Params, Params]:
    """Your ``update_parameters_with_gd`` on the test's own random problem:
    (parameters before, gradients, parameters after)."""
    params, grads, _ = optimizer_problem(layer_dims, seed)
    after, = run_update(update, "update_parameters_with_gd", ("parameters",), params, grads, [],
                        learning_rate)
    return params, grads, after


def check_gd_step(update: Callable, layer_dims: list[int], learning_rate: float,
                  seed: int) -> None:
    """Every W and b moves straight against its own gradient, by learning_rate times it."""
    before, grads, after = gd_step(update, layer_dims, learning_rate, seed)
    for k in before:
        step, g = after[k] - before[k], grads["d" + k]
        check(np.any(step != 0), f"{k} did not change: update every W and b of all L layers "
              "(for l in range(1, L + 1))")
        cos = np.sum(-step * g) / (np.linalg.norm(step) * np.linalg.norm(g))
        check(cos > 0, f"{k} moved uphill: subtract the gradient (the step goes against d{k})")
        check(cos > 1 - 1e-9, f"{k} did not move straight against its own gradient d{k}")
        ratio = np.linalg.norm(step) / np.linalg.norm(g)
        check(np.isclose(ratio, learning_rate, rtol=1e-9), f"{k} moved {ratio:.4g} times its "
              f"gradient; the step is learning_rate = {learning_rate} times it")


def check_no_helpers_called(update: Callable) -> None:
    """The update is written in the notebook, not borrowed from the course's training code."""
    used = helpers_called(update)
    check(not used, f"update_parameters_with_gd uses {used} from helpers: write this step "
          "yourself; don't call helpers' training code")


# ---------------------------------------------------------------- mini-batches
MINI_BATCH_HINTS = {"IndexError": "X is (n_x, m) and Y (1, m): the examples are COLUMNS, so "
                    "shuffle and cut along axis 1 (X[:, permutation], X[:, start:end])"}


def _numbered_examples(n_x: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X (n_x, m) whose row 0 says which example a column is; Y (1, m) holding 1000 + i."""
    X = np.random.default_rng(seed).normal(size=(n_x, m))
    X[0] = np.arange(m)
    return X, (1000.0 + np.arange(m)).reshape(1, m)


def _check_batch_sizes(batches: list, n_x: int, m: int, size: int) -> None:
    n_full, rest = divmod(m, size)
    want = [size] * n_full + ([rest] if rest else [])
    for b in batches:
        check(isinstance(b, tuple | list) and len(b) == 2,
              "each mini-batch must be a tuple (X_batch, Y_batch)")
    got = [np.shape(b[0])[1] if np.ndim(b[0]) == 2 else None for b in batches]
    for Xb, Yb in batches:
        check(np.ndim(Xb) == 2 and np.shape(Xb)[0] == n_x and np.shape(Yb) == (1, np.shape(Xb)[1]),
              f"a mini-batch has X_batch {np.shape(Xb)}, Y_batch {np.shape(Yb)}: want ({n_x}, "
              "size), (1, size)")
    check(not (rest and got == want[:-1]), f"the last, partial mini-batch of {rest} examples is "
          f"missing: m = {m} is not a multiple of {size}, keep the leftover examples")
    check(not (not rest and got == want + [0]), f"m = {m} is a multiple of {size}: there is no "
          "partial mini-batch, don't append an empty one")
    check(got == want, f"mini-batch sizes {got}, expected {want}: {n_full} full mini-batches of "
          f"{size}" + (f" and a last one of m - {n_full}*{size} = {rest}" if rest else "")
          + " (the last one must not be padded, duplicated or overlap the others)")


def check_mini_batches(random_mini_batches: Callable, n_x: int, m: int, size: int,
                       seed: int) -> np.ndarray:
    """Your mini-batches of m numbered examples: X and Y unchanged, the right sizes, every
    example exactly once, labels still with their examples. Returns the order of the examples."""
    X, Y = _numbered_examples(n_x, m, seed)
    before = Snapshot(X=X, Y=Y)
    batches = random_mini_batches(X, Y, size, np.random.default_rng(seed + 1))
    check(not before.changed(), "X or Y was changed: shuffle a copy (X[:, permutation]), not the "
          "arguments in place")
    batches = list(batches)
    _check_batch_sizes(batches, n_x, m, size)
    order = np.concatenate([b[0][0] for b in batches]).astype(int)
    check(sorted(order) == list(range(m)), "some examples appear twice and others not at all: "
          "every example must be in exactly one mini-batch")
    for Xb, Yb in batches:
        check(np.array_equal(Yb[0], 1000.0 + Xb[0]), "the labels no longer match their examples "
              "(column i of Y belongs to column i of X): apply the same permutation to X and to Y")
        check(np.array_equal(Xb, X[:, Xb[0].astype(int)]),
              "the columns of X_batch are not whole columns of X")
    return order


def check_shuffles_with_rng(random_mini_batches: Callable, n_x: int, m: int, size: int,
                            seed: int, other_seed: int) -> None:
    """The examples are shuffled, by the ``rng`` argument: the same seed gives the same order,
    another seed another order."""
    order = check_mini_batches(random_mini_batches, n_x, m, size, seed)
    check(not np.array_equal(order, np.arange(m)), "the examples are in their original order: "
          "shuffle them (rng.permutation(m)) before cutting")
    again = check_mini_batches(random_mini_batches, n_x, m, size, seed)
    check(np.array_equal(order, again), "the same rng seed gave different mini-batches: shuffle "
          "with the rng argument, not np.random")
    other = check_mini_batches(random_mini_batches, n_x, m, size, other_seed)
    check(not np.array_equal(order, other), "different rng seeds gave the same order: shuffle "
          "with the rng argument")


# ---------------------------------------------------------------- exponentially weighted averages
def averages_of(average: Callable, values: np.ndarray, beta: float, corrected: bool) -> np.ndarray:
    """Your ``exponentially_weighted_average(values, beta, bias_correction=corrected)``, one
    float per value (T,); ``values`` must come back unchanged."""
    args = Snapshot(values=values)
    got = average(values, beta, bias_correction=corrected)
    args.check_unchanged("exponentially_weighted_average")
    return check_shape(np.ravel(as_array(got, "the averages")), (len(values),), "the averages",
                       "one average per value")


def _check_constant(average: Callable, T: int, beta: float) -> None:
    """A constant c: v_t = c (1 - beta^t) from v_0 = 0, and c itself once corrected."""
    t, c = np.arange(1, T + 1), 2.0
    flat = np.full(T, c)
    raw, fixed = averages_of(average, flat, beta, False), averages_of(average, flat, beta, True)
    if not np.allclose(raw, c * (1 - beta**t), rtol=1e-9):
        check(not np.allclose(raw, c), "without bias correction the average of a constant c is "
              "c (1 - beta^t), not c: " + ("apply the correction only when bias_correction is True"
                                         if np.allclose(fixed, c) else
                                         "start from v_0 = 0 (so v_1 = (1 - beta) theta_1), not "
                                         "from the first value"))
        check(not np.allclose(raw, c * (1 - (1 - beta) ** t)), "beta and (1 - beta) are swapped: "
              "the past keeps the weight beta, v_t = beta v_(t-1) + (1 - beta) theta_t")
        check(not np.allclose(raw, c * (1 - beta**t) / (1 - beta)), "the averages grow past the "
              "values: the new value needs the factor (1 - beta), v_t = beta v_(t-1) + (1 - beta) "
              "theta_t")
        fail(f"without bias correction, the average of a constant {c} should be {c} (1 - beta^t) "
             f"= {np.round(c * (1 - beta**t[:3]), 4)} ..., got {np.round(raw[:3], 4)} ...")
    check(np.all(np.isfinite(fixed)), "the bias correction divided by zero: use 1 - beta**t with "
          "t = 1 for the first value (t counts from 1)")
    check(np.isclose(fixed[0], c), "with bias correction v_1 must equal theta_1: divide v_t by "
          "1 - beta**t with t starting at 1")
    check(T < 2 or beta == 0 or not np.allclose(raw / fixed, 1 - beta * t, rtol=1e-9),
          "the bias correction divides by 1 - beta * t: it is a power, 1 - beta**t")
    check(np.allclose(fixed, c), "with bias correction a constant sequence must average to itself "
          "at every t; yours does at t = 1 but not later: was the corrected value fed back into the "
          "recursion? Keep the uncorrected v_t for the next step, divide only what you return")


def check_averages(average: Callable, T: int, beta: float, seed: int) -> None:
    """Your averages of T values: a constant sequence, a single pulse, and sums of sequences."""
    _check_constant(average, T, beta)
    # one value of 1 at t = 3: it enters with weight (1 - beta), then fades by beta per step
    t, pulse = np.arange(1, T + 1), np.zeros(T)
    pulse[2] = 1.0
    want = np.where(t >= 3, (1 - beta) * beta ** np.maximum(t - 3, 0), 0.0)
    check(np.allclose(averages_of(average, pulse, beta, False), want, rtol=1e-9, atol=1e-12),
          "a single value of 1 at t = 3 should add (1 - beta) beta^(t-3) to every later average "
          "and nothing before")
    rng = np.random.default_rng(seed)
    whole = rng.integers(0, 10, T)                  # integer values: the averages stay floats
    check(np.allclose(averages_of(average, whole, beta, True),
                      averages_of(average, whole.astype(float), beta, True), rtol=1e-12),
          "for integer values (e.g. np.array([3, 7, 1])) your averages differ from those of the "
          "same values as floats: the result array inherited the integer dtype and was rounded. "
          "Make it a float array (np.zeros(len(values)), not np.zeros_like(values))")
    a, b = rng.normal(5.0, 2.0, T), rng.normal(0.0, 1.0, T)
    for corrected in (False, True):
        check(np.allclose(averages_of(average, a + 2 * b, beta, corrected),
                          averages_of(average, a, beta, corrected)
                          + 2 * averages_of(average, b, beta, corrected), rtol=1e-9),
              "the average of a sum of sequences should be the sum of their averages")


# ---------------------------------------------------------------- momentum, RMSprop, Adam
def check_moving_average(state: str, key: str, beta_name: str, beta: float, grad: np.ndarray,
                         old: np.ndarray, runs: tuple[np.ndarray, np.ndarray, np.ndarray],
                         squared: bool = False, t: int | None = None,
                         other: tuple[str, float] | None = None) -> None:
    """One entry of a state that should be the moving average new = beta old + (1 - beta) x,
    with x the gradient ``grad`` (its elementwise square when ``squared``), judged in three parts
    from ``runs`` = (new, new from a zero state, new with a zero gradient). ``t`` (Adam) also
    recognises a state that holds its bias-corrected value; ``other`` (Adam: the other state's
    (beta name, value)) one averaged with the other beta."""
    new, from_zero, kept = runs
    where, x = f"{state}['{key}']", grad**2 if squared else grad
    what = f"the elementwise square of {key}" if squared else "the gradient"
    mistakes = [] if t is None else [
        (from_zero * (1 - beta**t), (1 - beta) * x,
         f"{state} holds the corrected value: keep {state} uncorrected (it carries over to the next "
         f"step) and put the corrected one in {state}_corrected")]
    mistakes.append((from_zero, x, f"{where} is missing the (1 - {beta_name}) factor: from "
                     f"{state} = 0, the new {where} is (1 - {beta_name}) times {what}"))
    if beta != 0:  # with beta = 0 the swapped form's share is 0, like a state never updated
        mistakes.append((from_zero, beta * x, f"{beta_name} and (1 - {beta_name}) are swapped in "
                         f"{where}: the old {state} keeps the weight {beta_name}, the new value "
                         f"gets (1 - {beta_name})"))
    if other is not None:
        mistakes.append((from_zero, (1 - other[1]) * x, f"{where} is averaged with {other[0]}: "
                         f"{state} uses its own {beta_name}"))
    if squared:
        mistakes.append((from_zero, (1 - beta) * np.abs(grad),
                         f"{where} holds |{key}|: average the elementwise square {key}**2"))
    judge(from_zero, (1 - beta) * x, mistakes,
          f"from {state} = 0, the new {where} should be (1 - {beta_name}) times {what}")
    check(np.allclose(kept, beta * old, rtol=1e-9, atol=1e-12),
          f"with a zero gradient, {where} should keep {beta_name} times its old value")
    check(np.allclose(new, from_zero + kept, rtol=1e-9, atol=1e-12),
          f"{where} should add the kept old {state} and the new gradient's share")


def momentum_step(update: Callable, parameters: Params, grads: Params, v: Params, beta: float,
                  learning_rate: float) -> tuple[Params, Params]:
    """Your ``update_parameters_with_momentum`` on copies: (parameters, v)."""
    return run_update(update, "update_parameters_with_momentum", ("parameters", "v"), parameters,
                      grads, [v], beta, learning_rate)


def check_momentum(update: Callable, layer_dims: list[int], beta: float, learning_rate: float,
                   seed: int) -> None:
    """The velocity is a moving average of the gradients; each parameter steps by
    -learning_rate times its new velocity."""
    params, grads, (v,) = optimizer_problem(layer_dims, seed, "v")
    full, zero_v, zero_g = _three_runs(
        lambda g, st: momentum_step(update, params, g, st[0], beta, learning_rate), grads, [v])
    for k in params:
        dk = "d" + k
        check_moving_average("v", dk, "beta", beta, grads[dk], v[dk],
                             (full[1][dk], zero_v[1][dk], zero_g[1][dk]))
        judge(full[0][k] - params[k], -learning_rate * full[1][dk], [
            (full[0][k] - params[k], -learning_rate * grads[dk], f"{k} was updated with the "
             f"gradient: step with the new velocity, {k} := {k} - alpha v['{dk}']"),
            (full[0][k] - params[k], -learning_rate * v[dk], f"{k} was updated with the old "
             "velocity: update v first, then step with it")],
            f"{k} should move by -learning_rate times the new velocity v['{dk}']")


def _check_adaptive_step(k: str, step: np.ndarray, numerator: np.ndarray, s: np.ndarray,
                         epsilon: float, learning_rate: float, formula: str, which: str,
                         uncorrected: tuple[np.ndarray, np.ndarray] | None = None,
                         old_s: np.ndarray | None = None) -> None:
    """step = (old - new) / alpha should be numerator / (sqrt(s) + epsilon): judged as
    step (sqrt(s) + epsilon) = numerator, with no division by a gradient. ``uncorrected`` (Adam:
    this step's raw v and s) and ``old_s`` (RMSprop: s before the step) name those mistakes."""
    mistakes = [(step * np.sqrt(s + epsilon), numerator, f"{k}: epsilon is inside the square "
                 f"root; add it after: {formula.replace('sqrt', 'np.sqrt')}"),
                (step * (s + epsilon), numerator, f"{k}: the square root is missing; divide by "
                 "np.sqrt(s) + epsilon, not by s + epsilon"),
                ((step + epsilon / learning_rate) * np.sqrt(s), numerator, f"{k}: epsilon was added "
                 "to the step, not to the denominator; parenthesise it: (np.sqrt(s) + epsilon)")]
    if epsilon != 1e-8:
        mistakes.append((step * (np.sqrt(s) + 1e-8), numerator, f"{k} was updated with epsilon = "
                         f"1e-8, not with the epsilon argument ({epsilon}): use epsilon"))
    if uncorrected is not None:
        v, s_raw = uncorrected
        mistakes.append((step * (np.sqrt(s_raw) + epsilon), v, f"{k} was updated with the "
                         "uncorrected v and s: use v_corrected and s_corrected"))
    if old_s is not None:
        mistakes.append((step * (np.sqrt(old_s) + epsilon), numerator, f"{k} was updated with "
                         "the old s: update s first, then step with the new s"))
    judge(step * (np.sqrt(s) + epsilon), numerator, mistakes,
          f"{k} should move by -learning_rate {formula}, with {which}", rtol=1e-7)


def rmsprop_step(update: Callable, parameters: Params, grads: Params, s: Params, beta2: float,
                 learning_rate: float, epsilon: float) -> tuple[Params, Params]:
    """Your ``update_parameters_with_rmsprop`` on copies: (parameters, s)."""
    return run_update(update, "update_parameters_with_rmsprop", ("parameters", "s"), parameters,
                      grads, [s], beta2, learning_rate, epsilon=epsilon)


def check_rmsprop(update: Callable, layer_dims: list[int], beta2: float, learning_rate: float,
                  epsilon: float, seed: int) -> None:
    """s is a moving average of the squared gradients; each parameter steps by
    -learning_rate d / (sqrt(s) + epsilon), with the new s."""
    params, grads, (s,) = optimizer_problem(layer_dims, seed, "s")
    full, zero_s, zero_g = _three_runs(
        lambda g, st: rmsprop_step(update, params, g, st[0], beta2, learning_rate, epsilon),
        grads, [s])
    for k in params:
        dk = "d" + k
        check_moving_average("s", dk, "beta2", beta2, grads[dk], s[dk],
                             (full[1][dk], zero_s[1][dk], zero_g[1][dk]), squared=True)
        _check_adaptive_step(k, (params[k] - full[0][k]) / learning_rate, grads[dk], full[1][dk],
                             epsilon, learning_rate, f"d{k} / (sqrt(s) + epsilon)", "the new s",
                             old_s=s[dk])


def adam_step(update: Callable, parameters: Params, grads: Params, v: Params, s: Params, t: int,
              learning_rate: float, beta1: float, beta2: float, epsilon: float) -> tuple:
    """Your ``update_parameters_with_adam`` on copies: (parameters, v, s, v_corrected,
    s_corrected)."""
    return run_update(update, "update_parameters_with_adam",
                      ("parameters", "v", "s", "v_corrected", "s_corrected"), parameters, grads,
                      [v, s], t, learning_rate=learning_rate, beta1=beta1, beta2=beta2,
                      epsilon=epsilon)


def check_bias_correction(state: str, got: np.ndarray, raw: np.ndarray, t: int, beta1: float,
                          beta2: float, old: np.ndarray | None = None) -> None:
    """``got`` (v_corrected or s_corrected) should be ``raw`` / (1 - beta**t), with beta1 for v,
    beta2 for s; else the wrong t, a product beta * t, the other beta or the ``old`` state (before
    this step's update) is named."""
    own, other = ("beta1", "beta2") if state == "v" else ("beta2", "beta1")
    mine, theirs = (beta1, beta2) if state == "v" else (beta2, beta1)
    ratio = np.sum(got * raw) / np.sum(raw * raw)
    if np.allclose(got * (1 - mine**t), raw, rtol=1e-9, atol=1e-12):
        return
    check(old is None or not np.allclose(got * (1 - mine**t), old), f"{state}_corrected was "
          f"computed from the old {state}: update {state} first, then correct the new {state}")
    for tt, what in ((t + 1, "t + 1"), (t - 1, "t - 1")):
        check(not (tt >= 1 and np.isclose(ratio * (1 - mine**tt), 1.0, rtol=1e-9)),
              f"{state}_corrected uses {what} instead of t: t already counts from 1, divide by "
              "1 - beta**t")
    check(not np.isclose(ratio * (1 - mine * t), 1.0, rtol=1e-9), f"{state}_corrected divides by "
          f"1 - {own} * t: the correction is a power, 1 - {own}**t")
    check(not np.isclose(ratio, 1.0), f"{state}_corrected equals {state}: divide it by "
          f"1 - {own}**t (t is the number of this update)")
    check(not np.isclose(ratio * (1 - theirs**t), 1.0, rtol=1e-9),
          f"{state}_corrected uses {other}: correct {state} with its own beta, {state} / (1 - "
          f"{own}**t)")
    fail(f"{state}_corrected should be {state} / (1 - {own}**t)")


def check_adam(update: Callable, layer_dims: list[int], t: int, learning_rate: float,
               beta1: float, beta2: float, epsilon: float, seed: int) -> None:
    """v and s are moving averages (of the gradients, of their squares), corrected by
    1 - beta**t; each parameter steps by -alpha v_corrected / (sqrt(s_corrected) + epsilon)."""
    params, grads, (v, s) = optimizer_problem(layer_dims, seed, "v", "s")
    full, zero_vs, zero_g = _three_runs(
        lambda g, st: adam_step(update, params, g, *st, t, learning_rate, beta1, beta2, epsilon),
        grads, [v, s])
    p_new, v_new, s_new, vc, sc = full
    for k in params:
        dk = "d" + k
        check_moving_average("v", dk, "beta1", beta1, grads[dk], v[dk],
                             (v_new[dk], zero_vs[1][dk], zero_g[1][dk]), t=t,
                             other=("beta2", beta2))
        check_moving_average("s", dk, "beta2", beta2, grads[dk], s[dk],
                             (s_new[dk], zero_vs[2][dk], zero_g[2][dk]), squared=True, t=t,
                             other=("beta1", beta1))
        check_bias_correction("v", vc[dk], v_new[dk], t, beta1, beta2, old=v[dk])
        check_bias_correction("s", sc[dk], s_new[dk], t, beta1, beta2, old=s[dk])
        _check_adaptive_step(k, (params[k] - p_new[k]) / learning_rate, vc[dk], sc[dk], epsilon,
                             learning_rate, "v_corrected / (sqrt(s_corrected) + epsilon)",
                             "this step's moments", (v_new[dk], s_new[dk]))


def check_adam_first_step(update: Callable, layer_dims: list[int], seed: int) -> None:
    """From zero moments (the test's own zeros), the first update (t = 1) moves every entry by
    about alpha: the bias corrections undo the zero start."""
    params, grads, _ = optimizer_problem(layer_dims, seed)
    zeros = {k: 0 * g for k, g in grads.items()}
    p_new = adam_step(update, params, grads, zeros, zeros, 1, 0.01, 0.9, 0.999, 1e-8)[0]
    for k in params:
        check(np.allclose(np.abs(params[k] - p_new[k]), 0.01, rtol=1e-4),
              f"on the first update (t = 1, v = s = 0) every entry of {k} should move by about "
              "alpha = 0.01: check the bias corrections (t starts at 1)")


# ---------------------------------------------------------------- learning-rate decay
def check_update_lr(update_lr: Callable, learning_rate0: float, decay_rate: float,
                    epochs: Iterable[int]) -> None:
    """alpha_0 / alpha - 1 grows by decay_rate every epoch, from 0 at epoch 0; judged over all
    the epochs at once, so that a mistaken formula is named even where it happens to agree."""
    e = np.array(list(epochs), dtype=float)
    got = np.array([float(update_lr(learning_rate0, int(k), decay_rate)) for k in e])
    if np.allclose(got * (1 + decay_rate * e), learning_rate0, rtol=1e-9, atol=0):
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = learning_rate0 / got - 1
    parenthesise = "parenthesise the whole denominator: alpha_0 / (1 + decay_rate * epoch_num)"
    for a, b, why in [
        (got, learning_rate0 // (1 + decay_rate * e), "use /, not //: floor division rounds the "
                                                      "learning rate down to a whole number"),
        (got, learning_rate0 * e / (1 + decay_rate), parenthesise),
        (got, learning_rate0 + decay_rate * e, parenthesise),
        (growth, decay_rate * (e + 1), "epoch_num counts from 0 and epoch 0 uses learning_rate0 "
                                       "itself: alpha_0 / (1 + decay_rate * epoch_num), no + 1"),
        (got, learning_rate0 * decay_rate**e, "that is exponential decay: this exercise's "
                                              "schedule is alpha_0 / (1 + decay_rate * epoch_num)"),
        (got, learning_rate0 * np.exp(-decay_rate * e), "that is exponential decay: this "
         "exercise's schedule is alpha_0 / (1 + decay_rate * epoch_num)")]:
        check(not np.allclose(a, b, rtol=1e-9, atol=1e-12), why)
    i = int(np.argmax(~np.isclose(got * (1 + decay_rate * e), learning_rate0, rtol=1e-9, atol=0)))
    call = f"update_lr({learning_rate0}, {int(e[i])}, {decay_rate}) = {got[i]:.6g}"
    check(got[i] > 0, f"{call}: a learning rate stays positive")
    fail(f"{call}: alpha_0 / alpha - 1 should be decay_rate * epoch_num = {decay_rate * e[i]:g}, "
         f"yours is {growth[i]:.6g}")


def _schedule_mistakes(e: np.ndarray, interval: int, k: np.ndarray) -> list[tuple[Any, str]]:
    """(number of decays so far, why) for each classic mistake of a staircase schedule."""
    first = f"the first time_interval epochs (0 ... {interval - 1}) must use learning_rate0 itself"
    mistakes = [
        (e / interval, "epoch_num / time_interval must be rounded down (floor, or //) so that "
                       "alpha stays constant within an interval"),
        (np.round(e / interval), "round down (floor, or //), not to the nearest integer"),
        (k + 1, f"{first}: floor(epoch_num / time_interval), no + 1"),
        (np.ceil(e / interval), f"{first}: round down (floor), not up (ceil)"),
        ((e + 1) // interval, "epoch_num counts from 0: floor(epoch_num / time_interval), don't "
                              "add 1 to epoch_num"),
        (e % interval, "use the number of whole intervals, epoch_num // time_interval, not the "
                       "remainder epoch_num % time_interval"),
        (e, "this decays every epoch: divide epoch_num by time_interval (and round down) first"),
        (np.minimum(k, 1), "this decays only once: the denominator grows by decay_rate at every "
                           "new interval, 1 + decay_rate * floor(epoch_num / time_interval)"),
    ]
    if interval != 1000:
        mistakes.append((e // 1000, "this uses intervals of 1000 epochs, not the time_interval "
                                    f"argument ({interval}): use time_interval"))
    return mistakes


def check_schedule_lr_decay(schedule: Callable, learning_rate0: float, decay_rate: float,
                            time_interval: int, epochs: Sequence[int]) -> None:
    """alpha_0 / alpha - 1 is decay_rate times the number of whole intervals so far."""
    got = np.array([float(schedule(learning_rate0, e, decay_rate, time_interval)) for e in epochs])
    k = np.array([math.floor(e / time_interval) for e in epochs])
    growth = learning_rate0 / got - 1
    mistakes = [(got, learning_rate0 + decay_rate * k, "parenthesise the whole denominator: "
                 "alpha_0 / (1 + decay_rate * floor(epoch_num / time_interval))")]
    mistakes += [(growth, decay_rate * count, why) for count, why in
                 _schedule_mistakes(np.array(epochs, dtype=float), time_interval, k)]
    bad = int(np.argmax(~np.isclose(growth, decay_rate * k)))
    judge(growth, decay_rate * k, mistakes,
          f"schedule_lr_decay({learning_rate0}, {epochs[bad]}, {decay_rate}, {time_interval}) = "
          f"{got[bad]}, expected alpha_0 / (1 + decay_rate * floor(epoch_num / time_interval)) = "
          f"{learning_rate0 * (1 + decay_rate * k[bad]) ** -1:.6g}")
