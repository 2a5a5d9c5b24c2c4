"""helpers.fastdraw: a redraw through a Backdrop looks like a full draw."""

import numpy as np
import pytest

pytestmark = pytest.mark.xdist_group("core")


def _pixels(fig):
    import io

    from PIL import Image

    from helpers.plots import fig_to_png

    return np.asarray(Image.open(io.BytesIO(fig_to_png(fig))).convert("RGB")).astype(int)


def _demo_figure(fig, y, title, backdrop):
    """A static curve, a legend over a moving curve, a stamped title."""
    from helpers.fastdraw import Backdrop, stamp

    ax = fig.add_axes((0.12, 0.15, 0.8, 0.7))
    ax.plot([0, 1, 2], [2, 0, 2], color="0.5", label="static")
    (moving,) = ax.plot([0, 1, 2], y, lw=3, label="moving")
    legend = ax.legend(loc="upper center", frameon=True)
    ax.set(xlabel="$x$", ylabel="y", title=title, ylim=(-1, 3))
    if backdrop:
        stamp(ax.title)
        Backdrop(fig, [moving, ax.title], front=[legend])
    return ax, moving


def test_backdrop_redraws_look_like_full_draws():
    from matplotlib.figure import Figure

    fast = Figure(figsize=(4, 3), dpi=80)
    ax, moving = _demo_figure(fast, [0, 1, 0], "first", backdrop=True)
    assert fast.get_layout_engine() is None, "no layout engine after the backdrop is made"
    moving.set_ydata([1, 2, 2.8])  # a redraw: only the moving artists change
    ax.set_title("second title")
    full = Figure(figsize=(4, 3), dpi=80)
    _demo_figure(full, [1, 2, 2.8], "second title", backdrop=False)
    a, b = _pixels(fast), _pixels(full)
    assert a.shape == b.shape
    differ = (np.abs(a - b).sum(axis=-1) > 60).mean()
    assert differ < 0.005, f"{100 * differ:.2f}% of the pixels differ from a full draw"
