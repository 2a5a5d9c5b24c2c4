"""Notebook 03's explorer: what inverted dropout does to the goalkeeper net.

``explore_keep_prob(...)`` trains the [2, 20, 3, 1] net for each keep_prob on the slider
(0.5 … 1.0) with *the learner's* ``forward_propagation_with_dropout`` and
``backward_propagation_with_dropout`` (the default at once, the others in the background), and
shows:

* the decision boundary (predictions made without dropout, as at test time) with train and dev
  accuracy;
* the cost curve, which is noisy because every iteration trains a different thinned net;
* a histogram of the first hidden layer's mean activation over many random masks (the learner's
  forward pass), with inverted dropout and with the division by keep_prob undone, against the
  value without dropout: inverted dropout keeps the mean where it was.

Nothing here drops units or scales activations itself: that is the learner's exercise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.ticker import MaxNLocator

from helpers.explore import Explorer, explorer, fixed_layout, linear_slider
from helpers.explorers.regularization import (
    LAYERS_DIMS,
    LEARNING_RATE,
    NUM_ITERATIONS,
    SEED,
    draw_boundary,
    summarize,
)
from helpers.network import layer_forward
from helpers.plots import COLORS
from helpers.training import History, train

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KEEP_PROB_MIN, KEEP_PROB_MAX, KEEP_PROB_STEP = 0.5, 1.0, 0.05  # the slider: 11 values
MASK_DRAWS = 200  # random masks per histogram
COST_EVERY = 10  # draw every 10th cost of a run (keeps its noise visible, smaller pictures)


def activation_means(forward_with_dropout: Callable, X, parameters: dict, keep_prob: float,
                     rng: np.random.Generator, draws: int | None = None) -> dict:
    """Mean of the first hidden layer's activations A^{[1]} (over units and examples):

    * ``plain``: without dropout (the course's forward pass);
    * ``inverted``: one value per random mask, from the learner's forward pass with dropout
      (its cache holds A1 after dropout at index 2);
    * ``not_inverted``: the same draws multiplied back by keep_prob (dropout without the
      division)."""
    draws = MASK_DRAWS if draws is None else draws
    plain = float(layer_forward(X, parameters["W1"], parameters["b1"], "relu")[0].mean())
    inverted = np.array([float(np.mean(forward_with_dropout(X, parameters, keep_prob, rng)[1][2]))
                         for _ in range(draws)])
    return {"plain": plain, "inverted": inverted, "not_inverted": inverted * keep_prob}


def draw_histogram(ax, means: dict, keep_prob: float) -> list:
    """Histograms of a layer's mean activation with inverted and non-inverted dropout, and a
    line at its value without dropout; returns what it added (bar containers, then the line)."""
    plain = means["plain"]
    right = 1.45 * max(plain, float(means["inverted"].max()) / 1.2, 1e-3)
    bins = np.linspace(0, right, 88)  # the same scale for every keep_prob: 0 … 1.45 x plain
    added = [ax.hist(means["inverted"], bins=bins, color=COLORS["blue"], alpha=0.75,
                     label="inverted dropout (÷ keep_prob)")[2]]
    if keep_prob < 1:
        added.append(ax.hist(means["not_inverted"], bins=bins, color=COLORS["orange"],
                             alpha=0.75, label="dropout without ÷ keep_prob")[2])
    added.append(ax.axvline(plain, color=COLORS["black"], lw=2, ls="--", label="no dropout"))
    ax.set(title=f"Mean activation of $A^{{[1]}}$, {len(means['inverted'])} masks",
           xlabel="mean of $A^{[1]}$ over units and examples", ylabel="number of masks")
    ax.set_xlim(0, right)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(4))
    ax.legend(fontsize=7, loc="upper left")
    return added


def train_keep_prob(X_train, Y_train, X_dev, Y_dev, keep_prob: float, *, forward: Callable,
                    backward: Callable, init: Callable, known: Mapping[float, History],
                    layers_dims, learning_rate: float, num_iterations: int, seed: int) -> dict:
    """The summary of the goalkeeper net trained with dropout at ``keep_prob`` (a run in
    ``known`` is reused), with its cost curve and the mean activations under random masks."""
    hist = known.get(round(keep_prob, 2))
    if hist is None:
        hist = train(X_train, Y_train, layers_dims, init=init, rng=np.random.default_rng(seed),
                     forward=forward, backward=backward, learning_rate=learning_rate,
                     num_iterations=num_iterations, hyper={"keep_prob": keep_prob},
                     progress=False)
    out = summarize(hist, X_train, Y_train, X_dev, Y_dev)
    out["steps"] = np.asarray(hist.steps)[::COST_EVERY]
    out["costs"] = np.asarray(hist.costs, dtype=float)[::COST_EVERY]
    if not hist.diverged:
        out["means"] = activation_means(forward, X_train, hist.parameters, keep_prob,
                                        np.random.default_rng(seed + 1))
    return out


def plot_keep_prob(fig: Figure, result: dict, settings: dict, X_train, Y_train) -> Figure:
    """The keep_prob explorer's picture of one setting, in ``fig``: boundary with accuracies;
    the noisy cost of the thinned nets; the activation histogram. Returns ``fig``."""
    kp = settings["keep_prob"]
    fixed_layout(fig, left=0.05, right=0.99, bottom=0.15, top=0.84, wspace=0.3)
    ax_b, ax_c, ax_h = fig.subplots(1, 3, width_ratios=[1, 1.15, 1.15])
    draw_boundary(ax_b, result, X_train, Y_train, f"keep_prob = {kp:g}")
    ax_b.legend(loc="upper right", fontsize=7, frameon=True, framealpha=0.8)
    ax_c.plot(result["steps"], result["costs"], color=COLORS["blue"], lw=0.8,
              label="cost of the thinned net" if kp < 1 else "cost (no dropout)")
    ax_c.set(xlabel="iteration", ylabel="cost $J$", ylim=(0, None))
    ax_c.xaxis.set_major_locator(MaxNLocator(4))
    ax_c.yaxis.set_major_locator(MaxNLocator(4))
    if result["diverged"]:
        ax_c.set_title("Cost (diverged)", color=COLORS["vermillion"])
    else:
        ax_c.set_title(f"Cost during training, keep_prob = {kp:g}")
    ax_c.legend(fontsize=7)
    if "means" in result:
        draw_histogram(ax_h, result["means"], kp)
    else:
        ax_h.set_axis_off()
    return fig


def explore_keep_prob(
    X_train, Y_train, X_dev, Y_dev, *,
    forward: Callable, backward: Callable, init: Callable,
    known: Mapping[float, History] | None = None,
    layers_dims=LAYERS_DIMS, learning_rate: float = LEARNING_RATE,
    num_iterations: int = NUM_ITERATIONS, seed: int = SEED, show: bool = True,
) -> Explorer:
    """A keep_prob slider (0.5 … 1.0) over the goalkeeper net trained with the learner's
    dropout forward and backward passes (``train(..., hyper={"keep_prob": p})``), every run
    from the same seed. ``known`` maps keep_prob values already trained (same settings) to
    their History (e.g. 1.0 → the run without dropout)."""
    known = {round(k, 2): v for k, v in (known or {}).items() if v is not None}

    def compute(settings: dict) -> dict:
        return train_keep_prob(X_train, Y_train, X_dev, Y_dev, settings["keep_prob"],
                               forward=forward, backward=backward, init=init, known=known,
                               layers_dims=layers_dims, learning_rate=learning_rate,
                               num_iterations=num_iterations, seed=seed)

    controls = {"keep_prob": linear_slider("keep_prob (chance a unit is kept)", KEEP_PROB_MIN,
                                           KEEP_PROB_MAX, KEEP_PROB_STEP, 0.85)}
    return explorer(controls, compute, partial(plot_keep_prob, X_train=X_train, Y_train=Y_train),
                    figsize=(12.5, 3.8), title="keep_prob explorer",
                    checked=[forward, backward], display=show)
