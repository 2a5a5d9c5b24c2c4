"""Slider latency in a real browser, and the course's pictures.

For each notebook (default: notebooks/*.ipynb, the solved versions) this serves it with
JupyterLab on 127.0.0.1, opens it in headless Debian chromium, runs all cells (timed), then for
every slider explorer:

* times its first picture (from the end of Run All) and the background warming of every other
  setting (until its progress bar is gone): what the learner waits for;
* saves a screenshot of the explorer (controls + figure) as docs/img/NN_<explorer>.png;
* moves each slider ``--moves`` times with the keyboard and times, in the page, each move from
  the key press to the frame in which the new picture is painted (MutationObserver on the
  picture's src, decode, requestAnimationFrame); prints p50 / p95 / max per explorer (target:
  p95 <= 33 ms, two frames at 60 Hz). Pictures are switched in the page (helpers/explorer.js),
  so no kernel round trip is on this path.

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

TARGET_MS = 33.0
FIXTURE = ROOT / "tests" / "browser" / "fixture_explorers.ipynb"

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


JS_STATES = """() => Array.from(document.querySelectorAll('[data-explorer]')).map(box => {
  return {k: Number(box.dataset.explorer), state: box.dataset.state || '',
          warming: box.dataset.warming !== '0'};
})"""


def watch_warming(nb: LabNotebook, ran_at: float, timeout: float) -> dict:
    """{explorer index: (seconds to its first picture, seconds to every setting drawn)}, from
    the end of Run All, polling every explorer of the page together."""
    first: dict = {}
    warm: dict = {}
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        now = round(time.perf_counter() - ran_at, 1)
        states = nb.page.evaluate(JS_STATES)
        for st in states:
            if st["state"] in ("shown", "failed", "not-done"):
                first.setdefault(st["k"], now)
                if not st["warming"]:
                    warm.setdefault(st["k"], now)
        if len(warm) == len(states):
            break
        time.sleep(0.1)  # polling interval, not a wait for time
    return {k: (first.get(k, float("nan")), warm.get(k, float("nan"))) for k in first}


def bench_explorer(nb: LabNotebook, ex, prefix: str, args, times: tuple) -> dict:
    """Screenshot and key-press latencies of one explorer (``times``: first picture, warm)."""
    row = {"name": ex.name, "cell": ex.cell, "first_s": times[0], "warm_s": times[1]}
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
    all_ms = [m["ms"] for ms in per_slider.values() for m in ms]
    row["detail"] = {k: [{key: round(m[key], 1) for key in ("ms", "src_ms", "paint_ms")}
                         for m in v] for k, v in per_slider.items()}
    row.update(moves=len(all_ms), sliders=list(per_slider), p50=percentile(all_ms, 50),
               p95=percentile(all_ms, 95), max=max(all_ms) if all_ms else float("nan"),
               per_slider={k: {"p50": percentile([m["ms"] for m in v], 50),
                               "p95": percentile([m["ms"] for m in v], 95)}
                           for k, v in per_slider.items()})
    return row


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
        ran_at = time.perf_counter()
        result["run_all_s"] = round(state["wall"], 1)
        everything = nb.problems()
        problems = serious(everything)
        result["problems"] = [str(p) for p in problems]
        result["warnings"] = [str(p) for p in everything if p not in problems]
        explorers = nb.explorers()
        times = watch_warming(nb, ran_at, args.timeout)
        for ex in explorers:
            result["explorers"].append(bench_explorer(
                nb, ex, prefix, args, times.get(ex.index, (float("nan"), float("nan")))))
        if args.images and prefix.isdigit() and not problems:  # explorers that no longer exist
            written = {Path(args.img_dir) / f"{prefix}_{row['name']}.png"
                       for row in result["explorers"]}
            for old in Path(args.img_dir).glob(f"{prefix}_*.png"):
                if old not in written:
                    old.unlink()
                    print(f"    removed the stale picture {old.name}")
    finally:
        nb.close(keep_page=True)
    return result, nb.page


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--moves", type=int, default=20, help="arrow-key moves per slider")
    ap.add_argument("--fixture", action="store_true", help="bench the browser tests' fixture")
    ap.add_argument("--no-images", dest="images", action="store_false",
                    help="do not write docs/img/NN_<explorer>.png")
    ap.add_argument("--img-dir", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--timeout", type=float, default=600, help="seconds for one Run All")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    return ap.parse_args(argv)


def notebook_paths(args: argparse.Namespace) -> list[Path]:
    """The notebooks named (after the fixture with --fixture); none named: notebooks/*.ipynb,
    or the fixture while there are none."""
    if args.fixture:
        return [FIXTURE, *(p.resolve() for p in args.notebooks)]
    return ([p.resolve() for p in args.notebooks]
            or sorted((ROOT / "notebooks").glob("*.ipynb")) or [FIXTURE])


def bench_all(paths: list[Path], args: argparse.Namespace) -> list[dict]:
    """bench_notebook's result for every notebook, in one JupyterLab page (a notebook that
    fails gets {"notebook", "error", "explorers": []}); each printed as it is done."""
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
            print_notebook(res)
    return results


def print_notebook(res: dict) -> None:
    if "error" in res:
        print(f"    FAILED: {res['error']}")
        return
    print(f"    Run All in the browser: {res['run_all_s']:.1f} s "
          f"({len(res['problems'])} error(s))", flush=True)
    for p in res["problems"] + [f"(warning) {w}" for w in res["warnings"]]:
        print("    " + p.replace("\n", "\n    "))
    for row in res["explorers"]:
        print(f"    {row['name']}: p50 {row['p50']:.0f} ms, p95 {row['p95']:.0f} ms "
              f"over {row['moves']} moves" + (f" -> {row['image']}" if 'image' in row
                                              else ""), flush=True)


def print_latency_table(results: list[dict]) -> None:
    print("\nSlider latency, key press -> new picture painted (target p95 <= "
          f"{TARGET_MS:.0f} ms)")
    head = (f"{'notebook':<28} {'explorer':<24} {'moves':>5} {'p50':>6} {'p95':>6} {'max':>6}  "
            f"{'met':<4} {'first':>6} {'warm':>6}")
    print(head)
    print("-" * len(head))
    for res in results:
        for row in res["explorers"]:
            met = "yes" if row["p95"] <= TARGET_MS else "NO"
            print(f"{res['notebook'][:28]:<28} {row['name'][:24]:<24} {row['moves']:>5} "
                  f"{row['p50']:6.1f} {row['p95']:6.1f} {row['max']:6.1f}  {met:<4} "
                  f"{row['first_s']:6.1f} {row['warm_s']:6.1f}")
    print("(ms; p50/p95/max: key press -> new picture painted, every slider moved by one step "
          "at a time; first / warm: seconds from the end of Run All to the explorer's first "
          "picture / to every setting drawn in the background)")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load:
        print(f"load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
              f"on {os.cpu_count()} cores")


def print_run_all_and_verdict(results: list[dict]) -> None:
    print("\nRun All in the browser:")
    for res in results:
        wall = f"{res['run_all_s']:.1f} s" if "run_all_s" in res else res.get("error", "?")
        print(f"  {res['notebook']:<32} {wall:>8}")
    slow = [(r["notebook"], e["name"]) for r in results for e in r["explorers"]
            if not e["p95"] <= TARGET_MS]
    print(f"\n{'all explorers meet' if not slow else f'{len(slow)} explorer(s) miss'} the "
          f"p95 <= {TARGET_MS:.0f} ms target" + (": " + ", ".join(f"{n}/{e}" for n, e in slow)
                                                if slow else ""))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = skip_reason()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    results = bench_all(notebook_paths(args), args)
    print_latency_table(results)
    print_run_all_and_verdict(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
