"""Notebook 02's pictures and explorer: what L2 regularization does to the goalkeeper net.

* ``summarize(history, X_train, Y_train, X_dev, Y_dev)`` turns a training run into what the
  plots need: train/dev accuracy, the Frobenius norm of each W^{[l]}, the predicted class on a
  grid (for an instant decision-boundary redraw) and a thinned cost curve.
* ``plot_boundaries`` / ``print_table`` compare a few trained nets side by side (also used by
  notebook 03).
* ``explore_lambda(...)`` trains the [2, 20, 3, 1] net once for every λ on the slider (0, then
  1e-3 … 10 on a log scale) with *the learner's* forward, regularized cost and backward, and
  then redraws instantly: decision boundary, train/dev accuracy and ‖W‖ against λ, cost curve.
* ``dev_cost_monitor`` and ``plot_early_stopping`` show early stopping on a run's dev cost.

Nothing here computes an L2 penalty or its gradient: those are the learner's exercises, passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from matplotlib.ticker import MaxNLocator

from helpers.explore import Explorer, explorer
from helpers.network import binary_cross_entropy, model_forward, predict
from helpers.plots import COLORS, accuracy_title, draw_points, draw_regions, grid_for
from helpers.training import History, train

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
    L = sum(1 for k in parameters if k.startswith("W"))
    return [float(np.linalg.norm(parameters[f"W{l}"])) for l in range(1, L + 1)]


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
        "train_acc": float((predict(X_train, p) == Y_train).mean()),
        "dev_acc": float((predict(X_dev, p) == Y_dev).mean()),
        "norms": weight_norms(p),
        "regions": predict(pts, p).reshape(shape),
        "extent": extent,
        "steps": steps,
        "costs": costs,
    }


def draw_boundary(ax, summary: dict, X, Y, title: str, dev_name: str = "dev") -> None:
    """The decision regions of one summarized run with the points X, Y on top."""
    draw_regions(ax, summary["regions"], summary["extent"], summary["regions"].shape)
    draw_points(ax, X, Y, size=14)
    ax.set_xticks([-1, 0, 1])  # few ticks: faster slider redraws
    ax.set_yticks([-1, 0, 1])
    ax.set(xlabel="$x_1$", ylabel="$x_2$",
           title=accuracy_title(title, summary["train_acc"], summary["dev_acc"], dev_name))
    ax.grid(False)
    if summary["diverged"]:
        ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center", va="center",
                fontsize=16, color=COLORS["vermillion"])


def plot_boundaries(summaries: Mapping[str, dict], X, Y, dev_name: str = "dev"):
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


# ---------------------------------------------------------------- instant redraws
class PrerenderedFigures:
    """Slider redraws as fast as a cache lookup: each setting's full figure is painted once
    (by ``paint(fig, key)``) into an off-screen figure and kept as pixels; the explorer's
    ``draw`` then only stamps those pixels onto its figure (a ~1000x300 image: a few ms),
    instead of laying out three axes, their ticks and texts again (~200 ms on 2 cores)."""

    def __init__(self, paint: Callable, figsize: tuple[float, float], dpi: int = 80):
        self.paint, self.figsize, self.dpi = paint, figsize, dpi
        self.pixels: dict = {}

    def render(self, key) -> np.ndarray:
        if key not in self.pixels:
            import matplotlib as mpl
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            from helpers.plots import STYLE

            with mpl.rc_context(STYLE):
                fig = Figure(figsize=self.figsize, dpi=self.dpi)
                canvas = FigureCanvasAgg(fig)
                self.paint(fig, key)
                canvas.draw()
            self.pixels[key] = np.asarray(canvas.buffer_rgba()).copy()
        return self.pixels[key]

    def stamp(self, fig, key) -> None:
        """Paint the figure of ``key`` onto the (cleared) explorer figure ``fig``."""
        fig.set_layout_engine(None)  # None: no extra layout pass in savefig
        fig.figimage(self.render(key), 0, 0, origin="upper", resize=False)


# ---------------------------------------------------------------- the λ explorer
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
    import ipywidgets as w

    known = {k: v for k, v in (known or {}).items() if v is not None}
    summaries: dict[float, dict] = {}

    def compute(lambd: float) -> dict:
        hist = known.get(lambd)
        if hist is None:
            hist = train(X_train, Y_train, layers_dims, init=init,
                         rng=np.random.default_rng(seed), forward=forward, cost=cost,
                         backward=backward, learning_rate=learning_rate,
                         num_iterations=num_iterations, hyper={"lambd": lambd}, progress=False)
        summaries[lambd] = summarize(hist, X_train, Y_train, X_dev, Y_dev)
        return summaries[lambd]

    def paint(fig, lam):
        result = summaries[lam]
        ax_b, ax_a, ax_c = fig.subplots(1, 3, width_ratios=[1, 1.25, 1.1], gridspec_kw=dict(
            left=0.05, right=0.99, bottom=0.16, top=0.80, wspace=0.3))
        draw_boundary(ax_b, result, X_train, Y_train, f"λ = {lam:g}")
        norms = ", ".join(f"{v:.1f}" for v in result["norms"])
        ax_b.set_title(ax_b.get_title() + f"\n‖W1‖, ‖W2‖, ‖W3‖ = {norms}", fontsize=10)
        ax_b.legend(loc="upper right", fontsize=7, frameon=True, framealpha=0.8)
        lams = [v for v in LAMBDAS if v in summaries]
        xs = np.arange(len(lams))
        here = lams.index(lam) if lam in lams else None
        ax_a.plot(xs, [100 * summaries[v]["train_acc"] for v in lams], "o-",
                  color=COLORS["blue"], ms=4, label="train accuracy")
        ax_a.plot(xs, [100 * summaries[v]["dev_acc"] for v in lams], "s-",
                  color=COLORS["vermillion"], ms=4, label="dev accuracy")
        ax_a.set_ylim(70, 100)
        ax_a.set_yticks([70, 80, 90, 100])
        ax_a.set(title="Accuracy (%) and Σ‖W‖ against λ", xlabel="λ (0, then log scale)",
                 ylabel="accuracy (%)")
        ax_a.set_xticks(xs, [f"{v:g}" for v in lams], fontsize=7)
        if here is not None:
            ax_a.axvline(here, color="0.4", lw=1, ls="--")
        # the total weight norm, scaled onto the same axes (no second axes: faster redraws)
        total = np.array([sum(summaries[v]["norms"]) for v in lams])
        top = max(total.max(), 1e-12)
        ax_a.plot(xs, 70 + 30 * total / top, "^:", color=COLORS["green"], ms=4,
                  label=f"Σ‖W‖ (top of axis = {top:.0f})")
        ax_a.legend(fontsize=7, loc="lower left")
        if result["diverged"]:
            ax_c.set_title("Cost (diverged)", color=COLORS["vermillion"])
        else:
            ax_c.set_title(f"Cost during training, λ = {lam:g}")
        if 0.0 in summaries and lam != 0.0:
            ref = summaries[0.0]
            ax_c.plot(ref["steps"], ref["costs"], color="0.6", lw=1, label="λ = 0")
        ax_c.plot(result["steps"], result["costs"], color=COLORS["blue"],
                  label=f"λ = {lam:g} (with penalty)")
        ax_c.set(xlabel="iteration", ylabel="cost $J$", ylim=(0, None))
        ax_c.xaxis.set_major_locator(MaxNLocator(4))
        ax_c.yaxis.set_major_locator(MaxNLocator(4))
        ax_c.legend(fontsize=7)

    figsize = (12.5, 3.9)
    figures = PrerenderedFigures(paint, figsize)

    def draw(fig, result, values):
        figures.stamp(fig, values["lambd"])

    slider = w.SelectionSlider(options=lambda_options(),
                               value=0.7 if 0.7 in LAMBDAS else LAMBDAS[0],
                               description="λ (L2 strength)",
                               style={"description_width": "initial"},
                               layout=w.Layout(width="420px"), continuous_update=True)
    ex = explorer(compute, draw, {"lambd": slider}, figsize=figsize, show=show)
    for lam in summaries:  # paint every setting now, so that each slider move is instant
        figures.render(lam)
    return ex


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


def plot_early_stopping(history: History, ax=None):
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
