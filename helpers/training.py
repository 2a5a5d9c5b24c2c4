"""One generic training loop whose pieces are plugged in by the caller.

The notebooks pass *the learner's own functions* into ``train``: an initializer, an update rule
(gradient descent, momentum, RMSprop, Adam) with its state initializer, a cost, a backward pass,
a mini-batch maker, a learning-rate decay. Each one is *bound* once, before the loop (``bind``):
it is called with the arguments its signature names, by name:

=============  ===========================================================================
piece          names the loop supplies
=============  ===========================================================================
init           layers_dims, rng
forward        X, parameters, rng
cost           AL, Y, parameters
backward       X, Y, cache, AL, parameters
update         parameters, grads, learning_rate, t   (+ its optimizer state, see below)
state_init     parameters
mini_batches   X, Y, mini_batch_size, rng    (returns a list of (X_batch, Y_batch))
lr_decay       learning_rate0, epoch_num
=============  ===========================================================================

Any other name (``lambd``, ``keep_prob``, ``beta``, ``beta1``, ``beta2``, ``epsilon``,
``decay_rate``, ``time_interval``, ``scale``…) is taken from ``hyper``. A ``hyper`` key that is
also a name the loop supplies (e.g. ``hyper={"learning_rate": …}``) is an error: the loop's value
(the decayed learning rate, the epoch, …) would otherwise be silently replaced.

The update rule's **optimizer state is explicit** (as CS231n's ``optim.py``): ``bind_update``
turns the learner's update function into ``step(parameters, grads, state) -> (parameters,
state)``, where ``state`` is a dict holding the learning rate, the update counter ``t`` and the
arrays the update asks for beyond the names above (e.g. ``v`` and ``s``), as ``state_init``
returned them. The generic loop knows none of these names.
"""

from __future__ import annotations

import inspect
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from helpers.network import binary_cross_entropy, model_backward, model_forward
from helpers.validate import check_parameters, check_xy

# A run whose cost climbs above this many times its first value is stopped as diverged (the
# clipped cross-entropy never reaches inf, so "NaN or inf" alone would miss a blow-up).
DIVERGENCE_FACTOR = 10.0
# Below this many (examples x widest layer), training uses a single BLAS thread.
SMALL_WORK = 200_000

# The names each piece of the loop may ask for, and every name the loop supplies.
SUPPLIED = {
    "init": ("layers_dims", "rng"),
    "forward": ("X", "parameters", "rng"),
    "cost": ("AL", "Y", "parameters"),
    "backward": ("X", "Y", "cache", "AL", "parameters"),
    "update": ("parameters", "grads", "learning_rate", "t"),
    "state_init": ("parameters",),
    "mini_batches": ("X", "Y", "mini_batch_size", "rng"),
    "lr_decay": ("learning_rate0", "epoch_num"),
}
LOOP_NAMES = frozenset(n for names in SUPPLIED.values() for n in names)


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
    updates      how many updates the parameters received
    learning_rates  the learning rate the update rule received in each epoch (or iteration);
                 empty when the update rule takes no learning rate
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


# ---------------------------------------------------------------- binding
def _name(fn: Callable, role: str) -> str:
    return getattr(fn, "__name__", role)


def check_hyper(hyper: Mapping[str, Any] | None) -> dict:
    """``hyper`` as a new dict; a key the loop supplies itself raises a ValueError."""
    hyper = dict(hyper or {})
    clash = sorted(LOOP_NAMES & set(hyper))
    if clash:
        where = {"learning_rate": "pass learning_rate= to train() (and lr_decay= to change it)",
                 "mini_batch_size": "pass mini_batch_size= to train()"}
        hints = "; ".join(where.get(n, f"train() supplies {n!r} itself") for n in clash)
        raise ValueError(
            f"hyper has {clash}, which the training loop supplies itself, so the value in hyper "
            f"would silently replace the loop's: {hints}"
        )
    return hyper


def _parameters_of(fn: Callable, role: str) -> list[inspect.Parameter] | None:
    if not callable(fn):
        raise TypeError(f"{role} must be a function, got {type(fn).__name__}")
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: positional by role
        return None
    positional_only = [p.name for p in params if p.kind is p.POSITIONAL_ONLY]
    if positional_only:
        raise TypeError(f"{role}: positional-only arguments {positional_only} are not supported")
    return [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def bind(fn: Callable, role: str, supplied: Sequence[str], hyper: Mapping[str, Any],
         extra: Sequence[str] = ()) -> tuple[Callable[[Mapping[str, Any]], Any], list[str]]:
    """Bind ``fn`` once: returns ``(call, names)``, where ``call(values)`` calls fn with the
    arguments its signature names, each from ``values`` (for the ``supplied`` names and the
    ``extra`` ones) or from ``hyper``; ``names`` lists the names taken from ``values``.

    A name that is both supplied and a ``hyper`` key raises a ValueError; a required argument
    that is neither raises a TypeError saying how to give it.
    """
    params = _parameters_of(fn, role)
    if params is None:
        return (lambda values: fn(*(values[n] for n in supplied))), list(supplied)
    dynamic, fixed = [], {}
    for p in params:
        if p.name in supplied or p.name in extra:
            if p.name in hyper:
                raise ValueError(f"hyper[{p.name!r}] clashes with the {p.name} that the training "
                                 f"loop passes to your {role} function `{_name(fn, role)}`")
            dynamic.append(p.name)
        elif p.name in hyper:
            fixed[p.name] = hyper[p.name]
        elif p.default is p.empty:
            raise TypeError(
                f"train() does not know what to pass for argument {p.name!r} of your {role} "
                f"function `{_name(fn, role)}`: name it one of {list(supplied)}, or give its "
                f"value in hyper={{{p.name!r}: ...}}"
            )

    def call(values: Mapping[str, Any]) -> Any:
        return fn(**{n: values[n] for n in dynamic}, **fixed)

    return call, dynamic


# ---------------------------------------------------------------- the update rule
class UpdateRule(NamedTuple):
    """An update rule with explicit optimizer state.

    init(parameters, learning_rate) -> state   a dict {"learning_rate", "t", and the optimizer
                                               state the update asks for, e.g. "v", "s"}
    step(parameters, grads, state) -> (parameters, state)   one update; the new state's "t"
                                               counts the updates from 1
    takes_learning_rate                        whether the update uses state["learning_rate"]
    """

    init: Callable[[dict, float], dict]
    step: Callable[[dict, dict, dict], tuple[dict, dict]]
    takes_learning_rate: bool


def _gradient_descent(parameters: dict, grads: dict, learning_rate: float) -> dict:
    """The core's default step, W := W - learning_rate dW, into new arrays (a caller's dict
    and arrays are left as they were). The one graded answer the core keeps: notebooks 01-04
    train with it before notebook 05 asks the learner for it."""
    return {k: p - learning_rate * grads["d" + k] for k, p in parameters.items()}


def _state_names(update: Callable, hyper: Mapping[str, Any]) -> list[str]:
    """The update's required arguments that are neither supplied by the loop nor in hyper:
    its optimizer state (e.g. ["v", "s"]), in the order of its signature."""
    params = _parameters_of(update, "update") or []
    return [p.name for p in params if p.name not in SUPPLIED["update"] and p.name not in hyper
            and p.default is p.empty]


def _state_initializer(update: Callable, state_init: Callable | None, names: list[str],
                       hyper: Mapping[str, Any]) -> Callable[[dict], dict]:
    """parameters -> {name: value} for the update's optimizer state ``names``."""
    if not names:
        if state_init is not None:
            raise ValueError(f"state_init=`{_name(state_init, 'state_init')}` was given but your "
                             f"update function `{_name(update, 'update')}` takes no optimizer "
                             "state: leave state_init out")
        return lambda parameters: {}
    if state_init is None:
        raise TypeError(
            f"your update function `{_name(update, 'update')}` asks for {names}, which train() "
            f"does not supply: give a hyperparameter's value in hyper={{{names[0]!r}: ...}}, or "
            f"pass state_init= (a function of the parameters that returns {', '.join(names)}) "
            "for optimizer state"
        )
    call, _ = bind(state_init, "state_init", SUPPLIED["state_init"], hyper)

    def initial(parameters: dict) -> dict:
        got = call({"parameters": parameters})
        got = got if isinstance(got, tuple) else (got,)
        if len(got) < len(names):
            raise ValueError(
                f"state_init `{_name(state_init, 'state_init')}` returned {len(got)} item(s) but "
                f"the update asks for {names} as optimizer state; a hyperparameter among them "
                "belongs in hyper={...}")
        return dict(zip(names, got))

    return initial


def bind_update(update: Callable | None = None, *, hyper: Mapping[str, Any] | None = None,
                state_init: Callable | None = None) -> UpdateRule:
    """Bind an update function (default: gradient descent) into an UpdateRule.

    ``update`` is called by the names of its arguments: parameters, grads, learning_rate and
    t (the number of this update, from 1) come from the loop; hyperparameters (beta, beta1,
    epsilon…) from ``hyper``; any other required argument is optimizer state, which
    ``state_init(parameters)`` makes (one value, or a tuple in the order of the update's
    signature, e.g. (v, s)). The update returns the new parameters, or a tuple (parameters,
    new state in the same order, anything else) - e.g. Adam's (parameters, v, s, v_corrected,
    s_corrected).
    """
    hyper = check_hyper(hyper)
    fn = _gradient_descent if update is None else update
    names = _state_names(fn, hyper)
    call, dynamic = bind(fn, "update", SUPPLIED["update"], hyper, extra=names)
    initial = _state_initializer(fn, state_init, names, hyper)

    def init(parameters: dict, learning_rate: float) -> dict:
        return {"learning_rate": float(learning_rate), "t": 0, **initial(parameters)}

    def step(parameters: dict, grads: dict, state: dict) -> tuple[dict, dict]:
        state = {**state, "t": state["t"] + 1}
        out = call({"parameters": parameters, "grads": grads, **state})
        if isinstance(out, tuple):
            out, new = out[0], dict(zip(names, out[1:]))
            state.update(new)
        if out is None:
            raise ValueError(f"your update function `{_name(fn, 'update')}` returned None: did "
                             "you forget to return the parameters?")
        return out, state

    return UpdateRule(init, step, "learning_rate" in dynamic)


# ---------------------------------------------------------------- the other pieces
class Pieces(NamedTuple):
    """The bound pieces of a training run; each is called with a dict of the loop's values."""

    forward: Callable[[Mapping[str, Any]], tuple]
    cost: Callable[[Mapping[str, Any]], float]
    backward: Callable[[Mapping[str, Any]], dict]
    batches: Callable[[Mapping[str, Any]], list]
    decay: Callable[[Mapping[str, Any]], float] | None
    rule: UpdateRule


def _bound(fn: Callable | None, role: str, hyper: dict,
           default: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
    return default if fn is None else bind(fn, role, SUPPLIED[role], hyper)[0]


def bind_pieces(*, forward: Callable | None, cost: Callable | None, backward: Callable | None,
                update: Callable | None, state_init: Callable | None,
                mini_batches: Callable | None, lr_decay: Callable | None, hyper: dict,
                hidden: str, output: str, epochs: bool) -> Pieces:
    """Bind every piece of a run once (the defaults: the course's L-layer net with ``hidden``
    and ``output`` activations, the binary cross-entropy, gradient descent, one full batch)."""
    if forward is not None and backward is None:
        raise ValueError("a custom forward needs its matching backward= as well")
    if output != "sigmoid" and (cost is None or backward is None):
        raise ValueError(f"the default cost and backward pass are the binary cross-entropy of a "
                         f"sigmoid output; with output={output!r}, pass cost= and backward=")
    return Pieces(
        forward=_bound(forward, "forward", hyper,
                       lambda v: model_forward(v["X"], v["parameters"], hidden, output)),
        cost=_bound(cost, "cost", hyper, lambda v: binary_cross_entropy(v["AL"], v["Y"])),
        backward=_bound(backward, "backward", hyper,
                        lambda v: model_backward(v["AL"], v["Y"], v["cache"])),
        batches=_bound(mini_batches if epochs else None, "mini_batches", hyper,
                       lambda v: [(v["X"], v["Y"])]),
        decay=None if lr_decay is None else bind(lr_decay, "lr_decay", SUPPLIED["lr_decay"],
                                                 hyper)[0],
        rule=bind_update(update, hyper=hyper, state_init=state_init),
    )


# ---------------------------------------------------------------- the loop
def one_blas_thread() -> threadpool_limits:
    """A context in which NumPy's BLAS uses one thread: small matrix products run faster that
    way, and several threads per process fight badly on a busy 2-core machine."""
    return threadpool_limits(limits=1, user_api="blas")


def _progress_bar(progress: bool | None, total: int, unit: str):
    """A tqdm bar in a Jupyter front-end for long runs (or when progress=True); else None."""
    if progress is None:
        try:
            shell = get_ipython().__class__.__name__  # type: ignore[name-defined]  # noqa: F821
        except NameError:
            shell = ""
        progress = (os.environ.get("HELPERS_PROGRESS", "") != "0"
                    and shell == "ZMQInteractiveShell" and total >= 500)
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="training", unit=unit, leave=False)


def divergence(cost: float, first_cost: float) -> str:
    """Why ``cost`` counts as diverged (a phrase for History.message), or "" while the run is
    fine: not a number, or above DIVERGENCE_FACTOR times the first cost (at least 0.1)."""
    if not math.isfinite(cost):
        return "is no longer a number"
    if cost > DIVERGENCE_FACTOR * max(first_cost, 0.1):
        return f"rose above {DIVERGENCE_FACTOR:g}x its starting value {first_cost:.3g}"
    return ""


def _checked_batches(batches: Any) -> list:
    """The mini-batches as a list of (X_batch, Y_batch) pairs with matching columns, or an
    error saying what the (learner's) mini_batches function returned instead."""
    batches = list(batches) if isinstance(batches, list | tuple) else batches
    if not isinstance(batches, list) or not batches:
        raise ValueError(f"mini_batches must return a non-empty list of (X_batch, Y_batch) pairs, "
                         f"got {batches if isinstance(batches, list) else type(batches).__name__}")
    for i, pair in enumerate(batches):
        if not (isinstance(pair, tuple | list) and len(pair) == 2
                and np.ndim(pair[0]) == np.ndim(pair[1]) == 2
                and np.shape(pair[0])[1] == np.shape(pair[1])[1]):
            raise ValueError(f"mini-batch {i} is not a pair (X_batch (n_x, b), Y_batch (n_y, b)) "
                             "with the same b columns: return a list of (X_batch, Y_batch)")
    return batches


class _Epoch(NamedTuple):
    parameters: dict
    state: dict
    costs: list[float]       # of the mini-batches that were used for an update
    total: float             # sum of cost x batch size over those mini-batches
    why: str                 # "" or why the cost diverged (training stops)
    cost: float              # the last cost computed (also the diverged one)


def _epoch(parameters: dict, state: dict, batches: list, pieces: Pieces,
           rng: np.random.Generator, first_cost: float | None) -> _Epoch:
    """One pass over ``batches``: forward, cost, backward and one update per mini-batch."""
    costs, total, c = [], 0.0, math.nan
    for Xb, Yb in batches:
        AL, cache = pieces.forward({"X": Xb, "parameters": parameters, "rng": rng})
        c = float(pieces.cost({"AL": AL, "Y": Yb, "parameters": parameters}))
        first_cost = c if first_cost is None else first_cost
        why = divergence(c, first_cost)
        if why:
            return _Epoch(parameters, state, costs, total, why, c)
        total += c * Xb.shape[1]
        costs.append(c)
        grads = pieces.backward({"X": Xb, "Y": Yb, "cache": cache, "AL": AL,
                                 "parameters": parameters})
        parameters, state = pieces.rule.step(parameters, grads, state)
    return _Epoch(parameters, state, costs, total, "", c)


def _loop(X: np.ndarray, Y: np.ndarray, parameters: dict, pieces: Pieces, *,
          rng: np.random.Generator, learning_rate: float, total: int, unit: str,
          mini_batch_size: int, monitor: Callable | None, monitor_every: int,
          progress: bool | None) -> History:
    """Run ``total`` epochs (or iterations) and record them in a History."""
    hist = History(unit=unit)
    state = pieces.rule.init(parameters, learning_rate)
    bar = _progress_bar(progress, total, unit)
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        for step in range(total):
            if pieces.decay is not None:
                lr = pieces.decay({"learning_rate0": learning_rate, "epoch_num": step})
                state = {**state, "learning_rate": float(lr)}
            if pieces.rule.takes_learning_rate:
                hist.learning_rates.append(state["learning_rate"])
            batches = _checked_batches(pieces.batches({"X": X, "Y": Y, "rng": rng,
                                                       "mini_batch_size": mini_batch_size}))
            first = hist.batch_costs[0] if hist.batch_costs else None
            ep = _epoch(parameters, state, batches, pieces, rng, first)
            parameters, state = ep.parameters, ep.state
            hist.batch_costs += ep.costs
            if ep.why:
                hist.status = "diverged"
                hist.message = (f"diverged at {unit} {step}: the cost {ep.why} (cost = "
                                f"{ep.cost:.4g}); the learning rate {state['learning_rate']:g} "
                                "is too large for this net")
                break
            hist.costs.append(ep.total / X.shape[1] if len(batches) > 1 else ep.cost)
            hist.steps.append(step)
            if monitor is not None and (step % monitor_every == 0 or step == total - 1):
                hist.monitor.append((step, dict(monitor(parameters))))
            if bar is not None and step % 50 == 0:
                bar.update(min(50, total - bar.n))
    hist.seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    hist.updates, hist.parameters = state["t"], parameters
    if not hist.diverged:
        hist.message = (f"finished {total} {unit}s ({hist.updates} updates) in "
                        f"{hist.seconds:.2f} s; final cost {hist.final_cost:.4f}")
    return hist


# ---------------------------------------------------------------- train
def initial_parameters(init: Callable, layers_dims: list[int], rng: np.random.Generator,
                       hyper: dict) -> dict:
    """Call the (learner's) ``init`` and check that its parameters fit ``layers_dims``."""
    call, _ = bind(init, "init", SUPPLIED["init"], hyper)
    parameters = call({"layers_dims": list(layers_dims), "rng": rng})
    if parameters is None:
        raise ValueError(f"your init function `{_name(init, 'init')}` returned None: did you "
                         "forget `return parameters`?")
    check_parameters(parameters, n_x=layers_dims[0])
    for l in range(1, len(layers_dims)):
        want = (layers_dims[l], layers_dims[l - 1])
        if np.shape(parameters.get(f"W{l}")) != want:
            raise ValueError(f"init returned W{l} of shape {np.shape(parameters.get(f'W{l}'))} "
                             f"but layers_dims {layers_dims} needs {want}")
    return {k: np.array(v, dtype=float) for k, v in parameters.items()}


def _check_run(X: object, Y: object, layers_dims: Sequence[int], rng: object,
               learning_rate: float, num_iterations: int | None,
               num_epochs: int | None) -> tuple[np.ndarray, np.ndarray, list[int], int]:
    """(X, Y, layers_dims, total) checked, or an error that names the argument."""
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
    return X, Y, layers_dims, total


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
    Without ``update``, the step is plain gradient descent W := W - learning_rate dW; an update
    that keeps optimizer state (v, s) needs ``state_init`` to make it.
    Without ``forward``/``cost``/``backward``, the course's L-layer net with ``hidden``
    activations and a sigmoid ``output`` layer, binary cross-entropy cost.
    Training stops with ``status == "diverged"`` when the cost becomes NaN or infinite, or
    climbs above DIVERGENCE_FACTOR times its first value.
    """
    hyper = check_hyper(hyper)
    X, Y, layers_dims, total = _check_run(X, Y, layers_dims, rng, learning_rate,
                                          num_iterations, num_epochs)
    # The course's small nets run fastest on one BLAS thread (threads cost more than they save
    # on small matrices, and far more on a busy machine); large nets use them all.
    threads = 1 if X.shape[1] * max(layers_dims) < SMALL_WORK else None
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            pieces = bind_pieces(forward=forward, cost=cost, backward=backward, update=update,
                                 state_init=state_init, mini_batches=mini_batches,
                                 lr_decay=lr_decay, hyper=hyper, hidden=hidden, output=output,
                                 epochs=num_epochs is not None)
            parameters = initial_parameters(init, layers_dims, rng, hyper)
            return _loop(X, Y, parameters, pieces, rng=rng, learning_rate=learning_rate,
                         total=total, unit="epoch" if num_epochs is not None else "iteration",
                         mini_batch_size=mini_batch_size, monitor=monitor,
                         monitor_every=monitor_every, progress=progress)
    except NotImplementedError as exc:
        raise exercise_not_done(exc) from None
