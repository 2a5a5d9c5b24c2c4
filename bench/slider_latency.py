"""Slider latency in a real browser, and the course's pictures.

For each notebook (default: notebooks/*.ipynb, the solved versions) this serves it with
JupyterLab on 127.0.0.1, opens it in headless Debian chromium, runs all cells (timed), then for
every slider explorer:

* saves a screenshot of the explorer (controls + figure) as docs/img/NN_<explorer>.png;
* moves each slider 20 times with the keyboard and times, in the page, each move from the key
  press to the frame in which the new figure is painted (MutationObserver on the image's src,
  decode, requestAnimationFrame); prints p50 / p95 / max per explorer (target: p95 < 100 ms);
* times the kernel's side of one redraw (the whole callback, and inside it matplotlib's Agg
  rendering and the PNG encoding) so a slow explorer says where its time goes.

    .venv/bin/python bench/slider_latency.py [notebooks ...] [--moves 20] [--no-images]
    .venv/bin/python bench/slider_latency.py --fixture   # the browser tests' own fixture

Numbers are printed, never asserted. They depend on the machine's load: on a shared 2-core
machine a busy neighbour can double them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser.lab import (  # noqa: E402
    Chromium,
    LabNotebook,
    LabServer,
    serious,
    skip_reason,
)

TARGET_MS = 100.0
FIXTURE = ROOT / "tests" / "browser" / "fixture_explorers.ipynb"

# Runs in the notebook's kernel: for each live explorer, the hash of its current image (to match
# it with the one in the page) and the time of one redraw split into its parts.
KERNEL_PROFILE = r'''
def _bench_profile():
    import gc, hashlib, json, statistics, time
    import io
    from helpers.explore import Explorer, slider_values
    from helpers.plots import fig_to_png
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def med(xs):
        return round(1e3 * statistics.median(xs), 1)

    def is_explorer(o):
        try:
            return isinstance(o, Explorer)
        except ReferenceError:  # a dead weakref proxy
            return False

    out = []
    for ex in [o for o in gc.get_objects() if is_explorer(o)]:
        if not ex.image.value:
            continue
        row = {"hash": hashlib.sha256(ex.image.value).hexdigest(),
               "png_kb": round(len(ex.image.value) / 1024, 1)}
        controls = {**ex.controls, **ex.view_controls}
        name, ctrl = next(((n, c) for n, c in controls.items()
                           if type(c).__name__.endswith("Slider")), (None, None))
        if ctrl is not None:
            vals = slider_values(ctrl)
            start = ctrl.value
            i = min(range(len(vals)), key=lambda j: abs(vals[j] - start)
                    if isinstance(start, (int, float)) else vals[j] != start)
            seq = [vals[j] for j in ([i + 1, i] * 6 if i + 1 < len(vals) else [i - 1, i] * 6)]
            total = []
            for v in seq:
                t = time.perf_counter()
                ctrl.value = v
                total.append(time.perf_counter() - t)
            ctrl.value = start
            fig = ex.figure
            png = [0.0] * 5
            for j in range(5):
                t = time.perf_counter()
                fig_to_png(fig)
                png[j] = time.perf_counter() - t
            old = fig.canvas
            # an explorer that keeps its own Agg canvas (and its renderer's caches) is timed
            # with it; otherwise a fresh one, as fig_to_png gets
            agg = old if isinstance(old, FigureCanvasAgg) else FigureCanvasAgg(fig)
            from PIL import Image

            render, encode = [], []
            for j in range(5):
                t = time.perf_counter()
                agg.draw()
                render.append(time.perf_counter() - t)
                t = time.perf_counter()
                Image.frombuffer("RGBA", agg.get_width_height(), agg.buffer_rgba()).save(
                    io.BytesIO(), format="png", compress_level=1)
                encode.append(time.perf_counter() - t)
            if agg is not old:
                fig.set_canvas(old)
            row.update(slider=name, redraw_ms=med(total), fig_to_png_ms=med(png),
                       agg_render_ms=med(render), png_encode_ms=med(encode),
                       savefig_extra_ms=round(med(png) - med(render) - med(encode), 1),
                       draw_ms=round(med(total) - med(png), 1),
                       layout=type(fig.get_layout_engine()).__name__,
                       artists=sum(len(ax.get_children()) for ax in fig.axes),
                       size=[int(v) for v in fig.get_size_inches() * fig.dpi])
        out.append(row)
    print(json.dumps(out))
_bench_profile()
del _bench_profile
'''

JS_HASHES = """async () => {
  const out = {};
  for (const box of document.querySelectorAll('[data-explorer]')) {
    const img = box.querySelector(':scope > img.widget-image');
    const buf = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', buf);
    out[box.getAttribute('data-explorer')] = Array.from(new Uint8Array(digest))
      .map(b => b.toString(16).padStart(2, '0')).join('');
  }
  return out;
}"""

JS_KERNEL_RUN = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = (m) => {
    if (m.header.msg_type === 'stream') out += m.content.text;
    if (m.header.msg_type === 'error') out += 'ERROR ' + m.content.ename + ': ' + m.content.evalue;
  };
  await future.done;
  return out;
}"""


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100
    lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def time_slider(nb: LabNotebook, k: int, slider, moves: int) -> list[dict]:
    """``moves`` single arrow-key steps (bouncing at the ends), each timed in the page."""
    times = []
    forward = True
    for _ in range(moves):
        st = nb.slider_state(slider)
        if forward and st["now"] >= st["max"]:
            forward = False
        elif not forward and st["now"] <= st["min"]:
            forward = True
        nb.arm_latency(k)
        nb.key_move(slider, forward)
        times.append(nb.latency())
        nb.sync()
    return times


def bench_notebook(server: LabServer, chromium: Chromium, path: Path, args, page=None):
    """(results, page): page is kept for the next notebook (JupyterLab is not reloaded)."""
    nb = LabNotebook(server, chromium, path.name, page=page)
    prefix = path.stem.split("_")[0]
    result = {"notebook": path.name, "explorers": []}
    try:
        t = time.perf_counter()
        nb.open()
        result["open_s"] = round(time.perf_counter() - t, 1)
        state = nb.run_all(timeout=args.timeout)
        result["run_all_s"] = round(state["wall"], 1)
        everything = nb.problems()
        problems = serious(everything)
        result["problems"] = [str(p) for p in problems]
        result["warnings"] = [str(p) for p in everything if p not in problems]
        for ex in nb.explorers():
            row = {"name": ex.name, "cell": ex.cell}
            if args.images and prefix.isdigit():
                out = Path(args.img_dir) / f"{prefix}_{ex.name}.png"
                out.parent.mkdir(parents=True, exist_ok=True)
                nb.screenshot_explorer(ex.index, out)
                row["image"] = str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
            sliders = nb.sliders(ex.index)
            per_slider = {}
            for j in range(sliders.count()):
                s = sliders.nth(j)
                label = nb.slider_label(s) or f"slider {j + 1}"
                try:
                    per_slider[label] = time_slider(nb, ex.index, s, args.moves)
                except Exception as exc:  # noqa: BLE001 (a broken slider is reported, not fatal)
                    row.setdefault("errors", []).append(f"{label}: {exc}")
            moves = [m for ms in per_slider.values() for m in ms]
            all_ms = [m["ms"] for m in moves]
            row.update(moves=len(all_ms), sliders=list(per_slider),
                       p50=percentile(all_ms, 50), p95=percentile(all_ms, 95),
                       max=max(all_ms) if all_ms else float("nan"),
                       src_p50=percentile([m["src_ms"] for m in moves], 50),
                       paint_p50=percentile([m["paint_ms"] for m in moves], 50),
                       per_slider={k: {"p50": percentile([m["ms"] for m in v], 50),
                                       "p95": percentile([m["ms"] for m in v], 95)}
                                   for k, v in per_slider.items()})
            result["explorers"].append(row)
        if args.images and prefix.isdigit() and not problems:  # explorers that no longer exist
            written = {Path(args.img_dir) / f"{prefix}_{row['name']}.png"
                       for row in result["explorers"]}
            for old in Path(args.img_dir).glob(f"{prefix}_*.png"):
                if old not in written:
                    old.unlink()
                    print(f"    removed the stale picture {old.name}")
        if result["explorers"] and args.profile:
            hashes = nb.page.evaluate(JS_HASHES)
            text = nb.page.evaluate(JS_KERNEL_RUN, KERNEL_PROFILE)
            try:
                profiles = json.loads(text.strip().splitlines()[-1])
            except (ValueError, IndexError):
                profiles = []
                result["profile_error"] = text[-500:]
            by_hash = {p["hash"]: p for p in profiles}
            for row, ex_index in zip(result["explorers"], range(len(result["explorers"]))):
                prof = by_hash.get(hashes.get(str(ex_index)))
                if prof:
                    row["kernel"] = {k: v for k, v in prof.items() if k != "hash"}
    finally:
        nb.close(keep_page=True)
    return result, nb.page


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--moves", type=int, default=20, help="arrow-key moves per slider")
    ap.add_argument("--fixture", action="store_true", help="bench the browser tests' fixture")
    ap.add_argument("--no-images", dest="images", action="store_false",
                    help="do not write docs/img/NN_<explorer>.png")
    ap.add_argument("--img-dir", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--no-profile", dest="profile", action="store_false",
                    help="skip the kernel-side breakdown of a redraw")
    ap.add_argument("--timeout", type=float, default=600, help="seconds for one Run All")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args(argv)

    reason = skip_reason()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    if args.fixture:
        paths = [FIXTURE, *(p.resolve() for p in args.notebooks)]
    else:
        paths = ([p.resolve() for p in args.notebooks]
                 or sorted((ROOT / "notebooks").glob("*.ipynb")) or [FIXTURE])
    results = []
    with LabServer(paths) as server, Chromium() as chromium:
        page = None
        for path in paths:
            print(f"--- {path.name}", flush=True)
            try:
                res, page = bench_notebook(server, chromium, path, args, page)
            except Exception as exc:  # noqa: BLE001 (one broken notebook must not hide the rest)
                res = {"notebook": path.name, "error": f"{type(exc).__name__}: {exc}",
                       "explorers": []}
            results.append(res)
            if "error" in res:
                print(f"    FAILED: {res['error']}")
                continue
            print(f"    Run All in the browser: {res['run_all_s']:.1f} s "
                  f"({len(res['problems'])} error(s))", flush=True)
            for p in res["problems"] + [f"(warning) {w}" for w in res["warnings"]]:
                print("    " + p.replace("\n", "\n    "))
            for row in res["explorers"]:
                print(f"    {row['name']}: p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms "
                      f"over {row['moves']} moves" + (f" -> {row['image']}" if 'image' in row
                                                      else ""), flush=True)

    print("\nSlider latency, key press -> new figure painted (target p95 < "
          f"{TARGET_MS:.0f} ms)")
    head = (f"{'notebook':<28} {'explorer':<22} {'moves':>5} {'p50':>6} {'p95':>6} {'max':>6}  "
            f"{'met':<4} {'->img':>6} {'paint':>5} {'xfer':>5} {'redraw':>6} {'draw':>6} {'agg':>6} "
            f"{'png':>5} {'+sf':>5} {'KB':>5}  layout")
    print(head)
    print("-" * len(head))
    for res in results:
        for row in res["explorers"]:
            kern = row.get("kernel", {})

            def f(key, kern=kern):
                return f"{kern[key]:6.0f}" if key in kern else f"{'-':>6}"

            met = "yes" if row["p95"] < TARGET_MS else "NO"
            print(f"{res['notebook'][:28]:<28} {row['name'][:22]:<22} {row['moves']:>5} "
                  f"{row['p50']:6.0f} {row['p95']:6.0f} {row['max']:6.0f}  {met:<4} "
                  f"{row['src_p50']:6.0f} {row['paint_p50']:5.0f} "
                  f"{row['src_p50'] - kern.get('redraw_ms', float('nan')):5.0f} {f('redraw_ms')} {f('draw_ms')} {f('agg_render_ms')} "
                  f"{kern.get('png_encode_ms', float('nan')):5.0f} "
                  f"{kern.get('savefig_extra_ms', float('nan')):5.0f} "
                  f"{kern.get('png_kb', float('nan')):5.0f}  {kern.get('layout', '-')}")
    print("(ms; p50/p95/max: key press -> new figure painted; ->img: key press -> new image in "
          "the page (p50); paint: image -> decoded and painted (p50); xfer = ->img minus redraw "
          "(comm messages both ways, widget updates); kernel side, median of "
          "one redraw: redraw = the whole callback, draw = redraw minus fig_to_png, agg = Agg "
          "rendering, png = PNG encoding, +sf = what savefig adds to those two (a second, "
          "layout-only draw when the figure has any layout engine, PlaceHolder included); "
          "KB = PNG size; layout = the figure's layout engine at rest)")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load:
        print(f"load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
              f"on {os.cpu_count()} cores")
    print("\nRun All in the browser:")
    for res in results:
        wall = f"{res['run_all_s']:.1f} s" if "run_all_s" in res else res.get("error", "?")
        print(f"  {res['notebook']:<32} {wall:>8}")
    slow = [(r["notebook"], e["name"]) for r in results for e in r["explorers"]
            if not e["p95"] < TARGET_MS]
    print(f"\n{'all explorers meet' if not slow else f'{len(slow)} explorer(s) miss'} the "
          f"p95 < {TARGET_MS:.0f} ms target" + (": " + ", ".join(f"{n}/{e}" for n, e in slow)
                                                if slow else ""))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
