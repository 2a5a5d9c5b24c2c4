"""The same task function on a Dask cluster (`autograde --scheduler ADDRESS`) gives the same
scores as local workers."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from grading import course as C

FIXTURE = Path(__file__).parent / "fixtures" / "grading"
sys.path.insert(0, str(FIXTURE))
import make_submissions as M  # noqa: E402 - the fixtures' one module object

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading_dask")]


def test_autograde_on_a_dask_cluster(tmp_path):
    from distributed import LocalCluster

    course, _subs = M.collected_course(tmp_path, {s: s for s in ("correct", "partial", "os_exit")})
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cl:
        with redirect_stdout(io.StringIO()) as out:
            outcomes = C.autograde(course, scheduler=cl.scheduler_address)
    assert "Dask cluster" in out.getvalue()
    scores = {s: o.score for (s, _a), o in outcomes.items()}
    detail = {s: (o.tests, o.events, o.problems) for (s, _a), o in outcomes.items()}
    assert scores == {"correct": 6, "partial": 3, "os_exit": 2}, detail
