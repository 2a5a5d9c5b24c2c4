"""One generic training loop whose pieces are plugged in by the caller.

The notebooks pass *the learner's own functions* into ``train``: an initializer, an update rule
(gradient descent, momentum, RMSprop, Adam), a cost, a backward pass, a mini-batch maker, a
learning-rate decay. ``train`` calls each one with the arguments its signature asks for, by name:

=============  ===========================================================================
piece          names it may ask for
=============  ===========================================================================
init           layers_dims, rng
forward        X, parameters, rng
cost           AL, Y, parameters
backward       X, Y, cache, AL, parameters
update         parameters, grads, learning_rate, v, s, t
state_init     parameters                    (returns v, s, or the tuple (v, s))
mini_batches   X, Y, mini_batch_size, rng    (returns a list of (X_batch, Y_batch))
lr_decay       learning_rate0, epoch_num
=============  ===========================================================================

Any other name (``lambd``, ``keep_prob``, ``beta``, ``beta1``, ``beta2``, ``epsilon``,
``decay_rate``, ``time_interval``, ``scale``…) is taken from ``hyper``. An update rule that asks
for ``v`` and/or ``s`` gets optimizer state that persists between steps, and ``t`` counts the
updates from 1 (for Adam's bias correction). If it returns a tuple, its first item is the new
parameters and the next ones are the new ``v`` and ``s`` in the order the signature names them.
"""

from __future__ import annotations

import inspect
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from helpers.network import (
    _binary_cross_entropy,
    _categorical_cross_entropy,
    model_backward,
    model_forward,
)
from helpers.validate import check_parameters, check_xy

# A run whose cost climbs above this many times its first value is stopped as diverged (the
# clipped cross-entropy never reaches inf, so "NaN or inf" alone would miss a blow-up).
DIVERGENCE_FACTOR = 10.0
# Below this many (examples x widest layer), training uses a single BLAS thread.
SMALL_WORK = 200_000


class ExerciseNotDone(NotImplementedError):
    """A learner's function still raises NotImplementedError; ``exercise`` names it."""

    def __init__(self, exercise: str):
        self.exercise = exercise
        super().__init__(
            f"Exercise `{exercise}` is not done yet: implement it (and run its cell), then "
            "run this cell again."
        )


def exercise_not_done(exc: NotImplementedError) -> ExerciseNotDone:
    """Name the learner's function that raised ``exc`` (the innermost notebook frame)."""
    if isinstance(exc, ExerciseNotDone):
        return exc
    name = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if not code.co_filename.startswith(os.path.dirname(__file__)):
            name = code.co_name
        tb = tb.tb_next
    return ExerciseNotDone(name or "unknown")


@dataclass
class History:
    """What a training run produced.

    costs        the cost after each iteration (num_iterations runs) or each epoch (epoch runs)
    steps        the iteration or epoch number of each entry of costs (starting at 0)
    unit         "iteration" or "epoch"
    batch_costs  the cost of every mini-batch update, in order (epoch runs)
    monitor      [(step, {name: value})] from the ``monitor`` callback
    status       "finished", or "diverged" (cost became NaN/inf; training stopped there)
    message      a sentence saying what happened
    parameters   the final parameters (those before the divergence if it diverged)
    seconds      wall time of the whole run; seconds_per_step for each update
    learning_rates  the learning rate used in each epoch (or iteration)
    """

    costs: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    unit: str = "iteration"
    batch_costs: list[float] = field(default_factory=list)
    monitor: list[tuple[int, dict]] = field(default_factory=list)
    status: str = "finished"
    message: str = ""
    parameters: dict = field(default_factory=dict)
    seconds: float = 0.0
    updates: int = 0
    learning_rates: list[float] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.updates, 1)

    @property
    def final_cost(self) -> float:
        return self.costs[-1] if self.costs else math.nan


def _caller(fn: Callable, role: str, known: Sequence[str], hyper: dict):
    """Return (call, names): ``call(values)`` calls fn with the arguments its signature names,
    taking each from ``values`` (for names in ``known``) or from ``hyper``."""
    if not callable(fn):
        raise TypeError(f"{role} must be a function, got {type(fn).__name__}")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: positional by role
        return (lambda values: fn(*(values[n] for n in known))), list(known)
    dynamic, fixed = [], {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in hyper:
            fixed[p.name] = hyper[p.name]
        elif p.name in known:
            dynamic.append(p.name)
        elif p.default is p.empty:
            name = getattr(fn, "__name__", role)
            raise TypeError(
                f"train() does not know what to pass for argument {p.name!r} of your {role} "
                f"function `{name}`: name it one of {list(known)}, or give its value in "
                f"hyper={{{p.name!r}: ...}}"
            )
    if p_kw := [n for n in dynamic if sig.parameters[n].kind == inspect.Parameter.POSITIONAL_ONLY]:
        raise TypeError(f"{role}: positional-only arguments {p_kw} are not supported")

    def call(values):
        return fn(**{n: values[n] for n in dynamic}, **fixed)

    return call, dynamic


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread: small matrix products run faster that
    way, and several threads per process fight badly on a busy 2-core machine."""
    return threadpool_limits(limits=1, user_api="blas")


def _progress_wanted(progress: bool | None, total: int) -> bool:
    if progress is not None:
        return progress
    if os.environ.get("HELPERS_PROGRESS", "") == "0" or "pytest" in sys.modules:
        return False
    try:
        shell = get_ipython().__class__.__name__  # type: ignore[name-defined]  # noqa: F821
    except NameError:
        return False
    return shell == "ZMQInteractiveShell" and total >= 500


def _zeros_like_grads(parameters: dict) -> dict:
    return {f"d{k}": np.zeros_like(v) for k, v in parameters.items()}


def train(
    X: np.ndarray,
    Y: np.ndarray,
    layers_dims: Sequence[int],
    *,
    init: Callable,
    rng: np.random.Generator,
    update: Callable | None = None,
    forward: Callable | None = None,
    cost: Callable | None = None,
    backward: Callable | None = None,
    learning_rate: float = 0.01,
    num_iterations: int | None = None,
    num_epochs: int | None = None,
    mini_batches: Callable | None = None,
    mini_batch_size: int = 64,
    state_init: Callable | None = None,
    lr_decay: Callable | None = None,
    hyper: dict | None = None,
    hidden: str = "relu",
    output: str = "sigmoid",
    monitor: Callable[[dict], dict] | None = None,
    monitor_every: int = 100,
    progress: bool | None = None,
) -> History:
    """Train an L-layer net on X (n_x, m), Y (n_y, m) and return its History.

    Give exactly one of ``num_iterations`` (full-batch steps) or ``num_epochs`` (passes over the
    data in mini-batches made by ``mini_batches``; without it, one full batch per epoch).
    Without ``update``, the step is plain gradient descent W := W - learning_rate dW.
    Without ``forward``/``cost``/``backward``, the course's L-layer net with ``hidden``
    activations and a ``output`` output layer, cross-entropy cost.
    Training stops with ``status == "diverged"`` when the cost becomes NaN or infinite, or
    climbs above DIVERGENCE_FACTOR times its first value.
    """
    hyper = dict(hyper or {})
    layers_dims = [int(n) for n in layers_dims]
    if len(layers_dims) < 2 or min(layers_dims) < 1:
        raise ValueError(f"layers_dims must list at least two positive sizes, got {layers_dims}")
    X, Y = check_xy(X, Y, n_x=layers_dims[0])
    if Y.shape[0] != layers_dims[-1]:
        raise ValueError(
            f"Y has shape {Y.shape} but the network has {layers_dims[-1]} output unit(s): "
            f"Y must be ({layers_dims[-1]}, {X.shape[1]})"
        )
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    if (num_iterations is None) == (num_epochs is None):
        raise ValueError("give exactly one of num_iterations= or num_epochs=")
    total = int(num_iterations if num_iterations is not None else num_epochs)
    if total < 1:
        raise ValueError(f"the number of iterations/epochs must be at least 1, got {total}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate}")
    if (forward is None) != (backward is None) and backward is None:
        raise ValueError("a custom forward needs its matching backward= as well")

    # The course's small nets run fastest on one BLAS thread (threads cost more than they save
    # on small matrices, and far more on a busy machine); large nets use them all.
    work = X.shape[1] * max(layers_dims)
    threads = 1 if work < SMALL_WORK else None
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            return _train(**{k: v for k, v in locals().items() if k not in ("work", "threads")})
    except NotImplementedError as exc:
        raise exercise_not_done(exc) from None


def _train(*, X, Y, layers_dims, init, rng, update, forward, cost, backward, learning_rate,
           num_iterations, num_epochs, mini_batches, mini_batch_size, state_init, lr_decay,
           hyper, hidden, output, monitor, monitor_every, progress, total) -> History:
    values = {"layers_dims": list(layers_dims), "rng": rng, "X": X, "Y": Y,
              "learning_rate": learning_rate, "learning_rate0": learning_rate,
              "mini_batch_size": mini_batch_size}
    call_init, _ = _caller(init, "init", ["layers_dims", "rng"], hyper)
    parameters = call_init(values)
    if parameters is None:
        raise ValueError(f"your init function `{getattr(init, '__name__', init)}` returned None: "
                         "did you forget `return parameters`?")
    check_parameters(parameters, n_x=layers_dims[0])
    for l in range(1, len(layers_dims)):
        want = (layers_dims[l], layers_dims[l - 1])
        if np.shape(parameters.get(f"W{l}")) != want:
            raise ValueError(f"init returned W{l} of shape {np.shape(parameters.get(f'W{l}'))} "
                             f"but layers_dims {layers_dims} needs {want}")
    parameters = {k: np.array(v, dtype=float) for k, v in parameters.items()}

    if forward is None:
        def call_forward(v):
            return model_forward(v["X"], v["parameters"], hidden, output)
    else:
        call_forward, _ = _caller(forward, "forward", ["X", "parameters", "rng"], hyper)
    if cost is None:
        fast_cost = _binary_cross_entropy if layers_dims[-1] == 1 else _categorical_cross_entropy

        def call_cost(v):
            return fast_cost(v["AL"], v["Y"])
    else:
        call_cost, _ = _caller(cost, "cost", ["AL", "Y", "parameters"], hyper)
    if backward is None:
        def call_backward(v):
            return model_backward(v["AL"], v["Y"], v["cache"])
    else:
        call_backward, _ = _caller(backward, "backward",
                                   ["X", "Y", "cache", "AL", "parameters"], hyper)

    state_names: list[str] = []
    if update is None:
        def call_update(v):
            p, g, lr = v["parameters"], v["grads"], v["learning_rate"]
            for k in p:
                p[k] -= lr * g["d" + k]
            return p
    else:
        call_update, names = _caller(update, "update",
                                     ["parameters", "grads", "learning_rate", "v", "s", "t"], hyper)
        state_names = [n for n in names if n in ("v", "s")]
    if state_names:
        if state_init is None:
            for n in state_names:
                values[n] = _zeros_like_grads(parameters)
        else:
            call_state, _ = _caller(state_init, "state_init", ["parameters"], hyper)
            got = call_state({"parameters": parameters})
            got = got if isinstance(got, tuple) else (got,)
            if len(got) < len(state_names):
                raise ValueError(f"state_init returned {len(got)} item(s) but update needs "
                                 f"{state_names}")
            values.update(zip(state_names, got))
    if lr_decay is not None:
        call_decay, _ = _caller(lr_decay, "lr_decay", ["learning_rate0", "epoch_num"], hyper)
    if mini_batches is not None and num_epochs is not None:
        call_batches, _ = _caller(mini_batches, "mini_batches",
                                  ["X", "Y", "mini_batch_size", "rng"], hyper)
    else:
        def call_batches(v):
            return [(v["X"], v["Y"])]

    hist = History(unit="epoch" if num_epochs is not None else "iteration")
    m = X.shape[1]
    bar = None
    if _progress_wanted(progress, total):
        from tqdm.auto import tqdm
        bar = tqdm(total=total, desc="training", unit=hist.unit, leave=False)
    t = 0
    first_cost = None
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        for step in range(total):
            if lr_decay is not None:
                values["epoch_num"] = step
                values["learning_rate"] = float(call_decay(values))
            hist.learning_rates.append(values["learning_rate"])
            batches = call_batches({**values, "X": X, "Y": Y})
            step_cost = 0.0
            for Xb, Yb in batches:
                values["X"], values["Y"] = Xb, Yb
                values["parameters"] = parameters
                AL, cache = call_forward(values)
                values["AL"], values["cache"] = AL, cache
                c = float(call_cost(values))
                if first_cost is None:
                    first_cost = c
                if not math.isfinite(c) or c > DIVERGENCE_FACTOR * max(first_cost, 0.1):
                    hist.status = "diverged"
                    why = "is no longer a number" if not math.isfinite(c) else (
                        f"rose above {DIVERGENCE_FACTOR:g}x its starting value {first_cost:.3g}")
                    hist.message = (f"diverged at {hist.unit} {step}: the cost {why} (cost = "
                                    f"{c:.4g}); the learning rate {values['learning_rate']:g} is "
                                    "too large for this net")
                    break
                step_cost += c * Xb.shape[1]
                hist.batch_costs.append(c)
                values["grads"] = call_backward(values)
                t += 1
                values["t"] = t
                out = call_update(values)
                if isinstance(out, tuple):
                    parameters = out[0]
                    values.update(zip(state_names, out[1:]))
                else:
                    parameters = out
                if parameters is None:
                    raise ValueError(f"your update function `{getattr(update, '__name__', '')}` "
                                     "returned None: did you forget to return the parameters?")
            if hist.status == "diverged":
                break
            hist.costs.append(step_cost / m if len(batches) > 1 else c)
            hist.steps.append(step)
            if monitor is not None and (step % monitor_every == 0 or step == total - 1):
                hist.monitor.append((step, dict(monitor(parameters))))
            if bar is not None and step % 50 == 0:
                bar.update(min(50, total - bar.n))
    hist.seconds = time.perf_counter() - start
    hist.updates = t
    if bar is not None:
        bar.close()
    values["X"], values["Y"] = X, Y
    hist.parameters = parameters
    if hist.status != "diverged":
        hist.message = (f"finished {total} {hist.unit}s ({t} updates) in {hist.seconds:.2f} s; "
                        f"final cost {hist.final_cost:.4f}")
    return hist
