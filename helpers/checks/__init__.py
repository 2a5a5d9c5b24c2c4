"""The machinery of the notebooks' checks: how a check runs, what it says, what it remembers.

A test cell reads::

    with exercise("update_parameters_with_gd") as ex:
        ...                      # a few calls and comparisons
        ex.visible_passed()      # "the visible checks passed; more run at grading"

``exercise`` turns whatever goes wrong into one sentence about the learner's code: an assertion's
message as it is; ``NotImplementedError`` into "do this exercise first"; any other exception
(a shape mismatch, a missing key) into "your code raised …", with a hint when the test gives one.
It also remembers, in this kernel, how each exercise's last check ended, so that a cell that
*uses* an exercise (a "See it" cell, an explorer) can say "do X first" or "X failed its checks"
(``needs``, ``warning``).

Only generic machinery lives here (comparisons, argument snapshots, message builders, problem
builders): no graded function's answer and no hidden test. Each notebook's own diagnosis of its
exercises (which mistake produced these numbers, and the sentence that says so) lives beside it
in ``helpers.checks.<topic>`` (named like ``helpers.explorers.<topic>``), so that a visible test
cell reads as a few calls. Those modules ship to learners too: they test properties and
diagnose mistakes, they never compute a graded function's answer (``tests/test_release_answers``
scans them), and hidden tests stay in the notebooks' hidden regions.
"""

from __future__ import annotations

import copy
import inspect
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

PASS_LINE = "the visible checks passed; more run at grading."

# How each exercise's last check in this kernel ended: name -> (status, code object checked).
RESULTS: dict[str, tuple[str, Any]] = {}


# ---------------------------------------------------------------- failures, said in one sentence
class CheckFailed(AssertionError):
    """A check failed; the message is one sentence about the learner's code."""

    def _render_traceback_(self) -> list[str]:  # IPython shows only this, no traceback
        return [f"\x1b[31m✗ {self}\x1b[0m"]


class ExerciseNotDone(CheckFailed):
    """The learner's function is still the exercise's stub (raises NotImplementedError)."""

    def __init__(self, name: str, needed_by: str | None = None):
        self.exercise = name
        where = f"`{needed_by}` needs your `{name}`: " if needed_by and needed_by != name else ""
        super().__init__(
            f"{where}exercise `{name}` is not done yet: write it in its cell (replace "
            "`raise NotImplementedError()`), run that cell, then run this one again.")


def fail(message: str) -> None:
    """Stop the check with ``message`` (a sentence saying what is wrong and what to do)."""
    raise CheckFailed(message)


def check(condition: Any, message: str) -> None:
    """``fail(message)`` unless ``condition`` holds."""
    if not bool(condition):
        raise CheckFailed(message)


def _names(exc: BaseException) -> list[str]:
    return [k.__name__ for k in type(exc).__mro__]


def _raiser(exc: BaseException, namespace: Mapping[str, Any]) -> str | None:
    """The innermost learner function (a public function of ``namespace``) running when ``exc``
    was raised; None when the error came from the check itself or from a library alone. A
    course function imported into the namespace (``from helpers.checks.<topic> import check_x``)
    is never the learner's."""
    name, tb = None, exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        fn = namespace.get(code.co_name)
        if (not code.co_name.startswith("_") and getattr(fn, "__code__", None) is code
                and not str(getattr(fn, "__module__", "")).startswith("helpers")):
            name = code.co_name
        tb = tb.tb_next
    return name


def _first_line(exc: BaseException, limit: int = 240) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else ""
    if "{{" in line or "[Op:" in line:  # TensorFlow: drop the node name and the op suffix
        line = re.sub(r"^\{\{.*?\}\}\s*", "", line)
        line = re.sub(r"\s*\[Op:.*$", "", line)
    return line if len(line) <= limit else line[:limit] + " …"


class exercise:  # noqa: N801 - used as a statement, `with exercise("f") as ex:`
    """Run one exercise's checks: every failure becomes one sentence; the outcome is recorded.

    name   the graded function's name, e.g. "random_mini_batches"
    hints  {exception class name: advice} added to "your code raised …" for that exception,
           e.g. {"ValueError": "are mu and sigma of shape (n_x, 1)?"}
    """

    def __init__(self, name: str, hints: Mapping[str, str] | None = None):
        self.name = name
        self.hints = dict(hints or {})
        self._fn = None
        self._namespace: Mapping[str, Any] = {}

    def __enter__(self) -> exercise:
        self._namespace = sys._getframe(1).f_globals
        self._fn = self._namespace.get(self.name)
        RESULTS[self.name] = ("failed", _code(self._fn))  # until the checks say otherwise
        return self

    def visible_passed(self) -> None:
        """Print that the visible checks passed (the hidden ones may still fail at grading)."""
        RESULTS[self.name] = ("passed", _code(self._fn))
        print(f"`{self.name}`: {PASS_LINE}")

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None:
            return False
        code = _code(self._fn)
        if isinstance(exc, ExerciseNotDone):
            RESULTS[self.name] = ("not done", code)
            return False
        if isinstance(exc, AssertionError):
            RESULTS[self.name] = ("failed", code)
            if isinstance(exc, CheckFailed):
                return False
            raise CheckFailed(str(exc) or f"`{self.name}` failed a check") from None
        if "NotImplementedError" in _names(exc):
            who = _raiser(exc, self._namespace) or self.name
            RESULTS[self.name] = ("not done" if who == self.name else "failed", code)
            raise ExerciseNotDone(who, needed_by=self.name) from None
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not ours
            return False
        RESULTS[self.name] = ("failed", code)
        who = _raiser(exc, self._namespace)
        where = f"your `{who}`" if who else f"checking `{self.name}`"
        hint = next((self.hints[n] for n in _names(exc) if n in self.hints), "")
        raise CheckFailed(f"{where} raised {type(exc).__name__} ({_first_line(exc)})"
                          + (f": {hint}" if hint else "")) from None


def _code(fn: Any) -> Any:
    return getattr(fn, "__code__", None)


def function_name(fn: Any, default: str = "your function") -> str:
    """The name a message uses for ``fn`` (a learner's function or a stand-in for it)."""
    return getattr(fn, "__name__", default)


# ---------------------------------------------------------------- what other cells learn
def is_stub(fn: Callable) -> bool:
    """True while ``fn`` is still an exercise's stub (its body raises NotImplementedError)."""
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        return False
    names, todo = set(), [code]
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    if "NotImplementedError" not in names:
        return False
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return True
    # [ \t]*, not \s*: a pattern whose spaces may span lines backtracks quadratically over a
    # submission of many blank lines (the grader runs this on the trusted side)
    return re.search(r"^[ \t]*raise NotImplementedError(\(\))?[ \t]*$", src, re.M) is not None




def status(name: str, fn: Callable | None = None) -> str:
    """How the last check of exercise ``name`` ended in this kernel: "passed", "failed",
    "not done", "not checked", or "changed" (``fn`` is not the version that was checked)."""
    if fn is not None and is_stub(fn):
        return "not done"
    if name not in RESULTS:
        return "not checked"
    outcome, code = RESULTS[name]
    if fn is not None and code is not None and _code(fn) is not code:
        return "changed"
    return outcome


def warning(fn: Callable | str) -> str:
    """A sentence to show above a picture made with ``fn``; "" when its checks passed."""
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", str(fn))
    state = status(name, None if isinstance(fn, str) else fn)
    if state == "failed":
        return (f"Careful: your `{name}` did not pass its checks, so this picture shows your code "
                "as it is, mistakes included; fix it (its test cell says how) and run this again.")
    if state == "changed":
        return (f"Note: `{name}` changed since its checks last ran: run its test cell again to "
                "know whether this picture is right.")
    if state == "not checked":
        return f"Note: the checks of `{name}` have not run yet: run its test cell above."
    return ""


def needs(*fns: Callable) -> None:
    """First line of a cell that runs the learner's functions: stop with "do exercise X first"
    while one is a stub; print a warning above the picture when one failed its checks."""
    for fn in fns:
        if is_stub(fn):
            raise ExerciseNotDone(getattr(fn, "__name__", "?"))
    for fn in fns:
        text = warning(fn)
        if text:
            print(text)


def prerequisite(needed: str, ok: bool, user: str, what: str) -> None:
    """Fail, naming ``needed``, when a check of ``user`` cannot be judged because the earlier
    exercise ``needed`` (which ``user`` calls, as its docstring asks) is wrong."""
    if not ok:
        raise CheckFailed(f"`{user}` calls your `{needed}`, which {what}: fix `{needed}` first "
                          "(its test cell says how), then run this check again.")


# ---------------------------------------------------------------- what a function of yours calls
def uses(fn: Callable, names: Iterable[str] = (), modules: Iterable[str] = ()) -> list[str]:
    """The names that ``fn`` (and every notebook function it calls) refers to which are in
    ``names`` or belong to one of ``modules`` (e.g. "helpers", "scipy"), sorted. The one place
    where a check reads the learner's code instead of calling it (e.g. "write the loop
    yourself; don't call scipy's check_grad")."""
    names, modules = set(names), tuple(modules)
    found: set[str] = set()
    seen: set[int] = set()
    todo = [fn]
    while todo:
        f = todo.pop()
        code = getattr(f, "__code__", None)
        if not isinstance(code, types.CodeType) or id(f) in seen:
            continue
        seen.add(id(f))
        namespace = getattr(f, "__globals__", {})
        codes, referred = [code], set()
        while codes:
            c = codes.pop()
            referred.update(c.co_names)
            codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
        for name in referred:
            obj = namespace.get(name)
            where = (obj.__name__ if isinstance(obj, types.ModuleType)
                     else getattr(obj, "__module__", "") or "") if obj is not None else ""
            real = getattr(obj, "__name__", None) if obj is not None else None
            if real in names:             # also under another name: `import check_grad as cg`
                found.add(real)
            elif name in names or name.startswith(modules) or (modules and where.startswith(modules)):
                found.add(name)
            elif isinstance(obj, types.FunctionType) and obj.__module__ == f.__module__:
                todo.append(obj)
    return sorted(found)


def helpers_called(fn: Callable) -> list[str]:
    """Names of the course's helpers that ``fn`` (or a notebook function it calls) refers to."""
    return uses(fn, modules=("helpers",))


# ---------------------------------------------------------------- comparisons
def as_array(x: Any, what: str) -> np.ndarray:
    """``x`` as a float array, or a sentence saying that ``what`` is not numbers."""
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be numbers (an array or a float), got "
                          f"{type(x).__name__}") from None


def close(got: Any, want: Any, rtol: float = 1e-7, atol: float = 1e-10) -> bool:
    """Same shape and equal up to floating-point order of operations."""
    try:
        g, w = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return False
    return g.shape == w.shape and bool(np.allclose(g, w, rtol=rtol, atol=atol))


def first_match(got: Any, candidates: Mapping[str, Any], rtol: float = 1e-6,
                atol: float = 1e-10) -> str | None:
    """The first message whose value ``got`` equals: names a known mistake from its result."""
    for message, value in candidates.items():
        if close(got, value, rtol=rtol, atol=atol):
            return message
    return None


def check_shape(x: Any, shape: tuple, what: str, advice: str = "") -> np.ndarray:
    a = as_array(x, what)
    check(a.shape == tuple(shape), f"{what} has shape {a.shape}, expected {tuple(shape)}"
          + (f": {advice}" if advice else ""))
    return a


def check_keys(d: Any, keys: Iterable[str], what: str, advice: str = "") -> None:
    """``d`` is a dict holding exactly ``keys`` (checked before any indexing: no KeyError)."""
    want = sorted(keys)
    check(isinstance(d, Mapping), f"{what} should be a dict with keys {want}, got "
          f"{type(d).__name__}")
    got = sorted(d)
    check(got == want, f"{what} has keys {got}, expected {want}" + (f": {advice}" if advice
                                                                    else ""))


def relative_difference(a: Any, b: Any) -> float:
    a, b = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


# ---------------------------------------------------------------- arguments left unchanged
class Snapshot:
    """Copies of a call's arguments, to check a function's contract on changing them."""

    def __init__(self, **arguments: Any):
        self.arguments = arguments
        self.copies = copy.deepcopy(arguments)

    def changed(self) -> list[str]:
        """Names of the arguments (or dict entries, "grads['dW1']") that differ from the copy."""
        out = []
        for name, before in self.copies.items():
            now = self.arguments[name]
            if isinstance(before, Mapping):
                if not isinstance(now, Mapping) or sorted(now) != sorted(before):
                    out.append(name)
                    continue
                out += [f"{name}['{k}']" for k in before if not _same(now[k], before[k])]
            elif not _same(now, before):
                out.append(name)
        return out

    def check_unchanged(self, function: str, advice: str = "") -> None:
        changed = self.changed()
        check(not changed, f"`{function}` changed its argument {changed[0] if changed else ''}: "
              "its docstring says that argument is left unchanged"
              + (f"; {advice}" if advice else ""))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return sorted(a) == sorted(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - objects without a plain equality count as changed
        return False


def shares_memory(a: Any, b: Any) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.shares_memory(a, b)


# ---------------------------------------------------------------- statistics
def ks_uniform(u: Any) -> float:
    """Kolmogorov-Smirnov distance between the sample ``u`` and the uniform law on [0, 1]."""
    u = np.sort(np.ravel(np.asarray(u, dtype=float)))
    n = u.size
    return float(max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n)))


def ks_bound(n: int, p_false_alarm: float = 1e-9) -> float:
    """A KS distance that a true uniform sample of size n exceeds with probability below
    ``p_false_alarm`` (Dvoretzky-Kiefer-Wolfowitz: P(D > e) <= 2 exp(-2 n e^2))."""
    return float(np.sqrt(np.log(2 / p_false_alarm) / (2 * n)))


def counts_bound(n: int, p: float, p_false_alarm: float = 1e-9) -> float:
    """How far a Binomial(n, p) count may stray from n p with probability below
    ``p_false_alarm`` (Hoeffding: P(|X - n p| > t) <= 2 exp(-2 t^2 / n))."""
    return float(np.sqrt(n * np.log(2 / p_false_alarm) / 2))


# ---------------------------------------------------------------- initializers (notebook 01 …)
def check_layer_parameters(p: Any, dims: list[int], fn: str) -> None:
    """Keys, types and shapes of the parameters that ``fn`` made for layer sizes ``dims``."""
    L = len(dims) - 1
    check(isinstance(p, dict), f"{fn} must return a dict, got {type(p).__name__}: did you forget "
          "`return parameters`?")
    want = {f"{k}{l}" for l in range(1, L + 1) for k in "Wb"}
    check(set(p) == want, f"for layers_dims={list(dims)} the keys should be {sorted(want)} (L = "
          f"len(layers_dims) - 1 = {L} layers with weights), got {sorted(p)}: check the range of "
          "your loop, it runs l = 1, ..., L")
    for l in range(1, L + 1):
        W, b = np.asarray(p[f"W{l}"]), np.asarray(p[f"b{l}"])
        swapped = W.shape == (dims[l - 1], dims[l]) and dims[l - 1] != dims[l]
        check(W.shape == (dims[l], dims[l - 1]),
              f"W{l} has shape {W.shape} but must be (n^[{l}], n^[{l - 1}]) = "
              f"{(dims[l], dims[l - 1])}" + (" (rows and columns swapped: W^[l] has n^[l] rows, one "
                                             "per unit of layer l)" if swapped else ""))
        check(b.shape == (dims[l], 1), f"b{l} has shape {b.shape} but must be a column (n^[{l}], 1)"
              f" = {(dims[l], 1)}" + (": use np.zeros((n, 1)), not np.zeros(n)" if b.ndim == 1 else ""))
        check(np.issubdtype(W.dtype, np.floating) and np.issubdtype(b.dtype, np.floating),
              f"W{l} and b{l} must hold floats (got {W.dtype}, {b.dtype}): gradient descent will "
              "add fractions to them")


def check_uses_rng(fn: Callable, dims: list[int], **kwargs: Any) -> None:
    """Same generator state, same parameters (whatever the global seed); another seed, others;
    and ``dims`` left unchanged."""
    saved = np.random.get_state()
    args = Snapshot(layers_dims=dims)
    try:
        np.random.seed(0)
        p1 = fn(dims, np.random.default_rng(123), **kwargs)
        np.random.seed(1)
        p2 = fn(dims, np.random.default_rng(123), **kwargs)
    finally:
        np.random.set_state(saved)
    args.check_unchanged(function_name(fn))
    check(all(np.array_equal(p1[k], p2[k]) for k in p1),
          "two generators with the same seed gave different weights: draw from the `rng` argument "
          "(rng.standard_normal), not from the global np.random functions")
    p3 = fn(dims, np.random.default_rng(456), **kwargs)
    check(not np.array_equal(p1["W1"], p3["W1"]), "generators with different seeds gave the same "
          "weights: use the `rng` you are given, not a generator of your own")


def check_weight_scale(fn: Callable, name: str, dims: list[int],
                       want: Callable[[int, int], float],
                       mistakes: list[tuple[str, Callable[[int, int], float]]], seed: int) -> None:
    """Zero biases; weights centred, Gaussian-shaped, with the standard deviation
    ``want(n_prev, n)`` in every large W^[l] (within five standard errors of a sample standard
    deviation: tight on large layers, so that a scale off by a few percent, e.g. n^[l-1] + 1,
    fails where the layer is big enough to tell); else the first of ``mistakes`` (why, std) that
    the weights of every large layer match is named, or the first layer that is off."""
    p = fn(list(dims), np.random.default_rng(seed))
    check_layer_parameters(p, dims, getattr(fn, "__name__", name))
    for l in range(1, len(dims)):
        check(np.all(np.asarray(p[f"b{l}"]) == 0),
              f"b{l} is not zero: {name} initialization starts every bias at 0")
    stds = {l: float(np.std(p[f"W{l}"])) for l in range(1, len(dims)) if np.size(p[f"W{l}"]) >= 5000}
    for l, s in stds.items():
        W = np.asarray(p[f"W{l}"], dtype=float)
        check(s > 0, f"every weight of W{l} equals {W.flat[0]:.3g}: their standard deviation is 0 "
              "(an integer division such as 2 // n gives 0: use 2 / n), but the weights must be "
              "random, rng.standard_normal times the scale")
        check(abs(W.mean()) < 0.1 * s, f"W{l} has mean {W.mean():.3g}, but the weights must be "
              "centred on 0: rng.random draws from [0, 1); use rng.standard_normal")
        # the shape of the law, not only its spread: a Gaussian puts 4.55 % beyond two standard
        # deviations, a uniform law of the same spread none
        beyond = float(np.mean(np.abs(W) > 2 * s))
        check(0.03 < beyond < 0.065, f"{beyond:.1%} of the weights of W{l} lie beyond two standard "
              "deviations, but Gaussian numbers put 4.6% there: draw them with rng.standard_normal "
              "(not a uniform distribution)")

    def off(l: int, scale: Callable[[int, int], float]) -> bool:
        return abs(stds[l] / scale(dims[l - 1], dims[l]) - 1) > 5 / np.sqrt(2 * np.size(p[f"W{l}"]))

    wrong = [l for l in stds if off(l, want)]
    if not wrong:
        return
    for why, alt in mistakes:
        check(not all(not off(l, alt) for l in stds),
              f"{name}: the standard deviations of your weights match {why}")
    l = wrong[0]
    fail(f"{name}: the standard deviation of W{l} (shape {np.shape(p[f'W{l}'])}, n^[{l - 1}] = "
         f"{dims[l - 1]}, n^[{l}] = {dims[l]}) is {stds[l]:.4g}, but it should be "
         f"{want(dims[l - 1], dims[l]):.4g}")


# ---------------------------------------------------------------- optimizer states (notebook 05)
def check_zero_state(init: Callable, layer_dims: list[int], seed: int,
                     names: tuple[str, ...] = ("v",)) -> None:
    """``init(parameters)`` returns one zero state per name (a dict, or a tuple of dicts for
    several): keys "d" + each parameter's name, new zero arrays of the parameter's shape, no two
    states sharing arrays, and the parameters left unchanged."""
    fn = getattr(init, "__name__", "the initializer")
    params = random_parameters(layer_dims, np.random.default_rng(seed))
    args = Snapshot(parameters=params)
    out = init(params)
    args.check_unchanged(fn)
    if len(names) > 1:
        check(isinstance(out, tuple) and len(out) == len(names),
              f"{fn} must return the tuple ({', '.join(names)})")
    states = out if len(names) > 1 else (out,)
    for what, state in zip(names, states):
        check_keys(state, ["d" + k for k in params], f"{what}", "a 'd' before each parameter's name")
        for k, p in params.items():
            z = as_array(state["d" + k], f"{what}['d{k}']")
            check(z.shape == p.shape, f"{what}['d{k}'] has shape {z.shape}, expected {p.shape}")
            check(np.all(z == 0), f"{what}['d{k}'] must start at zero")
            check(not shares_memory(state["d" + k], p), f"{what}['d{k}'] shares memory with "
                  f"parameters['{k}']: make new arrays (np.zeros_like)")
    for i in range(len(states)):
        for j in range(i + 1, len(states)):
            check(states[i] is not states[j] and not any(
                shares_memory(states[i][k], states[j][k]) for k in states[i]),
                f"{names[i]} and {names[j]} are the same arrays: make separate dicts of new zero arrays")


# ---------------------------------------------------------------- problem builders
def random_parameters(layer_dims: list[int], rng: np.random.Generator,
                      scale: float | None = None) -> dict[str, np.ndarray]:
    """{"W1", "b1", …}: W[l] (n_l, n_(l-1)) uniform with standard deviation 1 / sqrt(n_(l-1))
    (or ``scale``), b[l] (n_l, 1) uniform on (-0.2, 0.2): a test's own random parameters."""
    out = {}
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        s = scale if scale is not None else 1 / np.sqrt(n_prev)
        out[f"W{l}"] = rng.uniform(-1.0, 1.0, size=(n, n_prev)) * (np.sqrt(3.0) * s)
        out[f"b{l}"] = rng.uniform(-0.2, 0.2, size=(n, 1))
    return out


def random_like(params: Mapping[str, np.ndarray], rng: np.random.Generator, prefix: str = "d",
                positive: bool = False) -> dict[str, np.ndarray]:
    """Random arrays keyed prefix + name and shaped like ``params`` (gradients, moments)."""
    out = {}
    for k, p in params.items():
        x = rng.standard_normal(np.shape(p))
        out[prefix + k] = x**2 if positive else x
    return out


# ---------------------------------------------------------------- gradients (notebooks 02-04)
def core_gradients(X: np.ndarray, Y: np.ndarray, parameters: Mapping[str, np.ndarray],
                   hidden: str = "relu") -> dict[str, np.ndarray]:
    """The course's own backpropagation (helpers.network) of the net ``parameters`` with
    ``hidden`` units, a sigmoid output and the cross-entropy cost, at X (n_x, m), Y (1, m):
    {"dW1", "db1", …}, each shaped like its parameter. What a learner's gradients are compared
    with where no exercise changes the plain backward pass."""
    from helpers.network import model_backward, model_forward

    AL, cache = model_forward(X, dict(parameters), hidden=hidden, output="sigmoid")
    return {k: v for k, v in model_backward(AL, Y, cache).items() if k != "dA0"}


def check_gradient_dict(grads: Any, parameters: Mapping[str, Any],
                        what: str = "the returned grads") -> dict[str, np.ndarray]:
    """``grads`` holds exactly "d" + each parameter's name, each shaped like its parameter, and
    at most the intermediate gradients a backward pass may also keep ("dA1", "dZ2", …); returned
    as float arrays, the parameters' gradients only (checked before any indexing: no KeyError)."""
    check(isinstance(grads, Mapping), f"{what} should be a dict with keys "
          f"{sorted('d' + k for k in parameters)}, got {type(grads).__name__}")
    intermediate = [k for k in grads if re.fullmatch(r"d[AZ]\d+", str(k))]
    check_keys({k: v for k, v in grads.items() if k not in intermediate},
               ["d" + k for k in parameters], what)
    return {"d" + k: check_shape(grads["d" + k], np.shape(v), f"grads['d{k}']", f"shaped like {k}")
            for k, v in parameters.items()}


def check_plain_backprop(grads: Mapping[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                         parameters: Mapping[str, np.ndarray], when: str) -> None:
    """Where the exercise adds nothing to plain backpropagation (``when``, e.g. "with lambd = 0"),
    ``grads`` of a ReLU net equal the course's own (:func:`core_gradients`), output layer first."""
    plain = core_gradients(X, Y, parameters, "relu")
    for k in sorted(plain, key=lambda k: (-int(k[2:]), k[1])):  # dW3, db3, dW2, …
        e = relative_difference(grads[k], plain[k])
        check(e < 1e-7, f"{when}, {k} is not plain backprop's (relative error {e:.1e}): check the "
              "plain backprop: dZ3 = A3 - Y, the ReLU derivative (A > 0) and the 1/m")
