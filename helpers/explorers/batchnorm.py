"""Figures and slider explorers for notebook 08: batch normalization.

Everything here runs the learner's own functions, passed in by the notebook as a dict
``fns = {"bn_forward": batchnorm_forward, "bn_backward": batchnorm_backward,
"update_running_stats": update_running_stats, "bn_inference": batchnorm_inference}``;
nothing here normalizes, scales or averages statistics itself (helpers.batchnorm_net is the
machinery that calls those functions).

* ``train_runs`` / ``plot_learning_rates``: the deep ReLU net with and without batch norm at
  several learning rates (cost curves, test accuracy).
* ``plot_layer_distributions``: each hidden layer's Z during training, with and without.
* ``test_accuracies`` / ``plot_test_statistics``: test accuracy with batch statistics (for
  batches of 1 … all examples) against the running averages.
* ``explore_learning_rate``: α × batch norm on/off.
* ``explore_batch_size``: the mini-batch size and the noise in a unit's batch statistics.
* ``explore_momentum``: the running average's momentum and how far it lags.

Each explorer's picture is ``plot_<what>(fig, result, settings, ...)`` beside its
``explore_<what>`` (the figure convention of helpers/plots.py): ``plot_learning_rate`` draws
one (α, batch norm) setting, ``plot_learning_rates`` every α at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from helpers import batchnorm_net as bn
from helpers.explore import Explorer, checkbox, explorer, fixed_layout, log_slider, slider
from helpers.plots import COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LAYERS_DIMS = [64, 32, 32, 32, 32, 32, 1]  # five hidden ReLU layers, one sigmoid output
NUM_STEPS = 300
BATCH_SIZE = 64
SEED = 0
LEARNING_RATES = [float(10.0 ** (k / 2)) for k in range(-4, 3)]  # 10^-2 … 10^1, half-decades
PROBE = 256  # training examples whose per-layer Z is recorded during training
SNAPSHOT_EVERY = 10
CHECKPOINT_EVERY = 20  # parameters kept every 20 steps (the momentum slider's test accuracy)
SMOOTH = 15  # the cost curves are averaged over this many steps (one batch's cost is noisy)
UNIT = (1, 0)  # (layer, unit) whose batch statistics the batch-size and momentum sliders follow
BATCH_SIZES = [2, 4, 8, 16, 32, 64, 128, 256]
MOMENTA = [0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999]
TEST_BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
# fixed axes positions (no layout engine: a slider redraw then renders the figure once)
GRID = {"left": 0.07, "right": 0.98, "bottom": 0.14, "top": 0.88, "wspace": 0.3}
STYLE = {False: (COLORS["orange"], "without batch norm"), True: (COLORS["blue"], "with batch norm")}


# ---------------------------------------------------------------- training runs
def train_one(X_train, Y_train, X_test, Y_test, fns: Mapping, *, learning_rate: float,
              batchnorm: bool, num_steps: int = NUM_STEPS, momentum: float = 0.9,
              seed: int = SEED, **extra) -> dict:
    """One run of the LAYERS_DIMS net (``bn.train``) and what the figures need from it:
    the run, its smoothed costs, and its test accuracy with running statistics (None if it
    diverged)."""
    run = bn.train(X_train, Y_train, LAYERS_DIMS, rng=np.random.default_rng(seed),
                   learning_rate=learning_rate, num_steps=num_steps, batch_size=BATCH_SIZE,
                   batchnorm=batchnorm, bn_forward=fns["bn_forward"],
                   bn_backward=fns["bn_backward"],
                   update_running_stats=fns["update_running_stats"], momentum=momentum,
                   snapshot_every=SNAPSHOT_EVERY, probe=X_train[:, :PROBE],
                   keep_batch_stats=batchnorm, checkpoint_every=CHECKPOINT_EVERY, **extra)
    acc = None
    if not run.diverged:
        acc = bn.evaluate(X_test, Y_test, run.parameters, bn_inference=fns["bn_inference"],
                          running=run.running)
    return {"run": run, "smooth": smooth(run.costs), "test_acc": acc,
            "learning_rate": learning_rate, "batchnorm": batchnorm}


def smooth(costs: Sequence[float], k: int = SMOOTH) -> np.ndarray:
    """The mean of each window of k consecutive costs (fewer at the start)."""
    c = np.asarray(costs, dtype=float)
    if c.size == 0:
        return c
    s = np.cumsum(np.concatenate([[0.0], c]))
    lo = np.maximum(np.arange(1, c.size + 1) - k, 0)
    return (s[1:] - s[lo]) / (np.arange(1, c.size + 1) - lo)


def rate_key(learning_rate: float) -> float:
    """A learning rate rounded to 3 significant digits, as runs are keyed and shown (10^-0.5
    is 0.316)."""
    return float(f"{float(learning_rate):.3g}")


def train_runs(X_train, Y_train, X_test, Y_test, fns: Mapping,
               learning_rates: Sequence[float] = LEARNING_RATES) -> dict:
    """{(rate_key(learning_rate), batchnorm): train_one(...)} for every rate, with and
    without batch norm."""
    return {(rate_key(lr), b): train_one(X_train, Y_train, X_test, Y_test, fns,
                                         learning_rate=lr, batchnorm=b)
            for lr in learning_rates for b in (False, True)}


def _status(res: dict) -> str:
    if res["run"].diverged:
        return "diverged"
    return f"test {100 * res['test_acc']:.1f}%"


def plot_learning_rates(runs: Mapping) -> Figure:
    """Smoothed cost curves per learning rate, without and with batch norm, and the test
    accuracy against α."""
    import matplotlib.pyplot as plt

    lrs = sorted({lr for lr, _ in runs})
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9), layout="constrained",
                             width_ratios=[1, 1, 0.9])
    shades = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(lrs)))
    for ax, b in zip(axes[:2], (False, True)):
        for lr, color in zip(lrs, shades):
            res = runs[(lr, b)]
            label = f"α = {lr:.3g}: {_status(res)}"
            ax.plot(res["smooth"], color=color, label=label)
            if res["run"].diverged and len(res["smooth"]):
                ax.plot(len(res["smooth"]) - 1, min(res["smooth"][-1], 1.15), "x", color=color,
                        ms=10, mew=2)
        ax.set(title=STYLE[b][1], xlabel="step (mini-batch of 64)",
               ylabel=f"cost $J$ (mean of {SMOOTH} batches)", ylim=(0, 1.2))
        ax.legend(fontsize=8, loc="upper right")
    ax = axes[2]
    for b in (False, True):
        accs = [runs[(lr, b)]["test_acc"] for lr in lrs]
        ok = [a is not None for a in accs]
        color, name = STYLE[b]
        ax.plot(np.array(lrs)[ok], [100 * a for a in accs if a is not None], "o-", color=color,
                label=name)
        for lr, a in zip(lrs, accs):
            if a is None:
                ax.plot(lr, 50, "x", color=color, ms=10, mew=2)
    ax.set_xscale("log")
    ax.set(title="Test accuracy after 300 steps\n(x: diverged)", xlabel="learning rate α",
           ylabel="test accuracy (%)", ylim=(45, 100))
    ax.legend(fontsize=8, loc="lower left")
    return fig


# ---------------------------------------------------------------- per-layer distributions
def _bands(run: bn.Run, which: int) -> tuple[np.ndarray, np.ndarray]:
    """steps (k,), quantiles (k, layers, 5) of Z_in (which=0) or Z (which=1)."""
    steps = np.array([s for s, _ in run.snapshots])
    q = np.array([[layer[which] for layer in qs] for _, qs in run.snapshots])
    return steps, q


def plot_layer_distributions(plain: dict, with_bn: dict) -> Figure:
    """For every hidden layer, how the distribution of its activation's input moves during
    training: the plain net's Z (top) and the batch-normalized net's Z and Z̃ (bottom),
    measured on the same 256 training examples. Bands: 16–84 % and 2–98 % of the values."""
    import matplotlib.pyplot as plt

    L1 = len(plain["run"].snapshots[0][1])
    fig, axes = plt.subplots(2, L1, figsize=(13, 5.2), layout="constrained", sharex=True,
                             sharey="row")
    rows = ((plain, 0, COLORS["orange"], "$Z^{[l]}$ without batch norm"),
            (with_bn, 0, COLORS["blue"], r"$\tilde Z^{[l]}$ with batch norm"))
    for r, (res, which, color, name) in enumerate(rows):
        steps, q = _bands(res["run"], which)
        _, q_raw = _bands(res["run"], 1)
        for l in range(L1):
            ax = axes[r, l]
            ax.fill_between(steps, q[:, l, 0], q[:, l, 4], color=color, alpha=0.25, lw=0,
                            label="2–98 %")
            ax.fill_between(steps, q[:, l, 1], q[:, l, 3], color=color, alpha=0.5, lw=0,
                            label="16–84 %")
            ax.plot(steps, q[:, l, 2], color=color, lw=1.5, label="median")
            if r == 1:
                ax.plot(steps, q_raw[:, l, 1], color=COLORS["black"], lw=0.8, ls=":")
                ax.plot(steps, q_raw[:, l, 3], color=COLORS["black"], lw=0.8, ls=":",
                        label="$Z^{[l]}$ before\nnormalizing (16–84 %)")
            ax.set_title(f"layer {l + 1}", fontsize=10)
            if l == 0:
                ax.set_ylabel(name)
            if r == 1:
                ax.set_xlabel("step")
        axes[r, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    lr = plain["learning_rate"]
    fig.suptitle(f"The input of each hidden layer's ReLU during training (α = {lr:.3g}, the "
                 f"same 256 training examples)")
    return fig


# ---------------------------------------------------------------- batch vs running statistics
def test_accuracies(X_test, Y_test, res: dict, fns: Mapping,
                    batch_sizes: Sequence[int] = TEST_BATCH_SIZES) -> dict:
    """Test accuracy of a batch-normalized run: with batch statistics, feeding the test set in
    batches of each size (and all at once), and with the running averages."""
    run = res["run"]
    batch = {size: bn.evaluate(X_test, Y_test, run.parameters, stats="batch", batch_size=size,
                               bn_forward=fns["bn_forward"])
             for size in [*batch_sizes, X_test.shape[1]]}
    running = bn.evaluate(X_test, Y_test, run.parameters, stats="running",
                          bn_inference=fns["bn_inference"], running=run.running)
    return {"batch": batch, "running": running}


def plot_test_statistics(accs: dict, ax: Axes | None = None) -> Axes:
    """Test accuracy against the size of the test batches, batch statistics vs running ones."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
    sizes = sorted(accs["batch"])
    vals = [100 * accs["batch"][s] for s in sizes]
    ax.plot(sizes, vals, "o-", color=COLORS["orange"],
            label="batch statistics (training mode at test time)")
    ax.axhline(100 * accs["running"], color=COLORS["blue"], lw=2,
               label=f"running averages: {100 * accs['running']:.1f}% for any batch size")
    ax.annotate(f"a batch of one: {vals[0]:.1f}%", (sizes[0], vals[0]), xytext=(12, 0),
                textcoords="offset points", va="center", fontsize=9)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set(xlabel="test examples normalized together (batch size)", ylabel="test accuracy (%)",
           title="Test accuracy: batch statistics vs running averages", ylim=(40, 100))
    ax.legend(fontsize=8, loc="lower right")
    return ax


# ---------------------------------------------------------------- explorer: α x batch norm
def _lr_result(learning_rate: float, batchnorm: bool, *, data: tuple, fns: Mapping,
               known: Mapping) -> dict:
    key = (rate_key(learning_rate), bool(batchnorm))
    for (lr, b), res in known.items():
        if (rate_key(lr), bool(b)) == key:
            return res
    return train_one(*data, fns, learning_rate=learning_rate, batchnorm=batchnorm)


def _final_spread(res: dict) -> np.ndarray:
    """(layers, 5) quantiles of each layer's activation input at the last snapshot."""
    return np.array(res["run"].snapshots[-1][1])[:, 0, :]


def plot_learning_rate(fig: Figure, result: dict, settings: dict) -> Figure:
    """The α × batch norm explorer's picture of one setting, in ``fig``: the cost curve of the
    run (``train_one``), and each hidden layer's spread of Z at the end. Returns ``fig``."""
    fixed_layout(fig)
    ax_c, ax_z = fig.subplots(1, 2, width_ratios=[1.2, 1], gridspec_kw=dict(GRID, top=0.84))
    run, (color, name) = result["run"], STYLE[bool(settings["batchnorm"])]
    s = result["smooth"]
    ax_c.plot(np.arange(s.size), s, lw=1.8, color=color)
    if run.diverged and s.size:
        ax_c.plot(s.size - 1, min(s[-1], 1.15), "x", ms=10, mew=2, color=color)
    verdict = (f"DIVERGED at step {len(run.costs)}" if run.diverged else
               f"test accuracy {100 * result['test_acc']:.1f}%")
    ax_c.set_title(f"{name}, α = {settings['learning_rate']:.3g}: {verdict}", fontsize=10,
                   color=COLORS["vermillion"] if run.diverged else "black")
    ax_c.set(xlim=(0, NUM_STEPS), ylim=(0, 1.2), xlabel="step (mini-batch of 64)",
             ylabel=f"cost $J$ (mean of {SMOOTH} batches)")
    q = _final_spread(result)
    layers = np.arange(1, q.shape[0] + 1)
    ax_z.bar(layers, q[:, 4] - q[:, 0], bottom=q[:, 0], width=0.6, alpha=0.3, color=color,
             label="2–98 %")
    ax_z.bar(layers, q[:, 3] - q[:, 1], bottom=q[:, 1], width=0.6, alpha=0.7, color=color,
             label="16–84 %")
    ax_z.plot(layers, q[:, 2], "_", ms=22, mew=2, color="black", label="median")
    ticks = [-100, -10, -1, 0, 1, 10, 100]
    ax_z.set(xticks=layers, xlabel="hidden layer l", yscale="symlog", ylim=(-1e3, 1e3),
             ylabel="input of the ReLU" + (r" ($\tilde Z$)" if settings["batchnorm"] else " (Z)"))
    ax_z.set_yticks(ticks, [str(t) for t in ticks])
    ax_z.set_title(f"its spread at step {run.snapshots[-1][0]} (256 examples)\n"
                   "bars: middle 68 % and 96 %; black: median", fontsize=10)
    return fig


def explore_learning_rate(X_train, Y_train, X_test, Y_test, fns: Mapping, *,
                          known: Mapping | None = None, show: bool = True) -> Explorer:
    """Sliders: the learning rate α (10^-2 … 10^1) and batch norm on/off. The net is trained
    with the learner's functions for each setting (``known``: runs from ``train_runs``)."""
    controls = {"learning_rate": log_slider("learning rate α", -2, 1, 0.5, 1.0),
                "batchnorm": checkbox("batch norm on (normalize Z in every hidden layer)", True)}
    compute = partial(_lr_result, data=(X_train, Y_train, X_test, Y_test), fns=fns,
                      known=dict(known or {}))
    return explorer(controls, lambda s: compute(**s), plot_learning_rate, figsize=(10, 3.6),
                    title="α × batch norm explorer", checked=list(fns.values()), display=show)


# ---------------------------------------------------------------- explorer: mini-batch size
def unit_statistics(X, parameters: dict, fns: Mapping, unit: tuple[int, int] = UNIT,
                    *, batch_size: int | None = None, draws: int = 1,
                    rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The batch mean and variance of one unit (layer, row) as the learner's batchnorm_forward
    computes them: for ``draws`` random batches of ``batch_size`` examples of X (all of X once
    if batch_size is None). Returns (mu (draws,), var (draws,))."""
    layer, row = unit
    mus, vars_ = [], []
    for _ in range(draws):
        Xb = X if batch_size is None else X[:, rng.permutation(X.shape[1])[:batch_size]]
        _, caches = bn.forward(Xb, parameters, bn_forward=fns["bn_forward"], upto=layer)
        mu, var = bn._bn_stats(caches[layer - 1].bn_cache, layer)
        mus.append(float(np.ravel(mu)[row]))
        vars_.append(float(np.ravel(var)[row]))
    return np.array(mus), np.array(vars_)


def spread(values) -> float:
    """Half the width of the middle 68 % of the values (one standard deviation for a bell
    curve; robust to the few far-off batches)."""
    lo, hi = np.percentile(values, [16, 84])
    return float(hi - lo) / 2


def _batch_size_result(batch_size: int, *, X_train, res: dict, fns: Mapping) -> dict:
    params = res["run"].parameters
    with np.errstate(all="ignore"):
        mu, var = unit_statistics(X_train, params, fns, batch_size=int(batch_size), draws=200,
                                  rng=np.random.default_rng(SEED + int(batch_size)))
    return {"mu": mu, "var": var}


def plot_batch_size(fig: Figure, result: dict, settings: dict) -> Figure:
    """The mini-batch size explorer's picture, in ``fig``: histograms of a unit's batch mean
    and variance (``result["stats"]``) against the whole training set's, and the test accuracy
    against the test batch size (``result["setup"]``). Returns ``fig``."""
    fixed_layout(fig)
    ax_m, ax_v, ax_a = fig.subplots(1, 3, width_ratios=[1, 1, 1.1], gridspec_kw=GRID)
    size = int(settings["batch_size"])
    stats, (mu0, var0), curve = result["stats"], result["setup"]["truth"], result["setup"]["curve"]
    sd = var0 ** 0.5
    for ax, data, lim, true, sym in ((ax_m, stats["mu"], (mu0 - 3 * sd, mu0 + 3 * sd), mu0,
                                      r"$\mu_B$"),
                                     (ax_v, stats["var"], (0.0, 4 * var0), var0,
                                      r"$\sigma^2_B$")):
        edges = np.linspace(*lim, 31)
        ax.hist(np.clip(data, edges[0], edges[-1]), edges, color=COLORS["sky"],
                edgecolor="white", lw=0.3, label="200 random batches")
        ax.axvline(true, color=COLORS["black"], lw=2, ls="--",
                   label=f"whole training set: {true:.2f}")
        ax.set(xlim=lim, ylim=(0, 200), xlabel=f"{sym} of one batch",
               ylabel="batches (of 200)")
        ax.set_title(f"{sym}, batches of {size}: spread {spread(data):.3f}", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
    sizes = sorted(curve["batch"])
    ax_a.plot(sizes, [100 * curve["batch"][s] for s in sizes], "o-", color=COLORS["orange"],
              label="batch statistics at test time")
    ax_a.axhline(100 * curve["running"], color=COLORS["blue"], lw=2, label="running averages")
    ax_a.plot([size], [100 * curve["batch"][size]], "o", ms=12, mfc="none",
              mec=COLORS["vermillion"], mew=2, label=f"test batches of {size}")
    ax_a.set_xscale("log", base=2)
    ax_a.set_xticks(sizes, [str(s) for s in sizes])
    ax_a.set(xlabel="test batch size", ylabel="test accuracy (%)", ylim=(40, 100))
    ax_a.set_title("test accuracy by test batch size", fontsize=10)
    ax_a.legend(fontsize=8, loc="lower right")
    return fig


def _batch_size_setup(X_train, X_test, Y_test, res: dict, fns: Mapping,
                      accs: dict | None) -> dict:
    """What every mini-batch size's picture shares: the unit's statistics over the whole
    training set, and the test accuracy with batch statistics vs running averages."""
    with np.errstate(all="ignore"):
        mu, var = unit_statistics(X_train, res["run"].parameters, fns)
    curve = accs or test_accuracies(X_test, Y_test, res, fns, batch_sizes=BATCH_SIZES)
    return {"truth": (float(mu[0]), float(var[0])),
            "curve": {"running": curve["running"],
                      "batch": {s: a for s, a in curve["batch"].items() if s in BATCH_SIZES}}}


def explore_batch_size(X_train, X_test, Y_test, res: dict, fns: Mapping, *,
                       accs: dict | None = None, show: bool = True) -> Explorer:
    """Slider: the mini-batch size m (2 … 256). For a trained batch-normalized run ``res``,
    the batch mean and variance of one unit over 200 random batches of that size, against the
    whole training set's; and the test accuracy with batch statistics vs running averages
    (``accs``: ``test_accuracies`` of the same run, if already measured)."""
    size = slider("mini-batch size m (examples per batch)", BATCH_SIZES, BATCH_SIZE, "{:d}")
    parts = {
        "setup": (lambda _: _batch_size_setup(X_train, X_test, Y_test, res, fns, accs), []),
        "stats": (lambda s: _batch_size_result(s["batch_size"], X_train=X_train, res=res,
                                               fns=fns), ["batch_size"]),
    }
    return explorer({"batch_size": size}, parts, plot_batch_size, figsize=(12, 3.6),
                    title="mini-batch size explorer", checked=list(fns.values()), display=show)


# ---------------------------------------------------------------- explorer: momentum
def replay_running(run: bn.Run, update, momentum: float) -> list[dict]:
    """The running statistics after each step (index t: after t updates, from mean 0 and
    variance 1), recomputed from the run's recorded batch statistics with the learner's
    ``update_running_stats`` and this momentum (the momentum does not change training)."""
    layers = bn.bn_layers(run.parameters)
    running = bn.init_running_stats(run.parameters)
    out = [running]
    for stats in run.batch_stats:
        running = dict(running)
        for l, (mu, var) in zip(layers, stats):
            running[f"mean{l}"], running[f"var{l}"] = update(
                running[f"mean{l}"], running[f"var{l}"], mu, var, momentum)
        out.append(running)
    return out


def _momentum_result(momentum: float, *, res: dict, fns: Mapping, X_test, Y_test) -> dict:
    run = res["run"]
    layer, row = UNIT
    history = replay_running(run, fns["update_running_stats"], float(momentum))
    acc = [bn.evaluate(X_test, Y_test, p, bn_inference=fns["bn_inference"],
                       running=history[t]) for t, p in run.checkpoints]
    return {"running_mean": np.array([float(np.ravel(r[f"mean{layer}"])[row])
                                      for r in history]),
            "acc": np.array(acc)}


def plot_momentum(fig: Figure, result: dict, settings: dict, *, res: dict) -> Figure:
    """The momentum explorer's picture, in ``fig``: a unit's batch means in the run ``res``,
    its running mean with this momentum (``result["replay"]``) and the training set's mean
    (``result["truth"]``); the test accuracy along training. Returns ``fig``."""
    run, truth, replay = res["run"], result["truth"], result["replay"]
    layer, row = UNIT
    mom = float(settings["momentum"])
    fixed_layout(fig)
    ax_s, ax_a = fig.subplots(1, 2, width_ratios=[1.3, 1], gridspec_kw=dict(GRID, top=0.84))
    index = bn.bn_layers(run.parameters).index(layer)
    batch_mu = [float(np.ravel(s[index][0])[row]) for s in run.batch_stats]
    ax_s.plot(np.arange(len(batch_mu)), batch_mu, ".", ms=2.5, color=COLORS["sky"],
              label=r"$\mu_B$ of each mini-batch")
    ax_s.plot(truth["steps"], truth["mu"], "s--", ms=4, color=COLORS["black"], lw=1,
              label=r"$\mu$ over the whole training set")
    r = replay["running_mean"]
    ax_s.plot(np.arange(r.size), r, color=COLORS["vermillion"], lw=2, label="running mean")
    lo, hi = np.percentile(batch_mu, [1, 99])
    lo, hi = min(lo, 0.0), max(hi, 0.0)  # the running mean starts at 0
    t = len(run.batch_stats)
    ax_s.set(xlabel="step", ylabel=f"mean of unit {row + 1} of layer {layer}",
             ylim=(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)))
    ax_s.set_title(f"momentum {mom:g}: averages ≈ 1/(1 − {mom:g}) = {1 / (1 - mom):.0f} steps;"
                   f" after {t} steps\nthe starting value 0 still weighs {mom:g}^{t} = "
                   f"{100 * mom ** t:.1f}%", fontsize=10)
    ax_s.legend(fontsize=8, loc="best")
    steps = [s for s, _ in run.checkpoints]
    ax_a.plot(steps, 100 * truth["batch_acc"], "--", color=COLORS["orange"],
              label="whole test set's own statistics")
    ax_a.plot(steps, 100 * replay["acc"], "o-", color=COLORS["vermillion"], ms=4,
              label=f"running averages (momentum {mom:g})")
    ax_a.set(xlabel="step", ylabel="test accuracy (%)", ylim=(40, 100))
    ax_a.set_title("test accuracy along training", fontsize=10)
    ax_a.legend(fontsize=8, loc="lower right")
    return fig


def _momentum_setup(X_train, X_test, Y_test, run: bn.Run, fns: Mapping) -> dict:
    """What every momentum's picture shares: the unit's mean over the whole training set and
    the test accuracy with the test set's own statistics, at each checkpoint."""
    with np.errstate(all="ignore"):
        return {"steps": [t for t, _ in run.checkpoints],
                "mu": [float(unit_statistics(X_train, p, fns)[0][0]) for _, p in run.checkpoints],
                "batch_acc": np.array([bn.evaluate(X_test, Y_test, p, stats="batch",
                                                   bn_forward=fns["bn_forward"])
                                       for _, p in run.checkpoints])}


def explore_momentum(X_train, X_test, Y_test, res: dict, fns: Mapping, *,
                     show: bool = True) -> Explorer:
    """Slider: the running averages' momentum (0.5 … 0.999). A batch-normalized run ``res``
    (from ``train_one``: it recorded every step's batch statistics) is replayed through the
    learner's update_running_stats with each momentum, and the test accuracy with those running
    averages is measured along the way."""
    momentum = slider("momentum β_bn (weight of the old running value)", MOMENTA, 0.9, "{:g}")
    parts = {
        "truth": (lambda _: _momentum_setup(X_train, X_test, Y_test, res["run"], fns), []),
        "replay": (lambda s: _momentum_result(s["momentum"], res=res, fns=fns, X_test=X_test,
                                              Y_test=Y_test), ["momentum"]),
    }
    return explorer({"momentum": momentum}, parts, partial(plot_momentum, res=res),
                    figsize=(11, 3.8), title="momentum explorer", checked=list(fns.values()),
                    display=show)
