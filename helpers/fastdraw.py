"""Fast redraws for slider explorers: paint what never moves once, then only what moves.

A matplotlib redraw spends most of its time on what no slider changes: laying out and rendering
tick labels, axis labels and static curves. ``Backdrop`` renders those once into pictures (one
behind the moving artists, one in front), ``stamp`` renders each text string once, and
``warm_up`` prepares every cached setting of an explorer up front, so that a slider move
repaints only a few lines, images and titles (milliseconds instead of hundreds of them).
The explorers in helpers/explorers/ use it from a ``draw`` that returns an ``update`` function
(see helpers.explore).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.artist import Artist
from matplotlib.image import AxesImage
from matplotlib.text import Text


class Backdrop:
    """Paint what no slider changes once, as a picture; later redraws paint only what moves.

    Most of a matplotlib redraw goes into the axes' decorations: laying out and rendering
    every tick label, axis label and static curve again. In an explorer's
    ``draw(fig, result, values)``, build the whole figure, then call ``Backdrop(fig, moving,
    front=...)``:

    * ``moving``: the artists that slider moves change (lines, images, titles, legends...);
      they are drawn on every redraw (``stamp`` their texts: each string is then rendered
      once; ``split_title`` keeps a title's $math$ out of what changes).
    * ``front``: artists that never change but must stay on top of moving ones (points over
      a decision region, a legend or a guide line over a curve, the axes' edges over an
      image): rendered once into a transparent picture drawn over the moving artists.
    * everything else is rendered once into a picture drawn behind the axes.

    Static artists are then hidden, so that a redraw paints one or two pictures and the moving
    artists only; the figure looks the same. A layout engine (constrained layout) runs once,
    here, and is then removed: the axes keep these places.

    ``prepare(key)`` (optional) sets the static state of a variant (the y-range, the surface
    image... for some settings) and may return {artist: visible} for static or front artists
    shown in some variants only; ``show(key)`` switches to that variant, rendering its
    pictures the first time (``keys``: variants to render now, so that no slider move waits).
    """

    def __init__(self, fig, moving, *, front=(), key=None, prepare: Callable | None = None,
                 keys=()):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.layout_engine import PlaceHolderLayoutEngine

        if not isinstance(fig.canvas, FigureCanvasAgg):
            # One Agg canvas for good: savefig then reuses its renderer, and with it the
            # renderer's caches of text sizes and typeset math, from one redraw to the next
            # (with the default canvas, every PNG gets a new renderer and empty caches).
            FigureCanvasAgg(fig)
        self.fig = fig
        self.moving = [a for a in moving if a is not None]
        self.front = [a for a in front if a is not None]
        self.prepare = prepare
        # Empty texts draw nothing and stay as they are: hidden, an axes' empty left and right
        # titles would push its (moving) title out of the figure.
        skip = {id(a) for a in self.moving + self.front}
        skip |= {id(t) for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title)
                 if not t.get_text()}
        self.static = [(a, a.get_visible()) for ax in fig.axes for a in ax.get_children()
                       if id(a) not in skip]
        self.static += [(a, a.get_visible()) for a in fig.get_children()
                        if a is not fig.patch and a not in fig.axes and id(a) not in skip]
        self.front_shown = [(a, a.get_visible()) for a in self.front]
        self.visible: dict = {}  # this variant's {artist: visible} from prepare()
        engine = fig.get_layout_engine()
        if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
            engine.execute(fig)  # once, with every artist in place
        # No layout engine at all from now on (not even "none", which makes savefig draw the
        # figure twice): the axes keep the places computed above.
        fig.set_layout_engine(None)
        self.pictures: dict = {}
        self.back = fig.add_artist(_Picture(zorder=-100))
        self.over = fig.add_artist(_Picture(zorder=100))
        self.key = object()
        for k in keys:
            if k != key:
                self.show(k)
        self.show(key)

    def _snapshot(self) -> np.ndarray:
        import io

        fig = self.fig
        buf = io.BytesIO()
        fig.savefig(buf, format="rgba", dpi=fig.dpi)
        w, h = int(fig.bbox.width), int(fig.bbox.height)
        return np.frombuffer(buf.getvalue(), dtype=np.uint8).reshape(h, w, 4)

    def _render(self) -> tuple:
        fig = self.fig
        shown = [(a, a.get_visible()) for a in self.moving]
        for a in [*self.moving, *self.front, self.back, self.over]:
            a.set_visible(False)
        for a, visible in self.static:
            a.set_visible(self.visible.get(a, visible))
        back = self._snapshot()
        front = None
        for a, _ in self.static:
            a.set_visible(False)
        if self.front:
            for a, visible in self.front_shown:
                a.set_visible(self.visible.get(a, visible))
            patch = fig.patch.get_visible()
            fig.patch.set_visible(False)  # transparent around the front artists
            front = self._snapshot()
            fig.patch.set_visible(patch)
            for a in self.front:
                a.set_visible(False)
        for a, visible in shown:
            a.set_visible(visible)
        self.back.set_visible(True)
        self.over.set_visible(front is not None)
        return back, front

    def warm(self, update: Callable, settings, current) -> None:
        """Prepare now what the first visit of each setting would otherwise make during a
        slider move (text bitmaps, image pictures, a few milliseconds per setting): run
        ``update(result, values)`` for each (result, values) in ``settings``, then for
        ``current`` again, so the figure is left as it was."""
        renderer = self.fig.canvas.get_renderer()
        for result, values in settings:
            try:
                update(result, values)
            except Exception:  # noqa: BLE001 (a setting the explorer cannot draw: skip it)
                continue
            for artist in self.moving:
                for a in artist.findobj():
                    if isinstance(a, _StampText) and a.get_visible() and a.get_text():
                        a._stamp(renderer)
                    elif isinstance(a, _CachedImage) and a.get_visible():
                        a.make_image(renderer, renderer.get_image_magnification())
        update(*current)

    def show(self, key=None) -> None:
        """Switch to the static variant ``key`` (its pictures are rendered once)."""
        if key == self.key:
            return
        if self.prepare is not None:
            self.visible = self.prepare(key) or {}  # limits etc. apply to moving artists too
        if key not in self.pictures:
            self.pictures[key] = self._render()
        back, front = self.pictures[key]
        self.back.set_data(back)
        self.over.set_data(front)
        self.key = key


class _Picture(Artist):
    """An RGBA picture of the whole figure, copied onto the canvas pixel for pixel (unlike
    ``figimage``, without resampling it on every draw)."""

    def __init__(self, zorder: float):
        super().__init__()
        self.set_zorder(zorder)
        self.picture = None

    def set_data(self, picture: np.ndarray | None) -> None:
        # draw_image wants the bottom row first
        self.picture = None if picture is None else np.ascontiguousarray(picture[::-1])
        self.stale = True

    def draw(self, renderer) -> None:
        if not self.get_visible() or self.picture is None:
            return
        gc = renderer.new_gc()
        renderer.draw_image(gc, 0, 0, self.picture)
        gc.restore()


_STAMPS: dict = {}  # (text, font, colour, alignment, dpi, sub-pixel offset...) -> bitmap


class _StampText(Text):
    """A Text painted from a bitmap rendered once per string and look (see ``stamp``)."""

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.get_text():
            return
        if self.get_bbox_patch() is not None or self.get_usetex() or self.get_wrap():
            return super().draw(renderer)
        bitmap, x, y = self._stamp(renderer)
        if bitmap is not None:
            gc = renderer.new_gc()
            renderer.draw_image(gc, x, y, bitmap)
            gc.restore()
        self.stale = False

    def _stamp(self, renderer):
        """(bitmap, x, y of its lower-left pixel), the bitmap rendered the first time."""
        x, y = self.get_transform().transform(self.get_unitless_position())
        fx, fy = round(4 * (x % 1)) / 4, round(4 * (y % 1)) / 4
        key = (self.get_text(), hash(self.get_fontproperties()), str(self.get_color()),
               self.get_alpha(), self.get_ha(), self.get_va(), self._multialignment,
               self._linespacing, self.get_rotation(), self.get_rotation_mode(),
               renderer.dpi, fx, fy)
        picture = _STAMPS.get(key)
        if picture is None:
            if len(_STAMPS) > 2000:  # (a few tens of MB at most)
                _STAMPS.clear()
            picture = _STAMPS[key] = self._render_stamp(renderer.dpi, fx, fy)
        bitmap, dx, dy = picture
        return bitmap, round(x - fx) + dx, round(y - fy) + dy

    def _render_stamp(self, dpi: float, fx: float, fy: float):
        """This text alone on a transparent canvas, cropped: (bitmap with its bottom row first,
        x and y of its lower-left corner from the text's anchor pixel)."""
        from matplotlib.backends.backend_agg import RendererAgg
        from matplotlib.transforms import IdentityTransform

        twin = Text()
        twin.update_from(self)
        twin.set_text(self.get_text())
        twin.set_figure(self.get_figure(root=True))
        twin.set_transform(IdentityTransform())
        twin.set_clip_on(False)
        twin.set_position((fx, fy))
        box = twin.get_window_extent(RendererAgg(1, 1, dpi))
        x0, y0 = int(np.floor(box.x0)) - 2, int(np.floor(box.y0)) - 2
        w, h = int(np.ceil(box.x1)) + 2 - x0, int(np.ceil(box.y1)) + 2 - y0
        if w <= 0 or h <= 0 or w * h > 4e6:
            return None, 0, 0
        canvas = RendererAgg(w, h, dpi)
        twin.set_position((fx - x0, fy - y0))
        twin.draw(canvas)
        bitmap = np.asarray(canvas.buffer_rgba())[::-1].copy()
        return bitmap, x0, y0


def stamp(*texts: Text) -> None:
    """Make these Texts (titles, notes: any plain Text) paint themselves from a bitmap that is
    rendered once per string and look, and reused whenever that string comes back: a slider
    that returns to a setting then costs no text rendering (with matplotlib's Agg, a text's
    glyphs are laid out and rendered again on every draw). They stay ordinary Texts for
    everything else (get_text, set_text, colours, layout)."""
    for t in texts:
        if type(t) is Text:
            t.__class__ = _StampText


class _CachedImage(AxesImage):
    """An image that keeps its resampled, colour-mapped picture for each data array it has
    shown (the axes never move), so that showing an array again costs a copy."""

    def set_data(self, A) -> None:
        self._source = A  # what the cache is keyed on (kept alive with its picture)
        super().set_data(A)

    def make_image(self, renderer, magnification=1.0, unsampled=False):
        source = getattr(self, "_source", None)
        key = (id(source), magnification, unsampled, tuple(self.axes.bbox.bounds),
               tuple(self.axes.viewLim.bounds), tuple(self.get_extent()))
        made = self.__dict__.setdefault("_made", {})
        if key not in made:
            if len(made) > 100:
                made.clear()
            made[key] = (source, super().make_image(renderer, magnification, unsampled))
        return made[key][1]


def cache_pictures(*images: AxesImage) -> None:
    """Make these images keep their resampled picture for each array given to ``set_data``:
    give them the same array object again (keep it with the cached result) and they cost a
    copy instead of a colour map and a resampling."""
    for image in images:
        if type(image) is AxesImage:
            image.__class__ = _CachedImage
            image._source = None


def cached_settings(ex) -> list[tuple[object, dict]]:
    """(result, values) of every setting in an explorer's cache, with the current values of
    its view controls: what ``Backdrop.warm`` prepares."""
    view = {name: c.value for name, c in ex.view_controls.items()}
    return [(result, {**dict(key), **view}) for key, result in ex.cache.items()]


def warm_up(ex, drawn: dict, settings=None) -> None:
    """After ``explorer()``: if its ``draw`` left ``drawn = {"update": ..., "backdrop": ...}``,
    prepare every cached setting now (``Backdrop.warm``; ``settings`` defaults to
    ``cached_settings(ex)``), so that first visits are as quick as later ones."""
    if not drawn or not ex.image.value or ex.message.value:
        return
    from helpers.explore import _key

    cvals, vvals = ex.values()
    current = (ex.cache[_key(cvals)], {**cvals, **vvals})
    drawn["backdrop"].warm(drawn["update"], cached_settings(ex) if settings is None
                           else settings, current)


def split_title(ax, fixed: str, lines: int = 1, **kwargs):
    """A title in two parts: ``fixed`` (its first line, which may hold $math$) never changes
    and goes into the backdrop; the returned Text, just under it, holds ``lines`` lines that
    change (plain text: typeset on every redraw, math would cost milliseconds)."""
    from matplotlib.transforms import offset_copy

    size = ax.title.get_fontsize()
    pad = 6.0  # points, matplotlib's axes.titlepad
    ax.set_title(fixed, pad=pad + 1.2 * size * lines, **kwargs)
    return ax.text(0.5, 1.0, "", ha="center", va="bottom", fontsize=size,
                   transform=offset_copy(ax.transAxes, fig=ax.figure, y=pad, units="points"),
                   **kwargs)
