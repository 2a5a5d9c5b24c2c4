"""Nothing a learner receives holds a graded answer (course guide, section 2).

A learner receives the student version of every notebook, ``helpers/`` and ``data/``. For each
graded function (the ``grade_id`` of a solution cell) tests/answer_scan.py lists the syntax
patterns of its answer; these tests check that the scanner sees every solution, and that no
pattern occurs in helpers/, data/ or the student release - with one stated exception, the
core's default gradient-descent step (notebooks 01-04 train with it before notebook 05 asks for
it; the README says so). The existing no-solution-in-release test
(tests/test_grading_notebooks.py) checks that solution *text* is stripped; this one checks that
the answer is not elsewhere in other words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grading import notebooks as N
from tests.answer_scan import PATTERNS_BY_NOTEBOOK, Hit, scan, scan_file

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("*.ipynb"))
SHIPPED = sorted(p for d in ("helpers", "data") for p in (ROOT / d).rglob("*.py"))

# (file, function, graded function): answers the course knowingly ships, each with its reason.
ALLOWED = {
    # notebooks 01-04 train with gradient descent before notebook 05 asks for it (README)
    ("helpers/training.py", "_gradient_descent", "update_parameters_with_gd"),
}


def _solutions(path: Path) -> list[tuple[str, str]]:
    """(grade_id, source) of each solution cell."""
    nb = N.read(path)
    return [(N.grade_id(c), N.source_text(c)) for c in nb.cells
            if c.get("cell_type") == "code" and N.is_solution(c) and N.grade_id(c)]


def _release_cells(path: Path) -> list[tuple[str, str, bool]]:
    """(label, source, is_test_cell) of every code cell of the student version."""
    release = N.student_version(N.read(path))
    return [(f"{path.stem}[{N.grade_id(c) or f'cell {i}'}]", N.source_text(c), N.is_test(c))
            for i, c in enumerate(release.cells) if c.get("cell_type") == "code"]


def _report(hits: list[Hit]) -> str:
    return "graded answers a learner would receive:\n" + "\n".join(map(str, hits[:20]))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_graded_function_has_patterns(path):
    graded = {gid for gid, _ in _solutions(path)}
    listed = set(PATTERNS_BY_NOTEBOOK.get(path.name[:2], {}))
    missing = sorted(graded - listed)
    assert not missing, (f"add the patterns of {missing} to PATTERNS_BY_NOTEBOOK[{path.name[:2]!r}] "
                         "in tests/answer_scan.py")
    stale = sorted(listed - graded)
    assert not stale, f"tests/answer_scan.py has patterns for {stale}, which {path.name} does not grade"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_the_scanner_sees_every_solution(path):
    """Each solution, as the source notebook holds it, matches its own patterns: the scan is
    able to find the answer it is looking for."""
    unseen = [gid for gid, src in _solutions(path) if not scan(src, gid, [gid])]
    assert not unseen, f"no pattern of tests/answer_scan.py matches the solution of {unseen}"


# The answers the core itself once held (issue 15), in its own words, and other spellings.
ONCE_IN_THE_CORE = {
    "split_train_dev_test": "cuts = np.round(np.cumsum(fr)[:-1] * m).astype(int)",
    "gradient_check_n": "gflat[i] = (plus - minus) / (2 * eps)",
    "softmax": "E = np.exp(Z - Z.max(axis=0, keepdims=True))\nA = E / E.sum(axis=0, keepdims=True)",
    "softmax_cross_entropy": "c = float(-(Y * np.log(np.maximum(AL, EPS))).sum() / Y.shape[1])",
    "normalize_inputs": "sigma = X_train_raw.std(axis=1, keepdims=True)\nsigma[sigma == 0] = 1.0",
    "batchnorm_forward": "Zn = (Z - Z.mean(axis=1, keepdims=True)) / np.sqrt(Z.var(axis=1, keepdims=True) + 1e-5)",
    "initialize_velocity": "v = {f'd{k}': np.zeros_like(p) for k, p in parameters.items()}",
    "update_parameters_with_gd": "for k in p:\n    p[k] -= lr * g['d' + k]",
    "initialize_parameters_he": "W = rng.normal(0.0, np.sqrt( 2.0/n_prev ), (n, n_prev))",
    "update_parameters_with_adam": "w = w - a * m_hat / (np.sqrt(v_hat)+eps)",
    "update_parameters_with_momentum": "vel['dW1'] = mu * vel['dW1'] + (1.0 - mu) * g",
    "sample_log_uniform": "x = 10.0 ** r.uniform(np.log10(a), np.log10(b), size=k)",
}


@pytest.mark.parametrize("exercise", sorted(ONCE_IN_THE_CORE))
def test_the_scanner_finds_answers_in_other_words(exercise):
    hits = scan(ONCE_IN_THE_CORE[exercise], "example")
    assert exercise in {h.exercise for h in hits}


def test_the_scanner_ignores_machinery():
    """The core's generic pieces are not answers: the binary cross-entropy is not a weighted
    average, a sigmoid is not a learning-rate decay, an L-layer backward loop is not the fix of
    notebook 04's colleague."""
    code = "\n".join((ROOT / "helpers" / "network.py").read_text().splitlines())
    assert scan(code, "helpers/network.py") == []


def _not_allowed(hits: list[Hit]) -> list[Hit]:
    return [h for h in hits if (h.where, h.function, h.exercise) not in ALLOWED]


def test_helpers_and_data_hold_no_graded_answer():
    hits = [h for p in SHIPPED for h in scan_file(p, ROOT)]
    assert not _not_allowed(hits), _report(_not_allowed(hits))
    found = {(h.where, h.function, h.exercise) for h in hits}
    assert ALLOWED <= found, f"stale exceptions (not in the code any more): {ALLOWED - found}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_release_course_cells_hold_no_graded_answer(path):
    """Setup cells, demonstrations, explorers' calls: every code cell but the test cells."""
    hits = [h for label, src, is_test in _release_cells(path) if not is_test
            for h in scan(src, label)]
    assert not hits, _report(hits)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_release_test_cells_hold_no_graded_answer(path):
    """What remains of a test cell in the release (its visible checks) computes no expected
    value with the answer's code; references belong between BEGIN/END HIDDEN TESTS."""
    hits = [h for label, src, is_test in _release_cells(path) if is_test
            for h in scan(src, label)]
    assert not hits, _report(hits)
