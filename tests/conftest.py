import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HELPERS_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

# tests/ holds shared test tools: import them one way only, as `from tests.nbtools import …`
# (a second, top-level import path would make a second module object with its own caches).
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make `--dist loadgroup` honour xdist_group marks again under pytest 9.

    pytest 9 keeps a test's id in ``item._id``, while pytest-xdist 3.8 still appends the
    ``@group`` suffix to the old attribute, so every group mark was silently ignored and
    module fixtures (a grading round, a notebook namespace) ran once per worker."""
    if not getattr(config.option, "loadgroup", False) and getattr(config.option, "dist", "") != "loadgroup":
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest: xdist does it itself
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")
