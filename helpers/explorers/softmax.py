"""Explorers and figures of notebook 06 (softmax regression, then TensorFlow).

train_numpy_net        full-batch gradient descent of a softmax net (no hidden layer, or one
                       ReLU hidden layer) whose cost and dZ come from the learner's
                       ``softmax_cross_entropy``; returns the core's History
explore_temperature    how a temperature T sharpens or flattens softmax(z / T), through the
                       learner's ``softmax``
explore_learning_rate_and_units
                       learning rate alpha (log) x hidden units -> train/dev cost and dev
                       accuracy curves, each setting trained once (helpers.explore)
plot_digit_grid        test digits with the predicted class and its probability
plot_confusion         a confusion matrix with its counts

Everything here is machinery: the graded pieces (softmax, one_hot, the cost and its gradient)
are always the learner's functions, passed in by the notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from helpers.explore import Explorer, explorer, fixed_layout, log_slider, slider
from helpers.network import backward_from_output, glorot_uniform, model_forward
from helpers.plots import COLORS
from helpers.training import History, one_blas_thread, train

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The logits one small network gave one image of a handwritten digit (classes 0..9): a clear
# favourite (3), a close runner-up (8) and a few plausible others.
DEFAULT_LOGITS = np.array([0.4, -1.1, 1.2, 3.1, -0.6, 1.9, -0.2, 0.3, 2.6, 0.9])


def _logits(X: np.ndarray, parameters: dict) -> np.ndarray:
    Z, _ = model_forward(X, parameters, hidden="relu", output="linear")
    return Z


def train_numpy_net(
    X_train: np.ndarray,
    labels_train: np.ndarray,
    X_dev: np.ndarray,
    labels_dev: np.ndarray,
    *,
    softmax_cross_entropy: Callable,
    one_hot: Callable,
    hidden_units: int = 0,
    learning_rate: float = 0.5,
    num_iterations: int = 150,
    monitor_every: int = 10,
    num_classes: int = 10,
    seed: int = 0,
) -> History:
    """Train X (n_x, m) -> [hidden ReLU layer] -> C logits by full-batch gradient descent.

    The cost J and dZ = dJ/dZ of the output layer come from the learner's
    ``softmax_cross_entropy(Z, Y) -> (cost, dZ)`` (the mean cost, and its gradient, which already
    holds the 1/m); dW = dZ A_prev^T and db = sum of dZ over the examples follow from it.
    ``hidden_units=0`` is softmax regression. History.monitor holds, every ``monitor_every``
    iterations, {"train_accuracy", "dev_accuracy", "dev_cost"}.
    """
    Y_train = np.asarray(one_hot(labels_train, num_classes), dtype=float)
    Y_dev = np.asarray(one_hot(labels_dev, num_classes), dtype=float)
    y_train = np.asarray(labels_train).reshape(-1)
    y_dev = np.asarray(labels_dev).reshape(-1)
    dims = [X_train.shape[0]] + ([int(hidden_units)] if hidden_units else []) + [num_classes]

    def cost(AL, Y):
        return softmax_cross_entropy(AL, Y)[0]

    def backward(AL, Y, cache):  # dZ of the mean cost already holds the 1/m
        return backward_from_output(softmax_cross_entropy(AL, Y)[1], cache, divide_by_m=False)

    def monitor(parameters):
        Z_dev = _logits(X_dev, parameters)
        Z_train = _logits(X_train, parameters)
        return {
            "train_accuracy": float((Z_train.argmax(axis=0) == y_train).mean()),
            "dev_accuracy": float((Z_dev.argmax(axis=0) == y_dev).mean()),
            "dev_cost": float(softmax_cross_entropy(Z_dev, Y_dev)[0]),
        }

    with one_blas_thread():
        return train(
            X_train, Y_train, dims, init=glorot_uniform, rng=np.random.default_rng(seed),
            cost=cost, backward=backward, learning_rate=learning_rate,
            num_iterations=num_iterations, hidden="relu", output="linear",
            monitor=monitor, monitor_every=monitor_every, progress=False,
        )



# ---------------------------------------------------------------- temperature
def plot_temperature(fig: Figure, p: np.ndarray, settings: dict, z: np.ndarray) -> Figure:
    """The temperature explorer's picture, in ``fig``: the fixed logits z, and the learner's
    softmax(z / T) (``p``) with its top probability and entropy. Returns ``fig``."""
    C = z.shape[0]
    fixed_layout(fig, left=0.06, wspace=0.2)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    classes = np.arange(C)
    top = int(np.argmax(z))
    colors = [COLORS["orange"] if c == top else COLORS["blue"] for c in classes]
    ax1.bar(classes, z.ravel(), color=colors, label="logit $z_c$")
    ax1.axhline(0, color="black", lw=0.8)
    ax1.set(title="Fixed logits $z$ (the network's scores)", xlabel="class $c$",
            ylabel="$z_c$", xticks=classes)
    ax1.legend(loc="upper left")
    ax2.bar(classes, p[:C], color=colors, label="softmax$(z/T)_c$")
    ax2.axhline(1 / C, color=COLORS["vermillion"], ls="--", lw=1.2, label=f"uniform 1/{C}")
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = float(-(p * np.log(np.where(p > 0, p, 1.0))).sum())
    ax2.set(title=f"T = {settings['T']:.3g}: top probability {p[top]:.2f}, entropy "
                  f"{entropy:.2f} (max {np.log(C):.2f})",
            xlabel="class $c$", ylabel="probability", ylim=(0, 1.02), xticks=classes)
    ax2.legend(loc="upper left")
    return fig


def explore_temperature(softmax: Callable, logits: Sequence[float] | None = None, *,
                        show: bool = True) -> Explorer:
    """A slider over the temperature T: the learner's softmax(z / T) for fixed logits z."""
    z = np.asarray(DEFAULT_LOGITS if logits is None else logits, dtype=float).reshape(-1, 1)

    def compute(settings: dict) -> np.ndarray:
        return np.asarray(softmax(z / settings["T"]), dtype=float).reshape(-1)

    controls = {"T": log_slider("T (temperature)", -1.5, 1.5, 0.25, 1.0)}
    return explorer(controls, compute, partial(plot_temperature, z=z), figsize=(10, 3.6),
                    title="temperature explorer", checked=[softmax], display=show)


# ---------------------------------------------------------------- alpha x hidden units
UNIT_COLORS = [COLORS[c] for c in ("black", "sky", "green", "purple", "blue", "orange")]


def summarize_run(hist: History) -> dict:
    """What the α × units figure needs from one training run."""
    out = {
        "diverged": hist.diverged, "message": hist.message,
        "steps": np.asarray(hist.steps), "costs": np.asarray(hist.costs, dtype=float),
        "m_steps": np.asarray([s for s, _ in hist.monitor]),
        "dev_cost": np.asarray([d["dev_cost"] for _, d in hist.monitor]),
        "dev_acc": np.asarray([d["dev_accuracy"] for _, d in hist.monitor]),
        "train_acc": np.asarray([d["train_accuracy"] for _, d in hist.monitor]),
    }
    out["final_dev"] = (float("nan") if hist.diverged or not len(out["dev_acc"])
                        else float(out["dev_acc"][-1]))
    return out


def _cost_panel(ax, r: dict, num_iterations: int) -> None:
    ok = np.isfinite(r["costs"])
    diverged = bool(r["diverged"])
    ax.plot(r["steps"][ok], r["costs"][ok], color=COLORS["blue"],
            label="train cost (diverged)" if diverged else "train cost")
    if diverged and ok.any():
        ax.plot(r["steps"][ok][-1:], r["costs"][ok][-1:], "x", color=COLORS["vermillion"],
                ms=10, mew=2, label="diverged here")
    ax.plot(r["m_steps"], r["dev_cost"], "o-", ms=3, color=COLORS["orange"], label="dev cost")
    ax.set(title="Cost $J$" + (" (diverged)" if diverged else ""), xlabel="iteration",
           ylabel="cost $J$", xlim=(-2, num_iterations + 2), ylim=(0, _nice_top(_highest(r))))
    ax.legend()


def _accuracy_panel(ax, r: dict, alpha: float, hidden: int, num_iterations: int) -> None:
    diverged = bool(r["diverged"])
    if len(r["m_steps"]) and not diverged:
        ax.plot(r["m_steps"], 100 * r["train_acc"], color=COLORS["blue"], label="train")
        ax.plot(r["m_steps"], 100 * r["dev_acc"], color=COLORS["orange"], label="dev")
        ax.legend(loc="lower right")
    if diverged:
        ax.text(num_iterations / 2, 50, r["message"].split(":")[0] + ":\nthe learning rate is "
                "too large", ha="center", va="center", color=COLORS["vermillion"])
    final = "diverged" if diverged else f"dev {100 * r['final_dev']:.1f}%"
    width = "softmax regression" if hidden == 0 else f"{hidden} hidden units"
    ax.set(title=f"α = {alpha:.3g}, {width}: {final}", xlabel="iteration",
           ylabel="accuracy (%)", ylim=(0, 101), xlim=(-2, num_iterations + 2))


def _sweep_panel(ax, sweep: dict, units: Sequence[int], alphas: Sequence[float],
                 here: tuple[float, float]) -> None:
    for i, u in enumerate(units):
        pts = sorted((a, r["final_dev"]) for (a, h), r in sweep.items() if h == u)
        if not pts:
            continue
        xs, ys = (np.asarray(v) for v in zip(*pts, strict=True))
        color = UNIT_COLORS[i % len(UNIT_COLORS)]
        ax.plot(xs, 100 * ys, "o-", ms=3, lw=1.2, color=color,
                label=f"{u} units" if u else "no hidden layer")
        bad = ~np.isfinite(ys)
        if bad.any():
            ax.plot(xs[bad], np.full(bad.sum(), 3.0 + 3 * i), "x", ms=6, mew=1.5, color=color)
    if np.isfinite(here[1]):
        ax.plot([here[0]], [100 * here[1]], "o", ms=11, mfc="none", color=COLORS["vermillion"],
                mew=2)
    ax.set(xscale="log", title="Final dev accuracy (x: diverged, ○: now)", xlabel="α",
           ylabel="dev accuracy (%)", ylim=(0, 101),
           xlim=(min(alphas) / 1.5, max(alphas) * 1.5))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="lower center")


def plot_learning_rate_and_units(fig: Figure, result: dict, settings: dict,
                                 units: Sequence[int], alphas: Sequence[float],
                                 num_iterations: int) -> Figure:
    """The α × hidden units explorer's picture of one setting, in ``fig``: cost; train/dev
    accuracy during training; final dev accuracy of every setting so far. Returns ``fig``."""
    r, a, h = result["run"], settings["alpha"], settings["hidden"]
    fixed_layout(fig, left=0.05, right=0.99, wspace=0.3)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    _cost_panel(ax1, r, num_iterations)
    _accuracy_panel(ax2, r, a, h, num_iterations)
    _sweep_panel(ax3, result["sweep"], units, alphas, (a, r["final_dev"]))
    return fig


def explore_learning_rate_and_units(*data: np.ndarray, num_iterations: int = 120,
                                    units: Sequence[int] = (0, 4, 16, 32), show: bool = True,
                                    **learner: Callable) -> Explorer:
    """Sliders for the learning rate alpha (log) and the hidden units (0 = softmax regression).

    ``data`` (X_train, labels_train, X_dev, labels_dev) and ``learner`` (the learner's
    ``softmax_cross_entropy=`` and ``one_hot=``) go to ``train_numpy_net`` as they are. Each
    setting is trained once (full-batch gradient descent through the learner's
    softmax_cross_entropy); the figure shows the train/dev cost, the train/dev accuracy during
    training and the final dev accuracy of every alpha for each width trained so far."""
    names = ("softmax_cross_entropy", "one_hot")
    if len(data) != 4 or sorted(learner) != sorted(names):
        raise TypeError("call explore_learning_rate_and_units(X_train, labels_train, X_dev, "
                        "labels_dev, softmax_cross_entropy=..., one_hot=...), not with "
                        f"{len(data)} arrays and {sorted(learner)}")
    controls = {"alpha": log_slider("α (learning rate)", -2, 1, 0.5, 10 ** -0.5),
                "hidden": slider("hidden units", list(units), 32 if 32 in units else units[-1])}

    def run(settings: dict) -> dict:
        return summarize_run(train_numpy_net(
            *data, **learner, hidden_units=settings["hidden"], learning_rate=settings["alpha"],
            num_iterations=num_iterations))

    plot = partial(plot_learning_rate_and_units, units=list(units),
                   alphas=controls["alpha"].values, num_iterations=num_iterations)
    return explorer(controls, {"run": (run, ["alpha", "hidden"])}, plot, figsize=(12, 3.6),
                    sweep="run", title="α × hidden units explorer",
                    checked=[learner[n] for n in names], display=show)


def _highest(r: dict) -> float:
    """The highest finite cost (train or dev) of a run of the alpha x units explorer."""
    costs = np.concatenate([np.asarray(r["costs"], dtype=float).ravel(),
                            np.asarray(r["dev_cost"], dtype=float).ravel()])
    costs = costs[np.isfinite(costs)]
    return float(costs.max()) if costs.size else 1.0


def _nice_top(value: float) -> float:
    """A round number a little above ``value``: 1, 1.5, 2, 3, 4, 5, 6, 8 times a power of 10."""
    value = 1.05 * max(float(value), 1e-9)
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(f * power for f in (1, 1.5, 2, 3, 4, 5, 6, 8, 10) if f * power >= value))


# ---------------------------------------------------------------- figures
def plot_digit_grid(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, *,
                    rows: int = 3, cols: int = 8, title: str = "",
                    fig: Figure | None = None) -> Figure:
    """Digits (64, k) as 8x8 images, each with a bar chart of its predicted probabilities
    (10, k) below it and a title with the predicted class and its probability; wrong ones in
    bold vermillion, with the true label. labels (k,)."""
    import matplotlib.pyplot as plt

    labels = np.asarray(labels).reshape(-1)
    probabilities = np.asarray(probabilities)
    C = probabilities.shape[0]
    n = min(rows * cols, images.shape[1])
    if fig is None:
        fig = plt.figure(figsize=(1.3 * cols, 2.0 * rows + 0.6))
    # a fixed layout: constrained layout would take seconds for 2 x rows x cols axes
    outer = fig.add_gridspec(rows, cols, left=0.03, right=0.99, bottom=0.07,
                             top=1 - 0.55 / (2.0 * rows + 0.6), hspace=0.3, wspace=0.12)
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        inner = outer[r, c].subgridspec(2, 1, height_ratios=[3, 1.1], hspace=0.05)
        ax_img = fig.add_subplot(inner[0])
        ax_bar = fig.add_subplot(inner[1])
        ax_img.axis("off")
        if k >= n:
            ax_bar.axis("off")
            continue
        ax_img.imshow(images[:, k].reshape(8, 8), cmap="gray_r", interpolation="nearest")
        p = probabilities[:, k]
        pred = int(p.argmax())
        right = pred == labels[k]
        text = f"{pred}: {p[pred]:.0%}" + ("" if right else f" (true {labels[k]})")
        ax_img.set_title(text, fontsize=9, color=COLORS["black"] if right else COLORS["vermillion"],
                         fontweight="normal" if right else "bold")
        colors = [COLORS["blue"]] * C
        colors[pred] = COLORS["blue"] if right else COLORS["vermillion"]
        if not right:
            colors[int(labels[k])] = COLORS["green"]
        ax_bar.bar(np.arange(C), p, color=colors, width=0.8)
        ax_bar.set(ylim=(0, 1), xticks=[0, 5, 9] if k % cols == 0 else [],
                   yticks=[0, 1] if k % cols == 0 else [], xlim=(-0.6, C - 0.4))
        ax_bar.tick_params(labelsize=6, length=2, pad=1)
        ax_bar.grid(False)
    fig.suptitle(title or "Test digits and their predicted probabilities")
    fig.text(0.5, 0.01, "bars: probability of classes 0..9 (green: the true class of a wrong "
             "prediction, vermillion: the wrong prediction)", ha="center", fontsize=8)
    return fig


def plot_confusion(cm: np.ndarray, *, ax: Axes | None = None,
                   title: str = "Confusion matrix (test set)") -> Axes:
    """Counts cm[i, j] of examples of true class i predicted as j, written in each cell."""
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 4.6), layout="constrained")
    im = ax.imshow(cm, cmap="cividis", interpolation="nearest")
    C = cm.shape[0]
    for i in range(C):
        for j in range(C):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="black" if cm[i, j] > cm.max() / 2 else "white")
    ax.set(title=title, xlabel="predicted class", ylabel="true class",
           xticks=range(C), yticks=range(C))
    ax.grid(False)
    ax.figure.colorbar(im, ax=ax, label="number of test digits")
    return ax
