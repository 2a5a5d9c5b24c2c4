"""Notebook 01's explorer: how the scale of the initial weights decides whether a signal
survives a deep net, and how well a small net then learns.

``explore_weight_scale(init, X_train, Y_train, X_test, Y_test)`` takes the learner's
``initialize_parameters_random(layers_dims, rng, scale)`` and, for each weight scale sigma on a
log grid from 0.01 to 100 (He's value for 100-unit layers included):

* pushes a batch of random inputs forward through a deep net (10 layers of 100 units, ReLU or
  tanh) and a unit-size random gradient back through it, and keeps per-layer histograms of
  log10|A^{[l]}| (what layer l sends forward) and log10|dA^{[l-1]}| (what it sends back);
* trains the circles net [2, 10, 5, 1] (ReLU) from that scale with plain gradient descent and
  keeps its cost curve and decision boundary.

The default σ is drawn at once, the others in the background (helpers.explore).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import NullLocator

from helpers.explore import Explorer, explorer, slider, toggle
from helpers.network import layer_backward, layer_forward, model_forward
from helpers.plots import COLORS, CYCLE, draw_points, draw_regions, grid_for
from helpers.training import one_blas_thread, train

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEPTH = 10
WIDTH = 100
DEEP_EXAMPLES = 256
HE_SCALE = float(np.sqrt(2.0 / WIDTH))  # He's sigma for a layer fed by 100 units
XAVIER_SCALE = float(np.sqrt(1.0 / WIDTH))
CIRCLES_DIMS = [2, 10, 5, 1]
# Histogram bins of log10|value|: from 1e-16 to 1e32 in steps of a quarter decade (values
# beyond either end are counted in the end bins).
BIN_WIDTH = 0.25
LOG_EDGES = np.arange(-16.0, 32.0 + 1e-9, BIN_WIDTH)
X_LIMITS = (-16.0, 32.0)
NAMES = {"relu": "ReLU", "tanh": "tanh"}
BLUES = LinearSegmentedColormap.from_list("white_blue", ["#FFFFFF", COLORS["blue"]])
ORANGES = LinearSegmentedColormap.from_list("white_orange", ["#FFFFFF", "#B35900"])


def scale_options() -> list[tuple[str, float]]:
    """The slider's values: 10^(k/4) for k = -8..8 (0.01 to 100), plus He's value
    sqrt(2/100) for the deep net's 100-unit layers, each labelled."""
    values = [10.0 ** (k / 4) for k in range(-8, 9)] + [HE_SCALE]
    out = []
    for v in sorted(values):
        label = f"{v:.3g}"
        if np.isclose(v, HE_SCALE):
            label += " = He (deep net, n=100)"
        elif np.isclose(v, XAVIER_SCALE):
            label += " = Xavier (deep net)"
        elif np.isclose(v, 10 ** -0.25):
            label += " ≈ He (circles net)"
        out.append((label, v))
    return out


def _histograms(arrays: list[np.ndarray]) -> dict:
    """Per layer: histogram of log10|value| over the non-zero entries (as fractions of all
    entries), the fraction of exact zeros, of |value| > 0.99, and the standard deviation."""
    counts, zeros, near_one, stds = [], [], [], []
    for a in arrays:
        v = np.abs(a.ravel())
        nz = v[v > 0]
        idx = ((np.log10(nz) - LOG_EDGES[0]) / BIN_WIDTH).astype(int)
        c = np.bincount(np.clip(idx, 0, len(LOG_EDGES) - 2), minlength=len(LOG_EDGES) - 1)
        counts.append(c / v.size)
        zeros.append(float((v == 0).mean()))
        near_one.append(float((v > 0.99).mean()))
        stds.append(float(np.std(a)))
    return {"counts": np.array(counts), "zeros": np.array(zeros),
            "near_one": np.array(near_one), "std": np.array(stds)}


def deep_signals(init: Callable, scale: float, activation: str, *, depth: int = DEPTH,
                 width: int = WIDTH, m: int = DEEP_EXAMPLES, seed: int = 0) -> dict:
    """Forward random inputs X (width, m) through ``depth`` layers of ``width`` units whose
    weights come from ``init(layers_dims, rng, scale=scale)``, then send a standard normal
    gradient dA^{[depth]} back. Returns histograms of the activations A^{[l]} and of the
    gradients dA^{[l-1]} that layer l passes back, for l = 1..depth."""
    rng = np.random.default_rng(seed)
    parameters = init([width] * (depth + 1), rng, scale=scale)
    data = np.random.default_rng(seed + 1)
    A = data.standard_normal((width, m))
    acts, caches, back = [], [], []
    with np.errstate(all="ignore"), one_blas_thread():
        for l in range(1, depth + 1):
            A, cache = layer_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], activation)
            acts.append(A)
            caches.append(cache)
        dA = data.standard_normal(A.shape)  # a unit-size stand-in for the cost's gradient
        for l in range(depth, 0, -1):
            dA, _, _ = layer_backward(dA, caches[l - 1])
            back.append(dA)
    return {"activations": _histograms(acts), "gradients": _histograms(back[::-1])}


def circles_run(init: Callable, scale: float, X_train, Y_train, X_test, Y_test, *,
                learning_rate: float = 0.05, num_iterations: int = 1000, seed: int = 1,
                resolution: int = 150) -> dict:
    """Train the circles net from weights of standard deviation ``scale`` (the learner's
    ``init`` with hyper scale) and keep what the figure needs: the History, the predicted
    class on a grid, and the train/test accuracies (None if the run diverged)."""
    with one_blas_thread():
        hist = train(X_train, Y_train, CIRCLES_DIMS, init=init, rng=np.random.default_rng(seed),
                     hyper={"scale": scale}, learning_rate=learning_rate,
                     num_iterations=num_iterations, hidden="relu", output="sigmoid")
    pts, extent, shape = grid_for(X_train, resolution)
    out = {"history": hist, "extent": extent, "shape": shape, "grid": None,
           "train_acc": None, "test_acc": None}
    if hist.diverged:
        return out

    def labels(X):
        with np.errstate(all="ignore"), one_blas_thread():
            AL, _ = model_forward(X, hist.parameters, "relu", "sigmoid")
        return (AL > 0.5).astype(float)

    out["grid"] = labels(pts)
    out["train_acc"] = float((labels(X_train) == Y_train).mean())
    out["test_acc"] = float((labels(X_test) == Y_test).mean())
    return out


def _notes(hist: dict, symbol: str, activation: str) -> list[str]:
    """Per layer, a note for the right of its row: where values are exactly zero (or, for
    tanh activations, saturated); "" where there is nothing to say."""
    notes = []
    for z, sat in zip(hist["zeros"], hist["near_one"]):
        note = ""
        if z >= 0.995:
            note = "all exactly 0"
        elif z > 0.6:
            note = f"{100 * z:.0f}% exactly 0"
        elif activation == "tanh" and symbol == "A" and sat > 0.5:
            note = f"{100 * sat:.0f}% saturated"
        notes.append(note)
    return notes


def _rows(hist: dict) -> np.ndarray:
    """The histograms of log10|value|, one row per layer, each scaled to its own peak."""
    counts = hist["counts"]
    peak = counts.max(axis=1, keepdims=True)
    return np.divide(counts, peak, out=np.zeros_like(counts), where=peak > 0)


def _heatmap(ax, hist: dict, title: str, symbol: str, cmap, activation: str) -> None:
    """One row per layer (layer 1 at the top): the histogram of log10|value| as a strip of
    colour, each row scaled to its own peak; notes at the right say where values are exactly
    zero (or, for tanh activations, saturated)."""
    depth = len(hist["counts"])
    ax.imshow(_rows(hist), aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
              extent=(LOG_EDGES[0], LOG_EDGES[-1], depth + 0.5, 0.5))
    for i, note in enumerate(_notes(hist, symbol, activation)):
        ax.text(X_LIMITS[1] - 0.5, i + 1, note, ha="right", va="center", fontsize=8,
                color=COLORS["vermillion"])
    ax.axvline(0.0, color=COLORS["vermillion"], lw=1, ls="--")
    ax.set_xlim(*X_LIMITS)
    ax.set_yticks([1, depth // 2, depth])
    ticks = np.arange(-16, 33, 8)
    labels = [f"1e{t}" if t else "1" for t in ticks]
    labels[0], labels[-1] = f"≤{labels[0]}", f"≥{labels[-1]}"
    ax.set_xticks(ticks, labels)
    ax.set(xlabel=f"|{symbol}| on a log scale (dashed: |{symbol}| = 1)", ylabel="layer l",
           title=title)
    ax.grid(False)


def _titles(scale: float, activation: str, deep: dict) -> tuple[str, str]:
    """The deep net's two titles, with this setting's numbers on their second line."""
    std_a, std_g = deep["activations"]["std"], deep["gradients"]["std"]
    return ("Forward: activations $A^{[l]}$ that layer $l$ sends on\n"
            f"{NAMES[activation]}, σ = {scale:.3g} (He for its {WIDTH}-unit layers: "
            f"{HE_SCALE:.3g})\nstd: layer 1 {std_a[0]:.2g}, layer {DEPTH} {std_a[-1]:.2g}",
            "Backward: gradients $dA^{[l-1]}$ that layer $l$ sends back\n"
            f"{NAMES[activation]}, σ = {scale:.3g}\n"
            f"std: layer {DEPTH} {std_g[-1]:.2g}, layer 1 {std_g[0]:.2g}")


def _circles_panels(ax_b, ax_c, circ: dict, scale: float, X, Y, iterations: int) -> None:
    """The circles net: its decision regions (or "diverged") and its cost curve."""
    hist = circ["history"]
    x0, x1, y0, y1 = circ["extent"]
    if hist.diverged:
        ax_b.text(0.5, 0.5, "diverged:\nno decision boundary", transform=ax_b.transAxes,
                  ha="center", va="center", fontsize=12, color=COLORS["vermillion"],
                  bbox={"facecolor": "white", "edgecolor": COLORS["vermillion"]})
        ax_b.set_title(f"Circles net, σ = {scale:.3g}: diverged", color=COLORS["vermillion"])
    else:
        draw_regions(ax_b, np.asarray(circ["grid"], dtype=float).reshape(circ["shape"]),
                     circ["extent"], circ["shape"])
        he = ", ".join(f"W{l} {np.sqrt(2 / n):.3g}" for l, n in enumerate(CIRCLES_DIMS[:-1], 1))
        ax_b.set_title(f"Circles net, every W with σ = {scale:.3g}\nits He values: {he}\n"
                       f"train {100 * circ['train_acc']:.1f}%, test {100 * circ['test_acc']:.1f}%")
    draw_points(ax_b, X, Y, size=10)
    ax_b.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$")
    ax_b.grid(False)
    ax_b.legend(loc="upper right", fontsize=7, frameon=True, framealpha=0.8)
    steps, costs = np.asarray(hist.steps), np.asarray(hist.costs, dtype=float)
    ok = np.isfinite(costs)
    ax_c.plot(steps[ok], costs[ok], color=CYCLE[0],
              label=f"σ = {scale:.3g}" + (" (diverged)" if hist.diverged else ""))
    if hist.diverged and ok.any():
        ax_c.plot(steps[ok][-1:], costs[ok][-1:], "x", color=CYCLE[0], ms=10, mew=2)
    ax_c.set_yscale("log")
    ax_c.set(xlabel=hist.unit, ylabel="cost $J$", ylim=(1e-3, 50), xlim=(0, iterations))
    ax_c.yaxis.set_minor_locator(NullLocator())
    ax_c.set_yticks([1e-3, 1e-2, 1e-1, 1, 10], ["0.001", "0.01", "0.1", "1", "10"])
    ax_c.legend(loc="upper right")
    ax_c.set_title(f"Circles net: cost (first {hist.costs[0]:.3g}, last {hist.costs[-1]:.3g})"
                   if hist.costs else "Circles net: cost")


def plot_weight_scale(fig: Figure, result: dict, settings: dict, X_train, Y_train,
                      iterations: int) -> Figure:
    """The weight-scale explorer's picture of one setting, in ``fig``: the deep net's
    activations and gradients per layer; the circles net's boundary and cost. Returns ``fig``."""
    scale, activation = settings["scale"], settings["activation"]
    deep = result["deep"]
    fig.set_layout_engine(None)  # fixed places: the panels stay put from one σ to the next
    ax_a, ax_g = fig.add_axes((0.07, 0.585, 0.39, 0.29)), fig.add_axes((0.56, 0.585, 0.39, 0.29))
    ax_b, ax_c = fig.add_axes((0.07, 0.06, 0.34, 0.35)), fig.add_axes((0.56, 0.06, 0.40, 0.35))
    title_a, title_g = _titles(scale, activation, deep)
    _heatmap(ax_a, deep["activations"], title_a, "A", BLUES, activation)
    _heatmap(ax_g, deep["gradients"], title_g, "dA", ORANGES, activation)
    _circles_panels(ax_b, ax_c, result["circles"], scale, X_train, Y_train, iterations)
    return fig


def explore_weight_scale(
    initialize_parameters_random: Callable,
    X_train: np.ndarray,
    Y_train: np.ndarray,
    X_test: np.ndarray,
    Y_test: np.ndarray,
    *,
    learning_rate: float = 0.05,
    num_iterations: int = 1000,
    options: list[tuple[str, float]] | None = None,
    default: float | None = None,
    show: bool = True,
) -> Explorer:
    """Slider over the weights' standard deviation sigma (0.01 to 100, He's value marked) and a
    ReLU/tanh toggle for the deep net. Every net gets its weights from the learner's
    ``initialize_parameters_random(layers_dims, rng, scale=sigma)``. ``default``: the σ the
    slider opens on (the option nearest to it; None: He's value for the deep net)."""
    options = options or scale_options()
    want = HE_SCALE if default is None else float(default)
    default = min(options, key=lambda o: abs(np.log(o[1]) - np.log(want)))[1]
    controls = {"scale": slider("σ of W", options, default),
                "activation": toggle("deep net:", [("ReLU", "relu"), ("tanh", "tanh")], "relu")}

    def circles(settings: dict) -> dict:
        return circles_run(initialize_parameters_random, settings["scale"], X_train, Y_train,
                           X_test, Y_test, learning_rate=learning_rate,
                           num_iterations=num_iterations)

    def deep(settings: dict) -> dict:
        return deep_signals(initialize_parameters_random, settings["scale"],
                            settings["activation"])

    parts = {"circles": (circles, ["scale"]), "deep": (deep, ["scale", "activation"])}
    return explorer(controls, parts, partial(plot_weight_scale, X_train=X_train,
                                             Y_train=Y_train, iterations=num_iterations),
                    figsize=(10, 7.8), title="weight scale explorer",
                    checked=[initialize_parameters_random], display=show)
