"""Plots in one consistent, colour-blind-safe style (Okabe & Ito's palette).

Figures have titles and say what their marks are (axis labels, a legend, a colour bar or a note
under the panels). The decision boundary is drawn over the training points with the accuracies
in the title.

One naming convention for the figure functions of helpers/ (this module, helpers/explorers/*;
tests/test_figures.py draws every one of them and compares the pixels with its baselines):

* ``plot_<what>(..., ax=None) -> Axes`` draws a finished panel (title, labelled axes, legend)
  on ``ax``, or on a new figure when ``ax`` is None, and returns that Axes.
* ``plot_<what>(...) -> Figure`` lays out a figure of several panels and returns it. When it
  is given the figure to draw in (``plot_<what>(fig, ...)``: a Figure or a SubFigure), it
  returns that one. An explorer's picture is such a function, beside the explorer it draws
  for: ``explore_<what>`` shows ``plot_<what>(fig, result, settings, ...) -> Figure``, which
  draws one setting's result into the fresh Figure the explorer gives it (the ``plot`` of
  helpers.explore's protocol).
* ``draw_<what>(ax, ...) -> artist(s)`` adds one layer to an existing Axes and returns what it
  added (an artist, or a list of them), so that a caller can restyle or update it in place.

A ``plot_`` function may compute what it shows (``plot_saddle_points`` runs the learner's
optimizers), but it returns only its Axes or Figure: numbers the notebook also needs come from
a function of their own (``run_accuracies`` beside ``plot_optimizers``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import ListedColormap
from matplotlib.image import AxesImage

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
CYCLE = [COLORS[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
# Class 0 orange, class 1 blue; the regions in light tints of the same two colours.
CLASS_COLORS = [COLORS["orange"], COLORS["blue"]]
REGION_CMAP = ListedColormap(["#F7DDA8", "#A9CBE6"])

STYLE = {
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 80,
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.frameon": False,
    "image.cmap": "cividis",
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (colours, grid, sizes) to every later figure."""
    mpl.rcParams.update(STYLE)


def grid_for(X: np.ndarray, resolution: int = 150,
             pad: float = 0.25) -> tuple[np.ndarray, tuple[float, float, float, float], tuple]:
    """A regular grid covering the 2-D points X (2, m) with a margin.

    Returns (points (2, resolution**2), extent (x_min, x_max, y_min, y_max), shape)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X has shape {X.shape} but decision boundaries need 2-D points (2, m)")
    (x0, y0), (x1, y1) = X.min(axis=1) - pad, X.max(axis=1) + pad
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    xx, yy = np.meshgrid(xs, ys)
    return np.vstack([xx.ravel(), yy.ravel()]), (x0, x1, y0, y1), xx.shape


def accuracy_title(title: str, train_acc: float | None, test_acc: float | None,
                   test_name: str = "test") -> str:
    """``title`` with a second line "train 92.0%, dev 85.0%" (either accuracy may be None)."""
    parts = [title] if title else []
    accs = []
    if train_acc is not None:
        accs.append(f"train {100 * train_acc:.1f}%")
    if test_acc is not None:
        accs.append(f"{test_name} {100 * test_acc:.1f}%")
    if accs:
        parts.append(", ".join(accs))
    return "\n".join(parts)


def draw_regions(ax: Axes, labels: np.ndarray, extent: Sequence[float], shape: tuple[int, int]) -> AxesImage:
    """Paint predicted classes (0/1 per grid point) as the background; returns the image."""
    return ax.imshow(
        np.asarray(labels, dtype=float).reshape(shape), origin="lower", extent=extent,
        cmap=REGION_CMAP, vmin=0, vmax=1, aspect="auto", interpolation="nearest", zorder=0,
    )


def draw_points(ax: Axes, X: np.ndarray, Y: np.ndarray, *, marker: str = "o", size: float = 18,
                names: Sequence[str] = ("class 0", "class 1"),
                alpha: float = 0.9) -> list[PathCollection]:
    """Scatter 2-D points X (2, m) coloured by their 0/1 label Y (1, m), one legend entry per
    class; returns the two PathCollections (class 0, class 1)."""
    y = np.asarray(Y).reshape(-1)
    return [ax.scatter(X[0, y == c], X[1, y == c], s=size, c=CLASS_COLORS[c], marker=marker,
                       edgecolors="white", linewidths=0.5, label=names[c], alpha=alpha, zorder=2)
            for c in (0, 1)]


def plot_decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    ax: Axes | None = None,
    title: str = "",
    train_acc: float | None = None,
    test_acc: float | None = None,
    test_name: str = "test",
    class_names: Sequence[str] = ("class 0", "class 1"),
    resolution: int = 150,
    legend: bool = True,
) -> Axes:
    """Shade the regions where ``predict`` (a function of X (2, N) giving 0/1 labels (1, N))
    says class 0 or class 1, and draw the points X (2, m), Y (1, m) on top."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    pts, extent, shape = grid_for(X, resolution)
    draw_regions(ax, predict(pts), extent, shape)
    draw_points(ax, X, Y, names=class_names)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=accuracy_title(title, train_acc, test_acc, test_name))
    ax.grid(False)
    if legend:
        ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.8)
    return ax


def _as_costs(run) -> tuple[np.ndarray, np.ndarray, bool, str]:
    """(steps, costs, diverged, unit) from a History or a plain list of costs."""
    if hasattr(run, "costs"):
        return np.asarray(run.steps), np.asarray(run.costs), run.status == "diverged", run.unit
    costs = np.asarray(run, dtype=float)
    return np.arange(len(costs)), costs, not np.isfinite(costs).all(), "iteration"


def plot_costs(runs: object, *, ax: Axes | None = None, log: bool = False, title: str = "Cost during training",
               xlabel: str | None = None, ylabel: str = "cost $J$") -> Axes:
    """Cost curves of one run or several ({label: History or list of costs}).

    A run that diverged is drawn up to its last finite cost and marked with an x and
    "(diverged)" in the legend, instead of filling the plot with NaN."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    if not isinstance(runs, Mapping):
        runs = {"cost": runs}
    unit = "iteration"
    for label, run in runs.items():
        steps, costs, diverged, unit = _as_costs(run)
        ok = np.isfinite(costs)
        (line,) = ax.plot(steps[ok], costs[ok], label=label + (" (diverged)" if diverged else ""))
        if diverged and ok.any():
            ax.plot(steps[ok][-1], costs[ok][-1], "x", color=line.get_color(), ms=10, mew=2)
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel or unit, ylabel=ylabel)
    ax.legend()
    return ax
