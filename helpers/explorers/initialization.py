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

Everything is computed once up front (a few seconds); moving the slider only redraws.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import NullLocator

from helpers.explore import Explorer, explorer
from helpers.fastdraw import (
    Backdrop,
    cache_pictures,
    split_title,
    stamp,
    warm_up,
)
from helpers.network import layer_backward, layer_forward, model_forward
from helpers.plots import COLORS, CYCLE, draw_points, draw_regions, grid_for
from helpers.training import one_blas_thread, train

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
            label += " = He"
        elif np.isclose(v, XAVIER_SCALE):
            label += " = Xavier"
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
    """The histograms of log10|value|, one row per layer, each scaled to its own peak (kept
    in ``hist``: the same array each time, so its picture can be reused)."""
    if "_rows" not in hist:
        counts = hist["counts"]
        peak = counts.max(axis=1, keepdims=True)
        hist["_rows"] = np.divide(counts, peak, out=np.zeros_like(counts), where=peak > 0)
    return hist["_rows"]


def _heatmap(ax, hist: dict, title: str, symbol: str, cmap, activation: str) -> Callable:
    """One row per layer (layer 1 at the top): the histogram of log10|value| as a strip of
    colour, each row scaled to its own peak; notes at the right say where values are exactly
    zero (or, for tanh activations, saturated). Returns ``update(hist, title, activation)``,
    which changes the picture, the notes and the title's second line in place;
    ``ax.moving`` lists the artists it changes, ``ax.front`` the fixed ones drawn over
    them."""
    depth = len(hist["counts"])
    subtitle = split_title(ax, title.split("\n", 1)[0])
    image = ax.imshow(_rows(hist), aspect="auto", cmap=cmap, vmin=0, vmax=1,
                      interpolation="nearest",
                      extent=(LOG_EDGES[0], LOG_EDGES[-1], depth + 0.5, 0.5))
    cache_pictures(image)
    notes = [ax.text(X_LIMITS[1] - 0.5, i + 1, "", ha="right", va="center", fontsize=8,
                     color=COLORS["vermillion"]) for i in range(depth)]
    one = ax.axvline(0.0, color=COLORS["vermillion"], lw=1, ls="--")
    ax.set_xlim(*X_LIMITS)
    ax.set_yticks([1, depth // 2, depth])
    ticks = np.arange(-16, 33, 8)
    labels = [f"1e{t}" if t else "1" for t in ticks]
    labels[0], labels[-1] = f"≤{labels[0]}", f"≥{labels[-1]}"
    ax.set_xticks(ticks, labels)
    ax.set(xlabel=f"|{symbol}| on a log scale (dashed: |{symbol}| = 1)", ylabel="layer l")
    ax.grid(False)

    def update(hist: dict, title: str, activation: str) -> None:
        image.set_data(_rows(hist))
        for text, note in zip(notes, _notes(hist, symbol, activation)):
            text.set_text(note)
        subtitle.set_text(title.split("\n", 1)[1])

    update(hist, title, activation)
    stamp(subtitle, *notes)
    ax.moving = [image, *notes, subtitle]
    ax.front = [one, *ax.spines.values()]  # over the picture: the dashed line, the edges
    return update


def _titles(scale: float, activation: str, deep: dict) -> tuple[str, str]:
    """The deep net's two titles: a first line that never changes (its math is typeset once
    and cached), then the numbers of this setting in plain text."""
    std_a, std_g = deep["activations"]["std"], deep["gradients"]["std"]
    return ("Forward: activations $A^{[l]}$ that layer $l$ sends on\n"
            f"{NAMES[activation]}, σ = {scale:.3g}; std: layer 1 {std_a[0]:.2g}, "
            f"layer {DEPTH} {std_a[-1]:.2g}",
            "Backward: gradients $dA^{[l-1]}$ that layer $l$ sends back\n"
            f"std: layer {DEPTH} {std_g[-1]:.2g}, layer 1 {std_g[0]:.2g}")


def _draw(fig, result: dict, values: dict) -> Callable:
    """The four panels, built once; returns ``update(result, values)``, which changes only
    what a slider move changes (pictures, curves, notes, titles, legend labels) over a
    ``Backdrop`` of everything else."""
    scale, activation = values["scale"], values["activation"]
    deep, circ = result["deep"], result["circles"]
    X, Y, iterations = values["_X"], values["_Y"], values["_iterations"]
    # Fixed axes positions: a layout engine would measure every text on each redraw.
    fig.set_layout_engine(None)
    ax_a, ax_g = fig.add_axes((0.07, 0.58, 0.39, 0.34)), fig.add_axes((0.56, 0.58, 0.39, 0.34))
    ax_b, ax_c = fig.add_axes((0.07, 0.07, 0.34, 0.38)), fig.add_axes((0.56, 0.07, 0.40, 0.38))
    title_a, title_g = _titles(scale, activation, deep)
    heat_a = _heatmap(ax_a, deep["activations"], title_a, "A", BLUES, activation)
    heat_g = _heatmap(ax_g, deep["gradients"], title_g, "dA", ORANGES, activation)

    # the circles net's decision regions, at the same place whether it diverged or not
    x0, x1, y0, y1 = circ["extent"]
    regions = draw_regions(ax_b, np.zeros(circ["shape"]), circ["extent"], circ["shape"])
    cache_pictures(regions)
    draw_points(ax_b, X, Y, size=10)
    points = list(ax_b.collections)
    diverged_note = ax_b.text(0.5, 0.5, "diverged:\nno decision boundary",
                              transform=ax_b.transAxes, ha="center", va="center", fontsize=12,
                              color=COLORS["vermillion"],
                              bbox={"facecolor": "white", "edgecolor": COLORS["vermillion"]})
    ax_b.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$")
    ax_b.grid(False)
    legend_b = ax_b.legend(loc="upper right", fontsize=7, frameon=True, framealpha=0.8)

    (cost_line,) = ax_c.plot([], [], color=CYCLE[0], label=" ")
    (cost_end,) = ax_c.plot([], [], "x", color=CYCLE[0], ms=10, mew=2)
    ax_c.set_yscale("log")
    ax_c.set(xlabel=circ["history"].unit, ylabel="cost $J$")
    ax_c.set_ylim(1e-3, 50)
    ax_c.yaxis.set_minor_locator(NullLocator())  # minor log ticks cost more than they show
    ax_c.set_yticks([1e-3, 1e-2, 1e-1, 1, 10], ["0.001", "0.01", "0.1", "1", "10"])
    ax_c.set_xlim(0, iterations)
    legend_c = ax_c.legend(loc="upper right")

    def update(result: dict, values: dict) -> None:
        scale, activation = values["scale"], values["activation"]
        deep, circ = result["deep"], result["circles"]
        title_a, title_g = _titles(scale, activation, deep)
        heat_a(deep["activations"], title_a, activation)
        heat_g(deep["gradients"], title_g, activation)
        hist = circ["history"]
        regions.set_visible(not hist.diverged)
        diverged_note.set_visible(hist.diverged)
        if hist.diverged:
            ax_b.set_title(f"Circles net, σ = {scale:.3g}: diverged", color=COLORS["vermillion"])
        else:
            if "_image" not in circ:  # the same array each time: its picture is reused
                circ["_image"] = np.asarray(circ["grid"], dtype=float).reshape(circ["shape"])
            regions.set_data(circ["_image"])
            ax_b.set_title(f"Circles net, every W with σ = {scale:.3g} (He: 1, 0.45, 0.63)\n"
                           f"train {100 * circ['train_acc']:.1f}%, "
                           f"test {100 * circ['test_acc']:.1f}%", color=COLORS["black"])
        steps, costs = np.asarray(hist.steps), np.asarray(hist.costs, dtype=float)
        ok = np.isfinite(costs)
        cost_line.set_data(steps[ok], costs[ok])
        end = hist.diverged and ok.any()
        cost_end.set_visible(bool(end))
        if end:
            cost_end.set_data(steps[ok][-1:], costs[ok][-1:])
        label = f"σ = {scale:.3g}" + (" (diverged)" if hist.diverged else "")
        cost_line.set_label(label)
        legend_c.get_texts()[0].set_text(label)
        ax_c.set_title(f"Circles net: cost (first {hist.costs[0]:.3g}, last "
                       f"{hist.costs[-1]:.3g})" if hist.costs else "Circles net: cost")

    update(result, values)
    stamp(ax_b.title, ax_c.title, *legend_c.get_texts())
    update.backdrop = Backdrop(
        fig, [*ax_a.moving, *ax_g.moving, regions, *points, diverged_note, ax_b.title, cost_line,
              cost_end, ax_c.title, legend_c],
        front=[*ax_a.front, *ax_g.front, legend_b, *ax_b.spines.values()])
    return update


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
    show: bool = True,
) -> Explorer:
    """Slider over the weights' standard deviation sigma (0.01 to 100, He's value marked) and a
    ReLU/tanh toggle for the deep net. Every net gets its weights from the learner's
    ``initialize_parameters_random(layers_dims, rng, scale=sigma)``."""
    import ipywidgets as w

    options = options or scale_options()
    default = min(options, key=lambda o: abs(o[1] - HE_SCALE))[1]
    controls = {
        "scale": w.SelectionSlider(options=options, value=default,
                                   description="σ of W", continuous_update=True,
                                   layout=w.Layout(width="420px"),
                                   style={"description_width": "60px"}),
        "activation": w.ToggleButtons(options=[("ReLU", "relu"), ("tanh", "tanh")],
                                      value="relu", description="deep net:",
                                      layout=w.Layout(margin="0 0 0 24px"),
                                      style={"button_width": "60px",
                                             "description_width": "initial"}),
    }
    circles_cache: dict[float, dict] = {}

    def compute(scale: float, activation: str) -> dict:
        if scale not in circles_cache:
            circles_cache[scale] = circles_run(
                initialize_parameters_random, scale, X_train, Y_train, X_test, Y_test,
                learning_rate=learning_rate, num_iterations=num_iterations)
        return {"deep": deep_signals(initialize_parameters_random, scale, activation),
                "circles": circles_cache[scale]}

    extra = {"_X": X_train, "_Y": Y_train, "_iterations": num_iterations}
    drawn: dict = {}

    def draw(fig, result, values):
        update = _draw(fig, result, {**values, **extra})

        def moved(result, values):
            update(result, {**values, **extra})

        drawn.update(update=moved, backdrop=update.backdrop)
        return moved

    ex = explorer(compute, draw, controls, figsize=(10, 7), layout=None, show=show)
    warm_up(ex, drawn)  # every setting's texts and pictures, prepared now
    return ex
