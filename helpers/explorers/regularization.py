"""Notebook 02's pictures and explorer: what L2 regularization does to the goalkeeper net.

* ``summarize(history, X_train, Y_train, X_dev, Y_dev)`` turns a training run into what the
  plots need: train/dev accuracy, the Frobenius norm of each W^{[l]}, the predicted class on a
  grid (to draw the decision boundary) and a thinned cost curve.
* ``plot_boundaries`` / ``print_table`` compare a few trained nets side by side (also used by
  notebook 03).
* ``explore_lambda(...)`` trains the [2, 20, 3, 1] net for each λ on the slider (0, then
  1e-3 … 10 on a log scale) with *the learner's* forward, regularized cost and backward: the
  default λ at once, the others in the background (helpers.explore); each λ's picture shows the
  decision boundary, train/dev accuracy and ‖W‖ against every λ trained, and the cost curve.
* ``dev_cost_monitor`` and ``plot_early_stopping`` show early stopping on a run's dev cost.

Nothing here computes an L2 penalty or its gradient: those are the learner's exercises, passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.ticker import MaxNLocator

from helpers.explore import Explorer, explorer, fixed_layout, slider
from helpers.network import (
    accuracy,
    binary_cross_entropy,
    model_forward,
    num_layers,
    predict,
)
from helpers.plots import COLORS, accuracy_title, draw_points, draw_regions, grid_for
from helpers.training import History, train

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LAYERS_DIMS = [2, 20, 3, 1]
LEARNING_RATE = 0.3
NUM_ITERATIONS = 15000
SEED = 0
LAMBDAS = [0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 0.7, 1.0, 3.0, 10.0]
GRID_RESOLUTION = 120
COST_POINTS = 300  # a cost curve is thinned to about this many points for drawing


def lambda_options() -> list[tuple[str, float]]:
    """The λ slider's values as (label, value): 0, then 1e-3 … 10 on a log scale."""
    return [(f"{v:g}", v) for v in LAMBDAS]


def weight_norms(parameters: Mapping) -> list[float]:
    """[‖W^{[1]}‖_F, ‖W^{[2]}‖_F, ...] of a parameter dict."""
    return [float(np.linalg.norm(parameters[f"W{l}"])) for l in range(1, num_layers(parameters) + 1)]


def _thin(history: History) -> tuple[np.ndarray, np.ndarray]:
    steps, costs = np.asarray(history.steps), np.asarray(history.costs, dtype=float)
    every = max(1, len(costs) // COST_POINTS)
    return steps[::every], costs[::every]


def summarize(history: History, X_train, Y_train, X_dev, Y_dev,
              resolution: int = GRID_RESOLUTION) -> dict:
    """What the plots need from one run of the goalkeeper net (ReLU hidden, sigmoid output)."""
    p = history.parameters
    pts, extent, shape = grid_for(X_train, resolution)
    steps, costs = _thin(history)
    return {
        "diverged": history.diverged,
        "message": history.message,
        "parameters": p,
        "train_acc": accuracy(predict(X_train, p), Y_train),
        "dev_acc": accuracy(predict(X_dev, p), Y_dev),
        "norms": weight_norms(p),
        "regions": predict(pts, p).reshape(shape),
        "extent": extent,
        "steps": steps,
        "costs": costs,
    }


def draw_boundary(ax, summary: dict, X, Y, title: str, dev_name: str = "dev") -> list:
    """The decision regions of one summarized run with the points X, Y on top (and "diverged"
    across it if the run diverged); returns [regions image, class-0 points, class-1 points
    (, the "diverged" text)]."""
    added = [draw_regions(ax, summary["regions"], summary["extent"], summary["regions"].shape),
             *draw_points(ax, X, Y, size=14)]
    ax.set_xticks([-1, 0, 1])  # few ticks: a small panel stays readable
    ax.set_yticks([-1, 0, 1])
    ax.set(xlabel="$x_1$", ylabel="$x_2$",
           title=accuracy_title(title, summary["train_acc"], summary["dev_acc"], dev_name))
    ax.grid(False)
    if summary["diverged"]:
        added.append(ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center",
                             va="center", fontsize=16, color=COLORS["vermillion"]))
    return added


def plot_boundaries(summaries: Mapping[str, dict], X, Y, dev_name: str = "dev") -> Figure:
    """Side-by-side decision boundaries of several summarized runs, over the points X, Y."""
    import matplotlib.pyplot as plt

    n = len(summaries)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4), squeeze=False, layout="constrained")
    for ax, (name, s) in zip(axes[0], summaries.items()):
        draw_boundary(ax, s, X, Y, name, dev_name)
    axes[0, -1].legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.8)
    return fig


def print_table(summaries: Mapping[str, dict], dev_name: str = "dev") -> None:
    """A text table: train and dev accuracy and ‖W^{[l]}‖_F for each summarized run."""
    L = max(len(s["norms"]) for s in summaries.values())
    width = max(len(k) for k in summaries) + 2
    head = f"{'model':<{width}}{'train acc':>10}{dev_name + ' acc':>10}" + "".join(
        f"{'‖W' + str(l) + '‖':>8}" for l in range(1, L + 1))
    print(head)
    print("-" * len(head))
    for name, s in summaries.items():
        print(f"{name:<{width}}{100 * s['train_acc']:>9.1f}%{100 * s['dev_acc']:>9.1f}%"
              + "".join(f"{v:>8.2f}" for v in s["norms"]))


# ---------------------------------------------------------------- the λ explorer
def train_lambda(X_train, Y_train, X_dev, Y_dev, lambd: float, *, forward: Callable,
                 cost: Callable, backward: Callable, init: Callable,
                 known: Mapping[float, History], layers_dims, learning_rate: float,
                 num_iterations: int, seed: int) -> dict:
    """The summary of the goalkeeper net trained with penalty λ (a run in ``known`` is reused)."""
    hist = known.get(lambd)
    if hist is None:
        hist = train(X_train, Y_train, layers_dims, init=init, rng=np.random.default_rng(seed),
                     forward=forward, cost=cost, backward=backward, learning_rate=learning_rate,
                     num_iterations=num_iterations, hyper={"lambd": lambd}, progress=False)
    return summarize(hist, X_train, Y_train, X_dev, Y_dev)


def draw_sweep(ax, sweep: Mapping[tuple, dict], lam: float) -> list:
    """Train and dev accuracy, and the total weight norm, against every λ trained so far (a
    dashed line at ``lam``); returns the lines it added."""
    lams = [v for v in LAMBDAS if (v,) in sweep]
    xs = np.arange(len(lams))
    added = ax.plot(xs, [100 * sweep[(v,)]["train_acc"] for v in lams], "o-",
                    color=COLORS["blue"], ms=4, label="train accuracy")
    added += ax.plot(xs, [100 * sweep[(v,)]["dev_acc"] for v in lams], "s-",
                     color=COLORS["vermillion"], ms=4, label="dev accuracy")
    ax.set_ylim(70, 100)
    ax.set_yticks([70, 80, 90, 100])
    done = "" if len(lams) == len(LAMBDAS) else f" ({len(lams)} of {len(LAMBDAS)} trained)"
    ax.set(title=f"Accuracy (%) and Σ‖W‖ against λ{done}", xlabel="λ (0, then log scale)",
           ylabel="accuracy (%)")
    ax.set_xticks(xs, [f"{v:g}" for v in lams], fontsize=7)
    if lam in lams:
        added.append(ax.axvline(lams.index(lam), color="0.4", lw=1, ls="--"))
    # the total weight norm, scaled onto the same axes
    total = np.array([sum(sweep[(v,)]["norms"]) for v in lams])
    top = max(total.max(), 1e-12)
    added += ax.plot(xs, 70 + 30 * total / top, "^:", color=COLORS["green"], ms=4,
                     label=f"Σ‖W‖ (top of axis = {top:.0f})")
    ax.legend(fontsize=7, loc="lower left")
    return added


def draw_cost(ax, result: dict, reference: dict | None, label: str, lam: float) -> list:
    """The cost during training of one run, over the run without penalty (grey); returns the
    lines it added."""
    if result["diverged"]:
        ax.set_title("Cost (diverged)", color=COLORS["vermillion"])
    else:
        ax.set_title(f"Cost during training, {label}")
    added = []
    if reference is not None:
        added += ax.plot(reference["steps"], reference["costs"], color="0.6", lw=1,
                         label="λ = 0")
    added += ax.plot(result["steps"], result["costs"], color=COLORS["blue"],
                     label=f"{label} (with penalty)" if lam else label)
    ax.set(xlabel="iteration", ylabel="cost $J$", ylim=(0, None))
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.legend(fontsize=7)
    return added


def plot_lambda(fig: Figure, result: dict, settings: dict, X_train, Y_train) -> Figure:
    """The λ explorer's picture of one setting, in ``fig``: boundary with accuracies and ‖W‖;
    accuracy and Σ‖W‖ against λ; the cost curve. Returns ``fig``."""
    lam, run, sweep = settings["lambd"], result["run"], result["sweep"]
    fixed_layout(fig, left=0.05, right=0.99, bottom=0.16, top=0.80, wspace=0.3)
    ax_b, ax_a, ax_c = fig.subplots(1, 3, width_ratios=[1, 1.25, 1.1])
    draw_boundary(ax_b, run, X_train, Y_train, f"λ = {lam:g}")
    norms = ", ".join(f"{v:.1f}" for v in run["norms"])
    ax_b.set_title(ax_b.get_title() + f"\n‖W1‖, ‖W2‖, ‖W3‖ = {norms}", fontsize=10)
    ax_b.legend(loc="upper right", fontsize=7, frameon=True, framealpha=0.8)
    draw_sweep(ax_a, sweep, lam)
    draw_cost(ax_c, run, sweep.get((0.0,)) if lam != 0.0 else None, f"λ = {lam:g}", lam)
    return fig


def explore_lambda(
    X_train, Y_train, X_dev, Y_dev, *,
    forward: Callable, cost: Callable, backward: Callable, init: Callable,
    known: Mapping[float, History] | None = None,
    layers_dims=LAYERS_DIMS, learning_rate: float = LEARNING_RATE,
    num_iterations: int = NUM_ITERATIONS, seed: int = SEED, show: bool = True,
) -> Explorer:
    """A λ slider over the goalkeeper net trained with the learner's regularized cost and
    backward pass (``train(..., hyper={"lambd": λ})``), every run from the same seed.

    ``known`` maps λ values already trained in the notebook (same settings) to their History,
    so they are not trained twice (None values are ignored)."""
    known = {k: v for k, v in (known or {}).items() if v is not None}

    def run(settings: dict) -> dict:
        return train_lambda(X_train, Y_train, X_dev, Y_dev, settings["lambd"], forward=forward,
                            cost=cost, backward=backward, init=init, known=known,
                            layers_dims=layers_dims, learning_rate=learning_rate,
                            num_iterations=num_iterations, seed=seed)

    controls = {"lambd": slider("λ (L2 strength)", lambda_options(),
                                0.7 if 0.7 in LAMBDAS else LAMBDAS[0])}
    return explorer(controls, {"run": (run, ["lambd"])},
                    partial(plot_lambda, X_train=X_train, Y_train=Y_train),
                    figsize=(12.5, 3.9), sweep="run", title="λ explorer",
                    checked=[cost, backward], display=show)


# ---------------------------------------------------------------- early stopping
def dev_cost_monitor(X_train, Y_train, X_dev, Y_dev) -> Callable[[dict], dict]:
    """A ``monitor`` for train(): the train and dev cross-entropy (no penalty) and a copy of
    the parameters, so the best iteration's net can be brought back."""

    def monitor(parameters: dict) -> dict:
        return {
            "train_cost": binary_cross_entropy(model_forward(X_train, parameters)[0], Y_train),
            "dev_cost": binary_cross_entropy(model_forward(X_dev, parameters)[0], Y_dev),
            "parameters": {k: v.copy() for k, v in parameters.items()},
        }

    return monitor


def best_iteration(history: History) -> tuple[int, dict]:
    """(iteration, parameters) where the monitored dev cost was lowest."""
    step, rec = min(history.monitor, key=lambda sr: sr[1]["dev_cost"])
    return step, rec["parameters"]


def plot_early_stopping(history: History, ax: Axes | None = None) -> Axes:
    """Train and dev cost against iterations, with the lowest dev cost marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    steps = [s for s, _ in history.monitor]
    ax.plot(steps, [r["train_cost"] for _, r in history.monitor], color=COLORS["blue"],
            label="train cost")
    ax.plot(steps, [r["dev_cost"] for _, r in history.monitor], color=COLORS["vermillion"],
            label="dev cost")
    best, _ = best_iteration(history)
    best_cost = dict(history.monitor)[best]["dev_cost"]
    ax.axvline(best, color="0.3", ls="--", lw=1)
    ax.plot([best], [best_cost], "o", color=COLORS["vermillion"], ms=8,
            label=f"lowest dev cost (iteration {best})")
    ax.set(title="Early stopping: stop where the dev cost is lowest", xlabel="iteration",
           ylabel="cross-entropy cost")
    ax.legend()
    return ax
