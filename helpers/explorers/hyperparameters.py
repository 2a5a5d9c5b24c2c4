"""Figures and slider explorers for notebook 07: hyperparameter search and normalizing inputs.

Everything here runs the learner's own functions, passed in by the notebook (``random_search``,
``normalize_inputs``); nothing here samples hyperparameters or normalizes data for them.

* ``regression_data`` / ``descent`` / ``plot_cost_surfaces``: a linear regression on two
  features of very different scales, whose cost J(w1, w2) is a 2-D bowl we can draw, and
  gradient descent's path across it.
* ``explore_normalization``: the learning rate α for raw vs normalized inputs, side by side.
* ``toy_score`` / ``grid_trials`` / ``plot_grid_vs_random`` / ``explore_search_trials``: a
  two-hyperparameter problem where only the learning rate matters, searched on a grid and at
  random.
* ``plot_search``: the trials of a coarse and a fine random search on a 2-D scatter.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING

import numpy as np

from helpers.explore import Explorer, explorer, log_slider, slider
from helpers.plots import COLORS
from helpers.training import DIVERGENCE_FACTOR

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# ---------------------------------------------------------------- cost surfaces (normalizing)

#: gradient descent counts as converged once J - J* is below this fraction of J(w0) - J*
CONVERGED = 1e-3
#: ... and as diverged once J climbs above this many times J(w0) (as helpers.training does)
DIVERGED = DIVERGENCE_FACTOR


def regression_data(m: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two features on very different scales and a noisy linear target.

    x1 ~ N(4, 1.5²) and x2 ~ N(1, 0.2²); y = 1.0 x1 + 5.0 x2 - 3 + noise.
    Returns X (2, m), y (1, m)."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(4.0, 1.5, m), rng.normal(1.0, 0.2, m)])
    y = 1.0 * X[:1] + 5.0 * X[1:] - 3.0 + rng.normal(0.0, 0.5, (1, m))
    return X, y


def bowl(X: np.ndarray, y: np.ndarray) -> dict:
    """The cost J(w) = 1/(2m) sum (w·x + b* - y)² of a linear model on X (2, m), y (1, m),
    with the bias fixed at its best value b* so that J depends on w = (w1, w2) alone.

    Returns {"H" (2, 2), "g" (2,), "c", "w_star" (2,), "b_star", "J_star"} with
    J(w) = ½ wᵀHw - gᵀw + c."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    m = X.shape[1]
    A = np.vstack([X, np.ones(m)]).T
    sol, *_ = np.linalg.lstsq(A, y, rcond=None)
    w_star, b_star = sol[:2], float(sol[2])
    r = y - b_star
    H = X @ X.T / m
    g = X @ r / m
    c = float(r @ r / (2 * m))
    J_star = float(0.5 * w_star @ H @ w_star - g @ w_star + c)
    return {"H": H, "g": g, "c": c, "w_star": w_star, "b_star": b_star, "J_star": J_star}


def bowl_cost(problem: dict, W: np.ndarray) -> np.ndarray:
    """J at the points W (..., 2) of the bowl ``problem``."""
    W = np.asarray(W, dtype=float)
    H, g = problem["H"], problem["g"]
    return 0.5 * np.einsum("...i,ij,...j->...", W, H, W) - W @ g + problem["c"]


def descent(problem: dict, learning_rate: float, max_steps: int = 1000,
            w0: tuple[float, float] = (0.0, 0.0)) -> dict:
    """Gradient descent w := w - α ∂J/∂w on the bowl, from w0.

    Returns {"path" (k+1, 2), "costs" (k+1,), "status": "converged"/"diverged"/"running",
    "steps": k, "message"}; it stops when converged (J - J* below CONVERGED of the way from
    J(w0)) or diverged (J above DIVERGED × J(w0), or not finite)."""
    H, g, J_star = problem["H"], problem["g"], problem["J_star"]
    w = np.asarray(w0, dtype=float).copy()
    J0 = float(bowl_cost(problem, w))
    path, costs = [w.copy()], [J0]
    status = "running"
    with np.errstate(all="ignore"):
        for _ in range(max_steps):
            w = w - learning_rate * (H @ w - g)
            J = float(bowl_cost(problem, w))
            path.append(w.copy())
            costs.append(J)
            if not np.isfinite(J) or J > DIVERGED * max(J0, 1e-12):
                status = "diverged"
                break
            if J - J_star <= CONVERGED * (J0 - J_star):
                status = "converged"
                break
    k = len(costs) - 1
    message = {"converged": f"converged in {k} steps",
               "diverged": f"diverged at step {k}",
               "running": f"not converged after {k} steps"}[status]
    return {"path": np.array(path), "costs": np.array(costs), "status": status, "steps": k,
            "message": message}


def _two_axes(fig, top: float = 0.86, sharey: bool = False):
    """Two axes side by side at fixed places (the same for every setting, so that the pictures
    of neighbouring settings line up when the slider switches them)."""
    fig.set_layout_engine("none")
    width, gap, left, bottom = 0.41, 0.09, 0.07, 0.12
    a1 = fig.add_axes((left, bottom, width, top - bottom))
    a2 = fig.add_axes((left + width + gap, bottom, width, top - bottom),
                      sharey=a1 if sharey else None)
    return a1, a2


def _frame(problem: dict, w0=(0.0, 0.0), margin: float = 0.45):
    """A square window (x0, x1, y0, y1) holding w0 and w*, with a margin."""
    w0 = np.asarray(w0, dtype=float)
    ws = problem["w_star"]
    mid = (w0 + ws) / 2
    half = (0.5 + margin) * float(np.max(np.abs(ws - w0)))
    return (mid[0] - half, mid[0] + half, mid[1] - half, mid[1] + half)


def _surface(problem: dict, frame, n: int = 70):
    xs = np.linspace(frame[0], frame[1], n)
    ys = np.linspace(frame[2], frame[3], n)
    W = np.stack(np.meshgrid(xs, ys), axis=-1)
    return xs, ys, bowl_cost(problem, W)


def draw_bowl(ax, problem: dict, run: dict, *, title: str, labels=("w₁", "w₂"),
              frame=None, surface=None, legend: bool = True) -> list:
    """Contours of J (log-spaced above J*) with gradient descent's path on top; sets the
    window, labels and title, and returns what it added (the contour set, then the lines)."""
    frame = frame or _frame(problem)
    xs, ys, J = surface or _surface(problem, frame)
    J0 = float(run["costs"][0])
    gap = J0 - problem["J_star"]
    levels = problem["J_star"] + gap * np.geomspace(1e-3, 4.0, 9)
    added = [ax.contour(xs, ys, J, levels=levels, colors=COLORS["sky"], linewidths=0.9)]
    p = run["path"]
    inside = np.all(np.isfinite(p), axis=1)
    p = p[inside]
    color = COLORS["vermillion"] if run["status"] == "diverged" else COLORS["blue"]
    added += ax.plot(p[:, 0], p[:, 1], ".-", color=color, ms=3, lw=1, label="gradient descent")
    added += ax.plot(*p[0], "o", color=COLORS["black"], ms=6, label="start")
    added += ax.plot(*problem["w_star"], "*", color=COLORS["orange"], ms=14, mec="black",
                     label="minimum")
    if run["status"] == "diverged":
        added += ax.plot(*p[-1], "x", color=color, ms=10, mew=2)
    ax.set(xlim=frame[:2], ylim=frame[2:], xlabel=labels[0], ylabel=labels[1], title=title)
    ax.set_aspect("equal")
    ax.grid(False)
    if legend:
        ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.85)
    return added


def _normalized_problem(normalize_inputs: Callable, X, y):
    out = normalize_inputs(X)
    if not (isinstance(out, (tuple, list)) and len(out) == 3):
        raise ValueError("normalize_inputs(X) must return (normalized arrays, mu, sigma)")
    return bowl(out[0][0], y)


def plot_cost_surfaces(normalize_inputs: Callable, X, y, learning_rates=(0.1, 0.1),
                       max_steps: int = 1000) -> Figure:
    """Two contour plots side by side: raw inputs vs inputs normalized by the learner's
    ``normalize_inputs``, each with the gradient-descent path at its learning rate (``descent``)
    and, in its title, how many steps it took."""
    import matplotlib.pyplot as plt

    problems = [bowl(X, y), _normalized_problem(normalize_inputs, X, y)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8), layout="constrained")
    names = ["raw inputs", "normalized inputs"]
    labels = [("w₁", "w₂"), ("w̃₁ (normalized)", "w̃₂ (normalized)")]
    for ax, prob, lr, name, lab in zip(axes, problems, learning_rates, names, labels):
        run = descent(prob, lr, max_steps)
        draw_bowl(ax, prob, run, title=f"{name}, α = {lr:g}\n{run['message']}", labels=lab)
    fig.suptitle("Cost J(w) with the bias at its best value, and gradient descent's path")
    return fig


def plot_normalization(fig: Figure, result: dict, settings: dict) -> Figure:
    """The normalization explorer's picture of one α, in ``fig``: gradient descent's path on
    the raw and on the normalized bowl, side by side. Returns ``fig``."""
    lr = settings["learning_rate"]
    a1, a2 = _two_axes(fig, top=0.86)
    for ax, name, problem, labels in (
            (a1, "raw inputs", result["raw"], ("w₁", "w₂")),
            (a2, "normalized inputs", result["norm"], ("w̃₁ (normalized)", "w̃₂ (normalized)"))):
        run = result["runs"][name]
        draw_bowl(ax, problem["problem"], run, title=f"{name}, α = {lr:.3g}\n{run['message']}",
                  labels=labels, frame=problem["frame"], surface=problem["surface"],
                  legend=ax is a1)
    return fig


def _bowl_view(problem: dict) -> dict:
    """A bowl with its window and its cost on a grid (drawn under every α)."""
    frame = _frame(problem)
    return {"problem": problem, "frame": frame, "surface": _surface(problem, frame)}


def explore_normalization(normalize_inputs: Callable, X, y, *, max_steps: int = 1000,
                          show: bool = True) -> Explorer:
    """Slider over α: gradient descent on the raw vs the normalized bowl, side by side,
    with the number of steps to converge (or where it diverged) in each title."""
    raw = bowl(X, y)
    # the learner's normalization does not depend on α: run it once (lazily, so that an
    # unfinished exercise still gives the explorer's "Not yet" message)
    normalized = cache(lambda: _normalized_problem(normalize_inputs, X, y))

    def runs(settings: dict) -> dict:
        lr = settings["learning_rate"]
        return {"raw inputs": descent(raw, lr, max_steps),
                "normalized inputs": descent(normalized(), lr, max_steps)}

    parts = {"raw": (lambda _: _bowl_view(raw), []),
             "norm": (lambda _: _bowl_view(normalized()), []),
             "runs": (runs, ["learning_rate"])}
    controls = {"learning_rate": log_slider("learning rate α", -3, 0.5, 0.25, 0.1)}
    return explorer(controls, parts, plot_normalization, figsize=(9, 4.4),
                    title="normalization explorer", checked=[normalize_inputs], display=show)


# ---------------------------------------------------------------- grid vs random search

def toy_score(learning_rate, epsilon) -> float:
    """A made-up 'dev accuracy' that depends on the learning rate only (best near α = 0.02);
    epsilon is a hyperparameter that does not matter at all."""
    d = np.log10(learning_rate) - np.log10(0.02)
    return float(0.5 + 0.45 * np.exp(-(d / 0.35) ** 2))


TOY_SPACE = {"learning_rate": ("log", 1e-4, 1.0), "epsilon": ("log", 1e-10, 1e-6)}


def grid_trials(score_fn: Callable, space: dict, k: int) -> list[dict]:
    """Grid search: k values per hyperparameter, evenly spaced on a log scale (``"log"``
    hyperparameters only), every combination tried; trials best first."""
    import itertools

    axes = {}
    for name, spec in space.items():
        if spec[0] != "log":
            raise ValueError(f"grid_trials handles 'log' hyperparameters only, not {spec!r}")
        axes[name] = np.logspace(np.log10(spec[1]), np.log10(spec[2]), k)
    names = list(axes)
    trials = []
    for combo in itertools.product(*(axes[n] for n in names)):
        hyper = {n: float(v) for n, v in zip(names, combo)}
        trials.append({"hyper": hyper, "score": float(score_fn(**hyper))})
    return sorted(trials, key=lambda t: -t["score"])


def _toy_image(space, score_fn, x="learning_rate", y="epsilon", n=100, pad=0.3):
    """The score over the (log10 x, log10 y) plane, a little beyond the space: (S, extent)."""
    (_, x0, x1), (_, y0, y1) = space[x], space[y]
    x0, x1, y0, y1 = np.log10(x0) - pad, np.log10(x1) + pad, np.log10(y0) - pad, np.log10(y1) + pad
    lx, ly = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    S = np.array([[score_fn(**{x: 10 ** a, y: 10 ** b}) for a in lx] for b in ly])
    return S, (x0, x1, y0, y1)


def _plot_trials(ax: Axes, trials, space, score_fn, title, x="learning_rate", y="epsilon",
                 background=None) -> Axes:
    """One finished panel: the trials (best first) over the score landscape ``background``
    (S, extent), with a rug of the distinct α tried. Returns ``ax``."""
    S, extent = background if background is not None else _toy_image(space, score_fn, x, y)
    ax.imshow(S, origin="lower", aspect="auto", extent=extent, cmap="cividis", vmin=0.5,
              vmax=0.95, interpolation="nearest")
    lx = np.log10([t["hyper"][x] for t in trials])
    ly = np.log10([t["hyper"][y] for t in trials])
    ax.plot(lx, ly, "o", color="white", mec=COLORS["black"], ms=6, label="trials")
    ax.plot(lx[0], ly[0], "*", color=COLORS["orange"], mec="black", ms=15,
            label=f"best: {trials[0]['score']:.3f}")
    rug = extent[2] + 0.12
    ax.plot(lx, np.full_like(lx, rug), "|", color=COLORS["vermillion"], ms=12, mew=2,
            label=f"{len(np.unique(np.round(lx, 9)))} distinct α tried")
    ax.set(title=title, xlabel="log₁₀ of the learning rate α", ylabel="log₁₀ of ε",
           xlim=extent[:2], ylim=extent[2:])
    ax.grid(False)
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.85)
    return ax


def plot_grid_vs_random(grid: list[dict], random: list[dict], space: dict = TOY_SPACE,
                        score_fn: Callable = toy_score) -> Figure:
    """The same budget spent on a grid and at random, over the score landscape (only the
    horizontal direction matters)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained", sharey=True)
    background = _toy_image(space, score_fn)
    _plot_trials(axes[0], grid, space, score_fn, f"grid search: {len(grid)} trials",
                 background=background)
    _plot_trials(axes[1], random, space, score_fn, f"random search: {len(random)} trials",
                 background=background)
    fig.colorbar(axes[1].images[0], ax=axes, label="dev score (depends on α only)", shrink=0.9)
    return fig


def plot_search_trials(fig: Figure, result: dict, settings: dict, space: dict,
                       score_fn: Callable) -> Figure:
    """The search-trials explorer's picture, in ``fig``: a grid and the learner's random search
    with the same budget, over the score landscape. Returns ``fig``."""
    a1, a2 = _two_axes(fig, top=0.91, sharey=True)
    g, r = result["trials"]["grid"], result["trials"]["random"]
    background = result["background"]
    _plot_trials(a1, g, space, score_fn, f"grid: {len(g)} trials", background=background)
    _plot_trials(a2, r, space, score_fn, f"your random search: {len(r)} trials",
                 background=background)
    return fig


def explore_search_trials(random_search: Callable, score_fn: Callable = toy_score,
                          space: dict = TOY_SPACE, *, seed: int = 7, show: bool = True
                          ) -> Explorer:
    """Slider over the number of trials: the learner's random search vs a grid with (about)
    the same budget, on the toy problem where only α matters."""

    def trials(settings: dict) -> dict:
        n = settings["n_trials"]
        rnd = random_search(score_fn, space, n, np.random.default_rng(seed))
        k = max(int(np.floor(np.sqrt(n))), 1)
        return {"random": list(rnd), "grid": grid_trials(score_fn, space, k)}

    parts = {"background": (lambda _: _toy_image(space, score_fn), []),
             "trials": (trials, ["n_trials"])}
    controls = {"n_trials": slider("number of trials n", list(range(4, 65, 4)), 16, "{:d}")}
    return explorer(controls, parts, partial(plot_search_trials, space=space, score_fn=score_fn),
                    figsize=(9, 3.8), title="search trials explorer",
                    checked=[random_search], display=show)


# ---------------------------------------------------------------- a real search, plotted

def plot_search(coarse: list[dict], fine: list[dict], fine_space: dict, *,
                x: str = "learning_rate", y: str = "n_h", ax: Axes | None = None,
                title: str = "Coarse-to-fine random search") -> Axes:
    """Trials of a coarse and a fine search: x on a log axis, y linear, colour = dev score;
    the zoomed-in box is the fine search's space."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    scores = [t["score"] for t in coarse + fine]
    lo, hi = min(scores), max(scores)
    for trials, marker, name in ((coarse, "o", "coarse"), (fine, "^", "fine")):
        if not trials:
            continue
        sc = ax.scatter([t["hyper"][x] for t in trials], [t["hyper"][y] for t in trials],
                        c=[t["score"] for t in trials], cmap="cividis", vmin=lo, vmax=hi,
                        marker=marker, s=55, edgecolors="black", linewidths=0.6,
                        label=f"{name} ({len(trials)} trials)", zorder=3)
    (_, bx0, bx1), (_, by0, by1) = fine_space[x], fine_space[y]
    ax.add_patch(Rectangle((bx0, by0 - 0.5), bx1 - bx0, by1 - by0 + 1, fill=False,
                           ec=COLORS["vermillion"], lw=2, ls="--", label="zoomed-in space",
                           zorder=2))
    best = max(coarse + fine, key=lambda t: t["score"])
    ax.plot(best["hyper"][x], best["hyper"][y], "*", color=COLORS["orange"], mec="black",
            ms=18, zorder=4, label=f"best: dev {best['score']:.2f}")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate α (log scale)", ylabel=f"{y} (hidden units per layer)",
           title=title)
    ax.figure.colorbar(sc, ax=ax, label="dev accuracy")
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.85)
    return ax
