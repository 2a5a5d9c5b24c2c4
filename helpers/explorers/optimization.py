"""Explorers and figures for notebook 05 (optimization methods).

Every function here runs the learner's own exercises, which the notebook passes in; nothing
here implements a graded exercise. What this module holds is the machinery around them:

explore_ewa            β of an exponentially weighted average of a noisy series, bias correction
                       on/off (runs the learner's ``exponentially_weighted_average``)
explore_loss_surface   trajectories of GD, momentum, RMSprop and Adam on a 2-D loss surface (an
                       elongated valley, a saddle), each driven by the learner's update rule on a
                       two-parameter dict {"W1": x, "b1": y}
explore_batch_size     mini-batch size 1 ... full batch: cost-curve noise and time per epoch
                       (trains with the learner's ``random_mini_batches`` and update rule)
plot_mini_batches      one epoch's mini-batches, coloured, over the data
plot_optimizers        cost curves and decision boundaries of several training runs
                       (``run_accuracies``: their train and test accuracy)
plot_saddle_points     a saddle and its plateau, and why minima are rare in high dimensions

Each explorer's picture is ``plot_<what>(fig, result, settings, ...)`` beside its
``explore_<what>`` (the figure convention of helpers/plots.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from helpers.explore import (
    Explorer,
    checkbox,
    dropdown,
    explorer,
    fixed_layout,
    linear_slider,
    log_slider,
    slider,
)
from helpers.network import accuracy, predict
from helpers.plots import COLORS, CYCLE, plot_decision_boundary
from helpers.training import (
    ExerciseNotDone,
    History,
    UpdateRule,
    bind_update,
    exercise_not_done,
    train,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

METHOD_COLORS = {
    "GD": COLORS["blue"],
    "momentum": COLORS["orange"],
    "RMSprop": COLORS["green"],
    "Adam": COLORS["vermillion"],
}


# ---------------------------------------------------------------- exponentially weighted average
def noisy_series(T: int = 150, seed: int = 7) -> np.ndarray:
    """A smooth seasonal signal plus noise: (T,) values around 10, starting far from 0."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, T + 1)
    return 10.0 + 5.0 * np.sin(2 * np.pi * t / T) + rng.normal(0.0, 2.0, size=T)


def plot_ewa(fig: Figure, v: np.ndarray, settings: dict, theta: np.ndarray) -> Figure:
    """The β explorer's picture, in ``fig``: the noisy values θ and the learner's weighted
    average v of them. Returns ``fig``."""
    beta, corr = settings["beta"], settings["bias_correction"]
    t = np.arange(1, theta.size + 1)
    fixed_layout(fig, left=0.08, top=0.9)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(t, theta, ".", color="0.55", ms=4, label="θₜ (noisy values)")
    ax.plot(t[: v.size], v[: t.size], color=COLORS["blue"], lw=2.2,
            label="vₜ, bias-corrected" if corr else "vₜ (no bias correction)")
    ax.set_xlim(t[0] - 0.05 * t.size, t[-1] + 0.05 * t.size)
    # an average of θ's (and of the 0 it starts from) stays within this range
    ax.set_ylim(min(0.0, float(theta.min())) - 0.5, float(theta.max()) + 1.0)
    ax.set(xlabel="t", ylabel="value",
           title=f"β = {beta:.2f}: an average over roughly the last 1/(1−β) ≈ "
                 f"{1.0 / (1.0 - beta):.0f} values")
    ax.legend(loc="lower right", frameon=True, framealpha=0.85)
    return fig


def explore_ewa(exponentially_weighted_average: Callable, *, values: np.ndarray | None = None,
                show: bool = True) -> Explorer:
    """Slide β of the learner's exponentially weighted average over a noisy series and switch
    the bias correction on and off."""
    theta = noisy_series() if values is None else np.asarray(values, dtype=float)

    def compute(settings: dict) -> np.ndarray:
        out = exponentially_weighted_average(theta.copy(), settings["beta"],
                                             bias_correction=settings["bias_correction"])
        return np.asarray(out, dtype=float).reshape(-1)

    controls = {"beta": linear_slider("β (weight of the past)", 0.5, 0.98, 0.02, 0.9),
                "bias_correction": checkbox("bias correction v_t / (1−β^t)", True)}
    return explorer(controls, compute, partial(plot_ewa, theta=theta), figsize=(8, 3.4),
                    title="β explorer", checked=[exponentially_weighted_average], display=show)


# ---------------------------------------------------------------- 2-D loss surfaces
@dataclass
class Surface:
    """A loss J(x, y) of two parameters, with its gradient, a view and a starting point."""

    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[float, float], tuple[float, float]]
    extent: tuple[float, float, float, float]
    start: tuple[float, float]
    f_min: float
    image: np.ndarray = field(default=None, repr=False)


def _valley() -> Surface:
    # J = (x^2 / 20 + 4 y^2) / 2: curvature 0.05 along x, 4 across: an elongated valley.
    return Surface(
        "elongated valley",
        f=lambda x, y: 0.5 * (0.05 * x**2 + 4.0 * y**2),
        grad=lambda x, y: (0.05 * x, 4.0 * y),
        extent=(-5.0, 5.0, -2.0, 2.0), start=(-4.5, 1.5), f_min=0.0)


def _saddle() -> Surface:
    # J = x^2 / 2 + c (y^4 / 4 - y^2 / 2): a saddle at (0, 0), minima at (0, ±1).
    c = 0.5
    return Surface(
        "saddle",
        f=lambda x, y: 0.5 * x**2 + c * (0.25 * y**4 - 0.5 * y**2),
        grad=lambda x, y: (x, c * (y**3 - y)),
        extent=(-5.0, 5.0, -2.0, 2.0), start=(-4.5, 0.003), f_min=-c / 4)


SURFACES = {s.name: s for s in (_valley(), _saddle())}


def _surface_image(s: Surface, nx: int = 200, ny: int = 80) -> np.ndarray:
    if s.image is None:
        x0, x1, y0, y1 = s.extent
        xx, yy = np.meshgrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny))
        s.image = np.log10(s.f(xx, yy) - s.f_min + 0.05)
    return s.image


def _as_params(x: float, y: float) -> dict:
    return {"W1": np.array([[x]], dtype=float), "b1": np.array([[y]], dtype=float)}


@dataclass
class Trajectory:
    points: np.ndarray            # (k, 2) positions, starting point first
    losses: np.ndarray            # (k,)
    diverged: bool = False
    not_done: ExerciseNotDone | None = None


def run_optimizer(surface: Surface, rule: UpdateRule, learning_rate: float, num_steps: int,
                  bound: float = 1e3) -> Trajectory:
    """Follow the update rule (``helpers.training.bind_update``) from the surface's start for
    num_steps updates. A run that leaves |x|, |y| < bound or becomes NaN stops and is marked
    diverged."""
    x, y = surface.start
    params = _as_params(x, y)
    state = rule.init(params, learning_rate)
    pts = [(x, y)]
    diverged = False
    with np.errstate(all="ignore"):
        for _ in range(num_steps):
            gx, gy = surface.grad(x, y)
            grads = {"dW1": np.array([[gx]]), "db1": np.array([[gy]])}
            params, state = rule.step(params, grads, state)
            x, y = float(np.asarray(params["W1"]).ravel()[0]), float(np.asarray(params["b1"]).ravel()[0])
            if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > bound:
                diverged = True
                break
            pts.append((x, y))
    pts = np.array(pts)
    return Trajectory(pts, surface.f(pts[:, 0], pts[:, 1]), diverged)


class Method(NamedTuple):
    """One optimizer of the race: the learner's update rule, its state initializer (None for
    gradient descent) and the hyperparameters it is called with, for ``bind_update``."""

    update: Callable
    state_init: Callable | None
    hyper: dict


def optimizer_methods(*, update_parameters_with_gd=None, initialize_velocity=None,
                      update_parameters_with_momentum=None, initialize_rmsprop=None,
                      update_parameters_with_rmsprop=None, initialize_adam=None,
                      update_parameters_with_adam=None, beta1: float, beta2: float,
                      epsilon: float = 1e-8) -> dict[str, Method]:
    """{method: Method} for each of the learner's update rules given: β₁ is momentum's β and
    Adam's β₁, β₂ RMSprop's and Adam's β₂."""
    given = {
        "GD": (update_parameters_with_gd, None, {}),
        "momentum": (update_parameters_with_momentum, initialize_velocity, {"beta": beta1}),
        "RMSprop": (update_parameters_with_rmsprop, initialize_rmsprop,
                    {"beta2": beta2, "epsilon": epsilon}),
        "Adam": (update_parameters_with_adam, initialize_adam,
                 {"beta1": beta1, "beta2": beta2, "epsilon": epsilon}),
    }
    return {name: Method(*m) for name, m in given.items() if m[0] is not None}


def trajectories(surface: Surface, methods: dict[str, Method], learning_rate: float,
                 num_steps: int) -> dict:
    """{method: Trajectory}, each run by the same binding as ``train`` (``bind_update``); an
    unfinished exercise gives a Trajectory with ``not_done`` set. If every method is
    unfinished, the first one's ExerciseNotDone is raised."""
    out = {}
    for name, m in methods.items():
        try:
            rule = bind_update(m.update, hyper=m.hyper, state_init=m.state_init)
            out[name] = run_optimizer(surface, rule, learning_rate, num_steps)
        except NotImplementedError as exc:
            out[name] = Trajectory(np.empty((0, 2)), np.empty(0), not_done=exercise_not_done(exc))
    if out and all(tr.not_done is not None for tr in out.values()):
        raise next(iter(out.values())).not_done
    return out


def plot_trajectories(fig: Figure | SubFigure, surface: Surface, trajs: dict,
                      title: str = "") -> Figure | SubFigure:
    """Two panels in ``fig`` (a Figure or a SubFigure): left, the trajectories over the loss
    surface; right, J - min J per step (log scale). Returns ``fig``."""
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1.5, 1])
    x0, x1, y0, y1 = surface.extent
    ax.imshow(_surface_image(surface), origin="lower", extent=surface.extent, cmap="Greys_r",
              aspect="auto", interpolation="nearest", alpha=0.55, zorder=0)
    missing = []
    for name, tr in trajs.items():
        color = METHOD_COLORS.get(name, CYCLE[0])
        if tr.not_done is not None:
            missing.append(f"{name}: finish `{tr.not_done.exercise}`")
            continue
        label = name + (" (diverged)" if tr.diverged else "")
        ax.plot(tr.points[:, 0], tr.points[:, 1], "-", color=color, lw=1.6, label=label)
        if tr.diverged:
            ax.plot(*tr.points[-1], "x", color=color, ms=10, mew=2.5)
        ax2.plot(np.arange(tr.losses.size), np.log10(np.maximum(tr.losses - surface.f_min, 1e-8)),
                 color=color, lw=1.6, label=label)
    ax.plot(*surface.start, "o", color="black", ms=6, label="start", zorder=5)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="parameter x (W1)",
           ylabel="parameter y (b1)", title=title or f"Loss surface: {surface.name}")
    ax.grid(False)
    ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.85)
    ax2.set(xlabel="update t", ylabel="log₁₀(J − min J)", title="Loss along the way",
            ylim=(-8.5, 1.5))
    if missing:
        ax2.text(0.02, 0.02, "Not yet:\n" + "\n".join(missing), transform=ax2.transAxes,
                 fontsize=8, va="bottom", color=COLORS["vermillion"])
    return fig


ALPHAS = (-3.0, 0.0, 0.5)  # the α slider: 10**-3 ... 10**0, half a decade apart
BETA1S = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
BETA2S = (0.9, 0.99, 0.999)


def plot_loss_surface(fig: Figure, trajs: dict, settings: dict, num_steps: int) -> Figure:
    """The loss-surface explorer's picture: ``plot_trajectories`` with this setting's α, β₁
    and β₂ in the title. Returns ``fig``."""
    s = SURFACES[settings["surface"]]
    fixed_layout(fig, top=0.9, wspace=0.22)
    plot_trajectories(fig, s, trajs, title=f"{s.name}: α = {settings['learning_rate']:.3g}, "
                      f"β₁ = {settings['beta1']:.2f}, β₂ = {settings['beta2']:.3f}")
    fig.axes[1].set_xlim(-0.05 * num_steps, 1.05 * num_steps)
    return fig


def explore_loss_surface(*, update_parameters_with_gd, initialize_velocity,
                         update_parameters_with_momentum, initialize_rmsprop,
                         update_parameters_with_rmsprop, initialize_adam,
                         update_parameters_with_adam, num_steps: int = 200,
                         show: bool = True) -> Explorer:
    """GD, momentum, RMSprop and Adam (the learner's update rules) from the same start on a 2-D
    loss surface, with sliders for α, β₁ (momentum's β and Adam's β₁) and β₂ (RMSprop's β and
    Adam's β₂). Each setting runs all four optimizers (a few milliseconds)."""
    fns = dict(update_parameters_with_gd=update_parameters_with_gd,
               initialize_velocity=initialize_velocity,
               update_parameters_with_momentum=update_parameters_with_momentum,
               initialize_rmsprop=initialize_rmsprop,
               update_parameters_with_rmsprop=update_parameters_with_rmsprop,
               initialize_adam=initialize_adam, update_parameters_with_adam=update_parameters_with_adam)

    def compute(settings: dict) -> dict:
        methods = optimizer_methods(**fns, beta1=settings["beta1"], beta2=settings["beta2"])
        return trajectories(SURFACES[settings["surface"]], methods, settings["learning_rate"],
                            num_steps)

    controls = {
        "surface": dropdown("surface", list(SURFACES), "elongated valley"),
        "learning_rate": log_slider("α (learning rate)", *ALPHAS, 0.1),
        "beta1": slider("β₁ (momentum, Adam)", BETA1S, 0.9, "{:.2f}"),
        "beta2": slider("β₂ (RMSprop, Adam)", BETA2S, 0.99, "{:g}"),
    }
    return explorer(controls, compute, partial(plot_loss_surface, num_steps=num_steps),
                    figsize=(10, 3.8), title="loss surface explorer",
                    checked=list(fns.values()), display=show)


# ---------------------------------------------------------------- mini-batch size
def _ms_per_epoch(h: History) -> float:
    return 1000 * h.seconds / max(len(h.costs), 1)


def plot_batch_size(fig: Figure, result: dict, settings: dict, m: int,
                    num_epochs: int) -> Figure:
    """The mini-batch size explorer's picture, in ``fig``: left, the cost of every update and
    of every epoch; right, the time per epoch of each size trained so far. Returns ``fig``."""
    size, hist, sweep = settings["mini_batch_size"], result["run"], result["sweep"]
    fixed_layout(fig, top=0.9, wspace=0.22)
    ax, ax2 = fig.subplots(1, 2, width_ratios=[1.5, 1])
    per_epoch = math.ceil(m / size)
    bc = np.asarray(hist.batch_costs)
    ax.plot((np.arange(bc.size) + 1) / per_epoch, bc, color=COLORS["sky"], lw=0.7, alpha=0.8,
            label="cost of each mini-batch update")
    ax.plot(np.asarray(hist.steps) + 1, hist.costs, "-", color=COLORS["blue"], lw=2.2,
            label="cost on the whole training set (epoch mean)")
    what = "full batch" if size >= m else f"mini-batch size {size}"
    status = f" — DIVERGED: {hist.message}" if hist.diverged else ""
    ax.set(xlabel="epoch", ylabel="cost J", ylim=(0, 1.2),
           xlim=(-0.05 * num_epochs, 1.05 * num_epochs),
           title=f"{what}: {per_epoch} update(s) per epoch{status}")
    ax.legend(loc="upper right", fontsize=8)
    done = sorted(k[0] for k in sweep)
    ax2.plot(done, [_ms_per_epoch(sweep[(s,)]) for s in done], "o-", color=COLORS["black"],
             ms=4, label="time per epoch")
    ax2.plot([size], [_ms_per_epoch(hist)], "o", color=COLORS["vermillion"], ms=11,
             label=f"size {size}")
    ax2.set(xscale="log", yscale="log", xlabel="mini-batch size", ylabel="ms per epoch",
            title="Time for one pass over the data")
    ax2.legend(loc="upper right", fontsize=8)
    return fig


def explore_batch_size(X: np.ndarray, Y: np.ndarray, layers_dims: Sequence[int], *,
                       init: Callable, mini_batches: Callable, update: Callable | None = None,
                       learning_rate: float = 0.05, num_epochs: int = 30,
                       sizes: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128), seed: int = 1,
                       show: bool = True) -> Explorer:
    """Train the same net with the learner's ``mini_batches`` for each mini-batch size (and the
    full batch); the slider shows the cost of every update and the time per epoch."""
    m = X.shape[1]
    sizes = sorted({int(s) for s in sizes if s < m} | {m})

    def run(settings: dict) -> History:
        return train(X, Y, layers_dims, init=init, rng=np.random.default_rng(seed),
                     update=update, learning_rate=learning_rate, num_epochs=num_epochs,
                     mini_batches=mini_batches, mini_batch_size=settings["mini_batch_size"],
                     progress=False)

    options = [(f"{s} (full batch)" if s == m else str(s), s) for s in sizes]
    controls = {"mini_batch_size": slider("mini-batch size", options,
                                          64 if 64 in sizes else sizes[-1])}
    return explorer(controls, {"run": (run, ["mini_batch_size"])},
                    partial(plot_batch_size, m=m, num_epochs=num_epochs), figsize=(10, 3.6),
                    sweep="run", title="mini-batch size explorer",
                    checked=[f for f in (mini_batches, update) if f is not None], display=show)


# ---------------------------------------------------------------- figures
def plot_mini_batches(batches, *, ax: Axes | None = None,
                      title: str = "One epoch's mini-batches") -> Axes:
    """Scatter the examples of each mini-batch (X_batch (2, size), Y_batch) in its own colour;
    circles for class 0, triangles for class 1."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    for k, (Xb, Yb) in enumerate(batches):
        y = np.asarray(Yb).reshape(-1)
        c = CYCLE[k % len(CYCLE)]
        for cls, marker in ((0, "o"), (1, "^")):
            sel = y == cls
            ax.scatter(Xb[0, sel], Xb[1, sel], s=16, color=c, marker=marker, alpha=0.85,
                       label=f"batch {k + 1} ({Xb.shape[1]} examples)" if cls == 0 else None)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title)
    ax.legend(loc="upper right", fontsize=7, frameon=True, framealpha=0.85)
    return ax


def run_accuracies(runs: dict, X, Y, X_test, Y_test) -> dict[str, tuple[float, float]]:
    """{label: (train accuracy, test accuracy)} of each run ({label: History})."""
    return {label: (accuracy(predict(X, h.parameters), Y),
                    accuracy(predict(X_test, h.parameters), Y_test))
            for label, h in runs.items()}


def plot_optimizers(runs: dict, X, Y, X_test, Y_test, *, title: str = "",
                    show_learning_rate: bool = False) -> Figure:
    """One row: cost curves of the runs ({label: History}), optionally their learning rates,
    then each run's decision boundary with train and test accuracy (``run_accuracies``).
    Returns the figure."""
    import matplotlib.pyplot as plt

    from helpers.plots import plot_costs

    n = len(runs) + 1 + int(show_learning_rate)
    fig, axes = plt.subplots(1, n, figsize=(3.3 * n, 3.4), layout="constrained")
    plot_costs(runs, ax=axes[0], log=True, title="Cost during training")
    if show_learning_rate:
        for label, h in runs.items():
            axes[1].plot(np.arange(len(h.learning_rates)), h.learning_rates, label=label)
        axes[1].set(yscale="log", xlabel="epoch", ylabel="α", title="Learning rate")
        axes[1].legend(fontsize=8)
    accs = run_accuracies(runs, X, Y, X_test, Y_test)
    for ax, (label, h) in zip(axes[n - len(runs):], runs.items()):
        p = h.parameters
        tr, te = accs[label]
        plot_decision_boundary(lambda P, p=p: predict(P, p), X, Y, ax=ax, title=label,
                               train_acc=tr, test_acc=te, resolution=120, legend=False)
    axes[-1].legend(*axes[-1].get_legend_handles_labels(), loc="upper right", fontsize=7,
                    frameon=True, framealpha=0.8)
    if title:
        fig.suptitle(title)
    return fig


def minima_share(dims: Sequence[int] = (1, 2, 3, 4, 5, 6, 7), samples: int = 20000,
                 seed: int = 0) -> np.ndarray:
    """Fraction of random symmetric n x n matrices (Gaussian entries) whose eigenvalues are all
    positive: how often a 'random' critical point would be a local minimum in n dimensions."""
    rng = np.random.default_rng(seed)
    out = []
    for n in dims:
        A = rng.normal(size=(samples, n, n))
        H = (A + np.swapaxes(A, 1, 2)) / 2
        out.append(float((np.linalg.eigvalsh(H)[:, 0] > 0).mean()))
    return np.array(out)


def plot_saddle_points(*, update_parameters_with_gd, initialize_adam, update_parameters_with_adam,
                       learning_rate: float = 0.1, num_steps: int = 200) -> Figure:
    """Three panels: GD and Adam (the learner's) passing a saddle; the plateau in their loss;
    the share of critical points that are minima as the dimension grows."""
    import matplotlib.pyplot as plt

    s = SURFACES["saddle"]
    methods = optimizer_methods(update_parameters_with_gd=update_parameters_with_gd,
                                initialize_adam=initialize_adam,
                                update_parameters_with_adam=update_parameters_with_adam,
                                beta1=0.9, beta2=0.999)
    trajs = trajectories(s, methods, learning_rate, num_steps)
    fig = plt.figure(figsize=(12, 3.6), layout="constrained")
    sub = fig.subfigures(1, 2, width_ratios=[2.5, 1])
    plot_trajectories(sub[0], s, trajs, title=f"A saddle at (0, 0), α = {learning_rate:g}")
    ax = sub[1].subplots()
    dims = np.arange(1, 8)
    share = minima_share(dims)
    ok = share > 0
    ax.bar(dims[ok], share[ok], color=COLORS["blue"],
           label="all curvatures > 0 (a minimum),\nof 20,000 random Hessians")
    for n in dims[~ok]:
        ax.text(n, 2e-5, "none", ha="center", fontsize=7, rotation=90)
    ax.plot(dims, 0.5 ** dims, "o--", color=COLORS["orange"], ms=4,
            label="$2^{-n}$ (coin flip per direction)")
    ax.set(yscale="log", ylim=(1e-5, 1.5), xlabel="number of parameters $n$",
           ylabel="share of critical points", title="Minima get rare as $n$ grows")
    ax.legend(fontsize=7, loc="upper right")
    return fig


__all__ = [
    "SURFACES", "explore_batch_size", "explore_ewa", "explore_loss_surface", "minima_share",
    "noisy_series", "optimizer_methods", "plot_batch_size", "plot_ewa", "plot_loss_surface",
    "plot_mini_batches", "plot_optimizers", "plot_saddle_points", "plot_trajectories",
    "run_accuracies", "run_optimizer", "trajectories",
]
