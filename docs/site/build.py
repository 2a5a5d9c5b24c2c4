"""Build the course as a static HTML site: `make site` (or `python docs/site/build.py`).

Each source notebook (the solved version) is executed in a fresh kernel with every explorer
computing all of its frames at once (HELPERS_EXPLORERS=eager), then converted to HTML with
nbconvert and a small template of ours: the saved widget state stays in the page and each
explorer is run by its own JavaScript (the same ESM that runs in JupyterLab) against a model
built from that state (docs/site/static_model.js), so its sliders work with no Python and no
server. Formulas are converted to MathML when the site is built (latex2mathml), which browsers
draw themselves: the pages load no script, font or style from another host. Hidden tests and
nbgrader's solution markers are left out of the pages (solutions are shown).

    python docs/site/build.py [--out build/site] [--jobs 1] [notebook or prefix ...]

Open build/site/index.html from the folder, or copy the folder to any static host.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import os
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_OUT = ROOT / "build" / "site"
EAGER_SWITCH = "HELPERS_EXPLORERS"  # "eager": every explorer draws every frame at once
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                    re.M | re.S)
MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)
CELL_TIMEOUT = 1800  # seconds for one cell (an eager explorer computes every frame)


@dataclass
class Page:
    """One notebook of the site: where it came from, its page, its title and figures."""

    source: Path
    html_name: str
    title: str
    summary: str
    seconds: float
    explorers: int


def kernel_env() -> dict[str, str]:
    """The kernel's environment: explorers compute every frame, quiet TensorFlow, one BLAS
    thread, matplotlib's inline backend, no progress bars."""
    env = dict(os.environ, HELPERS_PROGRESS="0", TF_CPP_MIN_LOG_LEVEL="3",
               TF_ENABLE_ONEDNN_OPTS="0", OPENBLAS_NUM_THREADS="1",
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    env[EAGER_SWITCH] = "eager"
    return env


def for_the_page(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook as the site shows it: solutions kept without nbgrader's markers,
    hidden tests' code left out (they grade learners; a reader does not need them). The
    outputs stay those of the full run, so a cell's "All tests passed." is true: every test,
    hidden ones included, passed when the site was built."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = MARKER.sub("", HIDDEN.sub("", cell.source)).rstrip()
    nb.cells = [c for c in nb.cells
                if c.cell_type != "code" or c.source.strip() or c.get("outputs")]
    return nb


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Run the solved notebook top to bottom, hidden tests included, in a fresh kernel (in its
    own folder, as a learner would); the widget state is saved in its metadata."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    try:
        client.execute(env=kernel_env())
    except CellExecutionError as exc:
        raise SystemExit(f"site: {path.name} failed while executing:\n{exc}") from None
    return for_the_page(nb), time.perf_counter() - t0


def smaller_png(data: bytes) -> bytes:
    """The same picture as a 256-colour palette PNG when that is smaller (a plot's few flat
    colours and anti-aliased edges survive it unchanged to the eye, at a third of the size);
    pictures with transparency are left as they are."""
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except (UnidentifiedImageError, OSError):
        return data  # not a picture: left alone
    if im.mode == "RGBA" and im.getchannel("A").getextrema() == (255, 255):
        im = im.convert("RGB")
    if im.mode != "RGB":
        return data
    out = io.BytesIO()
    im.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                dither=Image.Dither.NONE).save(out, format="PNG")
    return out.getvalue() if out.tell() < len(data) else data


def shrink_pictures(nb: nbformat.NotebookNode) -> tuple[int, int]:
    """Make every PNG the page carries (figures, explorers' frames) a palette PNG where that
    is smaller; returns the bytes before and after."""
    def shrink(b64: str) -> str:
        return base64.b64encode(smaller_png(base64.b64decode(b64))).decode("ascii")

    before = after = 0
    widgets = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    places = [(buf, "data") for w in widgets.values() for buf in w.get("buffers", [])
              if buf.get("encoding", "base64") == "base64"]
    places += [(out.data, "image/png") for cell in nb.cells if cell.cell_type == "code"
               for out in cell.outputs if "image/png" in out.get("data", {})]
    for holder, key in places:
        old = holder[key]
        holder[key] = shrink(old)
        before, after = before + len(old), after + len(holder[key])
    return before, after


def count_explorers(nb: nbformat.NotebookNode) -> int:
    """How many anywidgets the notebook displayed (each is an explorer on the page)."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    shown = {out.data["application/vnd.jupyter.widget-view+json"]["model_id"]
             for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
             if "application/vnd.jupyter.widget-view+json" in out.get("data", {})}
    return sum(1 for mid in shown if state.get(mid, {}).get("model_module") == "anywidget")


def title_and_summary(nb: nbformat.NotebookNode, fallback: str) -> tuple[str, str]:
    """The notebook's first heading and the paragraph after it (markdown), for the index."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        m = re.search(r"^#\s+(.+)$", cell.source, re.M)
        if m:
            rest = cell.source[m.end():].strip().split("\n\n")
            summary = rest[0] if rest and not rest[0].startswith("#") else ""
            return m.group(1).strip(), summary
    return fallback, ""


# A delimiter that TeX does not stretch (not after \left, \right or \big) must not stretch in
# MathML either, where fences stretch by default: ‖W^{[l]}‖ would grow to the superscript's height.
FENCE = re.compile(r"<mo>((?:&#x0*(?:28|29|5B|5D|7B|7D|7C|2016|27E8|27E9|230A|230B|2308|2309);)"
                   r"|[()\[\]{}|])</mo>", re.I)


# latex2mathml keeps a command it does not know as text (<mi>\foo</mi>): shown as TeX instead.
UNKNOWN_COMMAND = re.compile(r">\\[A-Za-z]+<")


def tex_to_mathml(tex: str, display: bool) -> str:
    """MathML for one formula; a formula latex2mathml cannot read is shown as its TeX."""
    from latex2mathml.converter import convert

    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 (any parse failure: show the source, never stop the build)
        mathml = None
    if mathml is None or UNKNOWN_COMMAND.search(mathml):
        print(f"site: formula left as TeX (not understood): {tex.strip()[:80]}", flush=True)
        tag = "pre" if display else "code"
        return f'<{tag} class="tex">{html.escape(tex)}</{tag}>'
    return FENCE.sub(r'<mo stretchy="false">\1</mo>', mathml)


def markdown_html(source: str, attachments: dict | None = None,
                  anchor_link_text: str = "¶") -> str:
    """Markdown to HTML as nbconvert renders a cell, with formulas as MathML."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class MathMLRenderer(IPythonRenderer):
        def block_math(self, body: str) -> str:
            return tex_to_mathml(body, display=True)

        def inline_math(self, body: str) -> str:
            return tex_to_mathml(body, display=False)

        def latex_environment(self, name: str, body: str) -> str:
            return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    renderer = MathMLRenderer(escape=False, attachments=attachments or {},
                              anchor_link_text=anchor_link_text)
    return MarkdownWithMath(renderer=renderer).render(source)


def site_exporter() -> HTMLExporter:
    """nbconvert's HTML exporter with our template and formulas turned into MathML."""
    from jinja2 import pass_context
    from nbconvert import HTMLExporter

    class SiteExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            return markdown_html(source, cell.get("attachments", {}), self.anchor_link_text)

    return SiteExporter(extra_template_basedirs=[str(HERE)], template_name="template",
                        exclude_input_prompt=True, exclude_output_prompt=True)


def render(nb: nbformat.NotebookNode, title: str) -> str:
    """The executed notebook as one HTML page (our template: no CDN, explorers live)."""
    nb.metadata["title"] = title
    body, _ = site_exporter().from_notebook_node(nb)
    return body


def build_one(path: Path, out: Path) -> Page:
    t0 = time.perf_counter()
    nb, _ = execute(path)
    before, after = shrink_pictures(nb)
    title, summary = title_and_summary(nb, path.stem)
    html_name = path.stem + ".html"
    (out / html_name).write_text(render(nb, title), encoding="utf-8")
    page = Page(path, html_name, title, summary, time.perf_counter() - t0, count_explorers(nb))
    print(f"  {path.name:40s} {page.seconds:7.1f} s  {page.explorers} explorer(s), pictures "
          f"{before / 1e6:.1f} -> {after / 1e6:.1f} MB (base64)", flush=True)
    return page


def copy_assets(out: Path) -> None:
    """The pages' one shared script: the static widget model."""
    static = out / "static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "static_model.js", static / "static_model.js")


def index_page(pages: list[Page]) -> str:
    """The site's front page: the course's title and a link per notebook."""
    items = "\n".join(
        f'    <li><a href="{html.escape(p.html_name)}">{html.escape(p.title)}</a>'
        f'<span class="meta">{p.explorers} slider explorer{"s" if p.explorers != 1 else ""}'
        f"</span>{markdown_html(p.summary)}</li>" for p in pages)
    return (INDEX_TEMPLATE.replace("{{items}}", items)
            .replace("{{built}}", time.strftime("%Y-%m-%d")))


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Improving Deep Neural Networks: the course</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto;
         padding: 0 1rem; line-height: 1.5; color: #222; }
  h1 { font-size: 1.6rem; margin-bottom: .2rem; }
  ul { padding-left: 0; list-style: none; }
  li { margin: .9rem 0; }
  .meta { color: #666; font-size: .9em; margin-left: .6rem; }
  li p { margin: .2rem 0 0 0; color: #333; font-size: .95em; }
  a { font-weight: 600; }
  footer { margin-top: 2rem; color: #666; font-size: .85em; }
</style>
</head>
<body>
<h1>Improving Deep Neural Networks</h1>
<p>Initialization, regularization, optimization: the course's notebooks, executed with their
solutions. Every slider explorer works in these pages, with no Python and no server: its pictures
were computed when the site was built.</p>
<ul>
{{items}}
</ul>
<footer>Built {{built}} with <code>make site</code>. To learn by doing the exercises yourself,
clone the course and run <code>make lab</code>.</footer>
</body>
</html>
"""


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def select(wanted: list[str]) -> list[Path]:
    """The source notebooks named (paths or file-name prefixes); all of them by default."""
    paths = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    chosen = []
    for w in wanted:
        p = Path(w)
        if p.suffix == ".ipynb" and p.exists():
            chosen.append(p.resolve())
        else:
            chosen += [q for q in paths if q.name.startswith(w)]
    return chosen if wanted else paths


def build(notebooks: list[Path], out: Path, jobs: int = 1) -> list[Page]:
    """Build the site into ``out`` (emptied first) and print its size and build time."""
    t0 = time.perf_counter()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_assets(out)
    print(f"site: executing and converting {len(notebooks)} notebook(s) into {out}", flush=True)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        pages = list(pool.map(lambda p: build_one(p, out), notebooks))
    (out / "index.html").write_text(index_page(pages), encoding="utf-8")
    size = folder_size(out)
    print(f"site: {len(pages)} page(s), {sum(p.explorers for p in pages)} explorer(s), "
          f"{size / 1e6:.1f} MB, built in {time.perf_counter() - t0:.0f} s")
    print(f"site: open {out / 'index.html'} (or copy {out} to any static host)")
    return pages


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebook paths or prefixes (default: all)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--jobs", type=int, default=1, help="notebooks executed at once")
    args = ap.parse_args(argv)
    notebooks = select(args.notebooks)
    if not notebooks:
        raise SystemExit(f"site: no notebook matches {args.notebooks}")
    build(notebooks, args.out.resolve(), args.jobs)


if __name__ == "__main__":
    sys.exit(main())
