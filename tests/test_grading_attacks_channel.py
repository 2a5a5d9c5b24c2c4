"""Attacks on the grader, classes 1-3 of issue 14, against the real course notebooks.

1. the guard lives in the learner's interpreter, so the learner can replace it;
2. the result channel is forgeable;
3. a point-in-time restore is beaten by anything that acts later.

The design makes each class impossible: test cells run in the trusted grader, never in the
learner's process; the learner's functions are reached through a channel that carries plain data
only. Each attack below is graded as a real submission (learner process in the sandbox when the
machine has one) and must score exactly what the same submission scores without the attack:
the blank score, or the honest score of the other answers.

Also here: the channel's codec refuses what is not plain data, and the anti-delegation checks,
which now read the submitted source text, still catch a learner who calls the course's code.
"""

from __future__ import annotations

import struct

import nbformat
import numpy as np
import pytest

from grading import channel as C
from grading import notebooks as N
from grading.course import make_task
from grading.sandbox import Overtime, grade_task, watchdog
from grading.settings import REPO, Limits

NB = {n: REPO / "notebooks" / name for n, name in (
    ("02", "02_regularization.ipynb"), ("04", "04_gradient_checking.ipynb"),
    ("05", "05_optimization.ipynb"), ("06", "06_softmax_tensorflow.ipynb"))}
LIMITS = Limits(cell_timeout=60, notebook_timeout=300)


def _sandbox() -> bool:
    try:
        from grading import jail

        jail.check_available()
        return True
    except Exception:
        return False


SANDBOX = _sandbox()


def solution(info: N.SourceInfo, gid: str) -> str:
    return next(N.source_text(c) for c in info.nb.cells if N.grade_id(c) == gid)


def grade(nb_key: str, answers: dict[str, str], extra: tuple[tuple[str, str], ...] = (),
          honest: bool = False) -> tuple[float, dict]:
    """Score of a submission: the release, with ``answers`` in the named answer cells (every other
    answer cell honest when ``honest``), and ``extra`` code cells added after named cells."""
    info = N.load_source(NB[nb_key])
    nb = N.student_version(info.nb)
    for cell in nb.cells:
        gid = N.grade_id(cell)
        if gid in answers:
            cell.source = answers[gid]
        elif honest and gid in info.solutions and cell.cell_type == "code":
            cell.source = solution(info, gid)
    for after, code in extra:
        at = next(i for i, c in enumerate(nb.cells) if N.grade_id(c) == after)
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(code))
    task, _asm, problems = make_task(info, nbformat.writes(nb).encode(), "attacker", LIMITS)
    assert task is not None, problems
    task["sandbox"] = SANDBOX
    res = grade_task(task)
    assert res["status"] == "graded", res.get("reason")
    score = sum(info.points[g] for g, r in res["tests"].items() if r["status"] == "passed")
    return score, res


WRONG_GD = "def update_parameters_with_gd(parameters, grads, learning_rate):\n    return parameters\n"
GD_POINTS = 1.0
NB05_MAX = 19.0

# -- class 1: the guard replaced from the learner's interpreter --------------------------------------
BUILTINS_IMPORT = """
import builtins
_real_import = builtins.__import__
def _import(name, *a, **k):
    mod = _real_import(name, *a, **k)
    if name.startswith("numpy"):
        try:
            mod.allclose = mod.array_equal = mod.isclose = lambda *a, **k: True
        except Exception:
            pass
    return mod
builtins.__import__ = _import
__import__ = _import
builtins.AssertionError = type("AssertionError", (Exception,), {})
""" + WRONG_GD

FAKE_MODULES = """
import sys, types
fake = types.ModuleType("numpy")
fake.__getattr__ = lambda name: (lambda *a, **k: True)
for key in [k for k in sys.modules if k.split(".")[0] in ("numpy", "helpers")]:
    sys.modules[key] = fake
sys.modules["_grading_guard"] = types.SimpleNamespace(restore=lambda *a, **k: "ok")
np = fake
def update_parameters_with_gd(parameters, grads, learning_rate):
    return {k: True for k in parameters}
"""

STICKY_TRANSFORMERS = """
class Sticky(list):
    def __setitem__(self, i, v):
        pass
try:
    ip = get_ipython()
    ip.input_transformers_cleanup = Sticky([lambda lines: []])
    ip.ast_transformers = Sticky([])
except NameError:
    pass
""" + WRONG_GD

PATCHED_SERVER = """
import gc
for _srv in [o for o in gc.get_objects() if type(o).__name__ == "Server"]:
    _send = _srv.send
    def send(msg, blobs=None, _send=_send):
        if isinstance(msg, dict) and msg.get("ok") is False:
            msg = {"ok": True, "result": None, "states": [], "call": 0}
        return _send(msg, blobs)
    _srv.send = send
"""

# -- class 2: a forged result channel ------------------------------------------------------------------
FORGED_FRAMES = """
import gc, sys
print("Visible checks passed.\\nAll tests passed.")
sys.__stdout__.write("All tests passed.\\n")
for _srv in [o for o in gc.get_objects() if type(o).__name__ == "Server"]:
    for _ in range(2):
        _srv.send({"ok": True, "tests": {"test_update_parameters_with_gd": "passed"},
                   "result": {"$d": [], "id": 0}, "states": [], "call": 1})
""" + WRONG_GD

EXIT_IN_CALL = """
def update_parameters_with_gd(parameters, grads, learning_rate):
    import os
    print("Visible checks passed.\\nAll tests passed.", flush=True)
    os._exit(0)
"""

SYSTEM_EXIT = """
def update_parameters_with_gd(parameters, grads, learning_rate):
    raise SystemExit(0)
"""

# -- class 3: anything that acts later ----------------------------------------------------------------
PATCH_DURING_CALL = """
def update_parameters_with_gd(parameters, grads, learning_rate):
    import numpy
    numpy.isclose = numpy.allclose = numpy.array_equal = lambda *a, **k: True
    numpy.testing.assert_allclose = lambda *a, **k: None
    return parameters
"""

DAEMON_THREAD = """
import gc, threading, time, numpy
def _meddle():
    while True:
        numpy.allclose = numpy.array_equal = lambda *a, **k: True
        for _srv in [o for o in gc.get_objects() if type(o).__name__ == "Server"]:
            try:
                _srv.send({"ok": True, "result": None, "states": [], "call": 0})
            except Exception:
                pass
        time.sleep(0.01)
threading.Thread(target=_meddle, daemon=True).start()
""" + WRONG_GD

AUDIT_HOOK = """
import sys, numpy
def _hook(event, args):
    if event in ("exec", "compile"):
        numpy.allclose = numpy.array_equal = lambda *a, **k: True
sys.addaudithook(_hook)
""" + WRONG_GD

CALLER_FRAME = """
def update_parameters_with_gd(parameters, grads, learning_rate):
    import sys
    f, found = sys._getframe(1), None
    while f is not None:
        for name in ("want", "expected", "p0", "out"):
            if name in f.f_locals and found is None:
                found = f.f_locals[name]
        f = f.f_back
    return found if isinstance(found, dict) else parameters
"""

LYING_OBJECTS = """
class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array_ufunc__(self, *a, **k): return True
    def __array_function__(self, *a, **k): return True
    def __getitem__(self, key): return self
    def __float__(self): return 0.0
class LiarDict(dict):
    def __getitem__(self, key): return Liar()
def update_parameters_with_gd(parameters, grads, learning_rate):
    return LiarDict({k: Liar() for k in parameters})
"""

LYING_ARRAY = """
import numpy as np
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(self), bool).view(Liar)
    def __array_ufunc__(self, *a, **k): return True
    def __array_function__(self, *a, **k): return True
def update_parameters_with_gd(parameters, grads, learning_rate):
    return {k: np.asarray(v).view(Liar) for k, v in parameters.items()}
"""

# The gd answer cell of each attack, beside honest answers to every other exercise: it must score
# what an honest wrong gd answer scores there (every point but gd's).
BESIDE_HONEST_ANSWERS = {
    "1-builtins-import-and-AssertionError-replaced": BUILTINS_IMPORT,
    "1-sticky-list-transformers": STICKY_TRANSFORMERS,
    "1-server-patched-to-turn-errors-into-ok": PATCHED_SERVER,
    "2-SystemExit-from-an-answer": SYSTEM_EXIT,
    "3-patches-np.isclose-during-a-call": PATCH_DURING_CALL,
    "3-audit-hook": AUDIT_HOOK,
    "3-reads-the-callers-frame": CALLER_FRAME,
    "3-objects-that-agree-with-every-comparison": LYING_OBJECTS,
    "3-ndarray-subclass-that-agrees": LYING_ARRAY,
}
# ... and in an otherwise blank notebook (attacks that would break honest answers too): it must
# score what the blank notebook scores, 0.
IN_A_BLANK_NOTEBOOK = {
    "1-sys.modules-numpy-and-guard-replaced": FAKE_MODULES,
    "2-forged-frames-and-printed-pass": FORGED_FRAMES,
    "2-prints-pass-and-exits-in-a-call": EXIT_IN_CALL,
    "3-daemon-thread": DAEMON_THREAD,
}


def _gd_failed(score: float, res: dict, want: float) -> None:
    gd = res["tests"]["test_update_parameters_with_gd"]
    assert gd["status"] == "failed", gd
    assert score == want, {g: r for g, r in res["tests"].items() if r["status"] != "passed"}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BESIDE_HONEST_ANSWERS))
def test_attack_beside_honest_answers_scores_what_an_honest_wrong_answer_scores(name):
    score, res = grade("05", {"update_parameters_with_gd": BESIDE_HONEST_ANSWERS[name]}, honest=True)
    _gd_failed(score, res, NB05_MAX - GD_POINTS)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(IN_A_BLANK_NOTEBOOK))
def test_attack_in_a_blank_notebook_scores_zero(name):
    score, res = grade("05", {"update_parameters_with_gd": IN_A_BLANK_NOTEBOOK[name]})
    _gd_failed(score, res, 0.0)


@pytest.mark.slow
def test_baselines_honest_wrong_and_blank():
    score, _ = grade("05", {"update_parameters_with_gd": WRONG_GD}, honest=True)
    assert score == NB05_MAX - GD_POINTS
    score, res = grade("05", {})
    assert score == 0 and all(r["status"] == "failed" for r in res["tests"].values())


@pytest.mark.slow
def test_redefining_a_locked_course_function_changes_nothing_for_the_tests():
    """Notebook 04: an answer cell redefines forward_propagation_n (a locked course function the
    test uses for its expected values) to a constant cost, and gradient_check_n returns what
    the test would then expect. The test's forward_propagation_n is the course's own."""
    lazy = "def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7):\n    return 0.0\n"
    redefine = ("def forward_propagation_n(X, Y, parameters):\n"
                "    return 0.0, {}\n")
    plain, r_plain = grade("04", {"gradient_check_n": lazy}, honest=True)
    attacked, r_att = grade("04", {"gradient_check_n": redefine + lazy}, honest=True)
    added, r_add = grade("04", {"gradient_check_n": lazy}, extra=(("setup_network", redefine),),
                         honest=True)
    assert r_plain["tests"]["test_gradient_check_n"]["status"] == "failed"
    assert attacked == plain == added
    assert {g: r["status"] for g, r in r_att["tests"].items()} == \
        {g: r["status"] for g, r in r_plain["tests"].items()}


# -- the anti-delegation checks read the submitted source -------------------------------------------------
@pytest.mark.slow
def test_code_inspection_still_catches_delegation():
    """helpers_called (05) and uses (04), through __code__ / __globals__, see the learner's own
    code, even under an alias."""
    body = ("    L = num_layers(parameters)\n"
            "    for l in range(1, L + 1):\n"
            "        for p in 'Wb':\n"
            "            parameters[p + str(l)] = parameters[p + str(l)] - learning_rate * grads['d' + p + str(l)]\n"
            "    return parameters\n")
    head = "def update_parameters_with_gd(parameters, grads, learning_rate):\n"
    honest_gd = head + "    num_layers = lambda p: len(p) // 2\n" + body
    score, res = grade("05", {"update_parameters_with_gd": honest_gd}, honest=True)
    assert score == NB05_MAX, res["tests"]["test_update_parameters_with_gd"]
    for delegate_gd in ("from helpers.network import num_layers\n" + head + body,
                        head + "    from helpers.network import num_layers\n" + body):
        score, res = grade("05", {"update_parameters_with_gd": delegate_gd}, honest=True)
        msg = res["tests"]["test_update_parameters_with_gd"]["message"]
        assert score == NB05_MAX - GD_POINTS and "from helpers" in msg, msg
    delegate_fixed = ("from helpers.network import model_backward as mb\n"
                      "def backward_propagation_fixed(X, Y, cache):\n"
                      "    return mb(cache, Y)\n")
    _, res = grade("04", {"backward_propagation_fixed": delegate_fixed}, honest=True)
    assert res["tests"]["test_backward_propagation_fixed"]["status"] == "failed"
    assert "helpers' model_backward" in res["tests"]["test_backward_propagation_fixed"]["message"]


# -- the codec: plain data only ---------------------------------------------------------------------------
def roundtrip(value, objects=None):
    enc = C.Encoder()
    frame = C.pack(enc(value), enc.blobs)
    total, head = struct.unpack("<QI", frame[:12])
    message, blobs = C.unpack(frame[12:], head)
    return C.Decoder(blobs, objects=objects)(message)


def test_codec_keeps_plain_data_dtypes_aliasing_and_generators():
    a = np.arange(6.0).reshape(2, 3)
    rng = np.random.default_rng(5)
    got = roundtrip({"a": a, "same": a, "t": (1, 2.5, None, True, "x"), "big": 2**100,
                     "nan": float("nan"), "s": np.float32(1.5), "rng": rng, "set": {1, 2}})
    assert np.array_equal(got["a"], a) and got["a"] is got["same"] and got["a"].flags.writeable
    assert got["t"] == (1, 2.5, None, True, "x") and got["big"] == 2**100
    assert np.isnan(got["nan"]) and type(got["s"]) is np.float32 and got["set"] == {1, 2}
    assert got["rng"].normal() == rng.normal()


@pytest.mark.parametrize("value", [
    np.array([object()], dtype=object), np.array(["a"]), object(), lambda: 1, b"bytes", 2**300,
    type("Liar", (), {"__eq__": lambda s, o: True})(),
])
def test_codec_refuses_what_is_not_plain_data(value):
    with pytest.raises(C.ChannelError):
        C.Encoder()(value)


@pytest.mark.parametrize("node, blobs", [
    ({"$a": 0, "dtype": "object", "shape": [1]}, [b"\0" * 8]),
    ({"$a": 0, "dtype": "float64", "shape": [2]}, [b"\0" * 8]),  # data shorter than its shape
    ({"$a": 3, "dtype": "float64", "shape": [1]}, [b"\0" * 8]),  # missing blob
    ({"$r": 7}, []),  # a reference to nothing
    ({"$l": [1], "extra": 1}, []),  # an unknown key
    ({"$g": "os.system", "state": {"$d": []}}, []),
    ({"$g": "PCG64", "state": {"$d": []}}, []),
    ({"$d": [[{"$l": []}, 1]]}, []),  # an unhashable key
    ({"$i": "1" * 100}, []),
    ({"$a": 0, "dtype": "float64", "shape": [2**31, 0]}, [b""]),  # an absurd (empty) shape
    ({"$a": 0, "dtype": "bool", "shape": [2**20, 2**20, 0]}, [b""]),
    ({"$cb": 1}, []),  # no callables without a handler
    ({"$x": "tensor", "v": 1}, []),
    ("x" * 10, None),
])
def test_decoder_rejects_malformed_or_hostile_nodes(node, blobs):
    if blobs is None:  # a valid string: accepted; the hostile ones are the others
        assert C.Decoder([])(node) == node
        return
    with pytest.raises(C.ChannelError):
        C.Decoder(blobs)(node)


def test_frames_are_bounded_and_checked():
    with pytest.raises(C.ChannelError):
        C.unpack(b'{"m":1,"b":[5]}', 15)  # blobs longer than the frame
    with pytest.raises(C.ChannelError):
        C.unpack(b"[1]", 3)  # not the header's shape
    import io

    huge = struct.pack("<QI", C.MAX_FRAME + 1, 10)
    with pytest.raises(C.ChannelError):
        C.read_frame(io.BytesIO(huge))
    deep = 1
    for _ in range(C.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(C.ChannelError):
        C.Encoder()(deep)


def test_watchdog_stops_a_trusted_loop():
    import time

    t0 = time.monotonic()
    with pytest.raises(Overtime):
        with watchdog(0.5):
            while True:
                pass
    assert time.monotonic() - t0 < 5
    with watchdog(5):  # nothing left pending after a block that ended in time
        pass
    time.sleep(0.1)


# -- infrastructure failures are not grades; hostile output is capped -------------------------------------
def _task(nb_key: str, answers: dict[str, str], extra: tuple[tuple[str, str], ...] = ()) -> dict:
    info = N.load_source(NB[nb_key])
    nb = N.student_version(info.nb)
    for cell in nb.cells:
        if N.grade_id(cell) in answers:
            cell.source = answers[N.grade_id(cell)]
    for after, code in extra:
        at = next(i for i, c in enumerate(nb.cells) if N.grade_id(c) == after)
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(code))
    task, _asm, _ = make_task(info, nbformat.writes(nb).encode(), "x", LIMITS)
    task["sandbox"] = SANDBOX
    return task


@pytest.mark.slow
def test_a_learner_process_that_cannot_start_is_not_graded(monkeypatch, tmp_path):
    import grading.sandbox as S

    broken = tmp_path / "learner_server.py"
    broken.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setattr(S, "SERVER", broken)
    res = grade_task(_task("05", {}))
    assert res["status"] == "not_graded" and res["tests"] == {}
    assert "did not start" in res["reason"]

    def unavailable(*a, **k):
        raise RuntimeError("bubblewrap is not installed")

    monkeypatch.setattr(S, "start_process", unavailable)
    res = grade_task(_task("05", {}))
    assert res["status"] == "not_graded" and "bubblewrap is not installed" in res["reason"]


@pytest.mark.slow
def test_outputs_are_capped(tmp_path):
    noisy = ("import sys\nprint('x' * 30_000_000)\nprint('y' * 30_000_000, file=sys.stderr)\n"
             "raise ValueError('z' * 30_000_000)\n")
    task = _task("05", {}, extra=tuple(("setup", noisy) for _ in range(3)))
    res = grade_task(task)
    assert res["status"] == "graded"
    assert len(res["notebook"]) < 3 * 1024**2
    assert all(len(r["message"]) <= 500 for r in res["tests"].values())


# -- the channel end to end, with a real learner process --------------------------------------------------
LEARNER_CODE = """
import numpy as np
def inplace(d, a):
    d["x"] = 1
    a[0] = 5.0
    return d
def alias(a):
    return a, [a]
def reshape_in_place(a):
    a.shape = (-1,)
    return a.sum()
def draw(rng):
    return rng.normal()
def calls_back(f, x):
    return f(x) + 1
def helper(x):
    return x
def uses_global():
    return helper(2)
def gives_function():
    return print
def raises():
    return {}["missing"]
def batches():
    return ((i, np.arange(i)) for i in range(3))
def __grading_call__(*a):
    return "the view's own name"
kept = []
def keep(f):
    kept.append(f)
def call_kept():
    return kept[0](1)
"""


@pytest.fixture(scope="module")
def remote():
    import time

    from grading.sandbox import Learner
    from grading.trusted import Remote

    learner = Learner(Limits(cell_timeout=30), SANDBOX, [REPO / "helpers", REPO / "data"])

    def request(message, blobs, on_callback):
        return learner.request(message, blobs, on_callback, time.monotonic() + 30)

    reply, _ = request({"op": "run", "code": LEARNER_CODE, "label": "cell 0"}, [], None)
    assert reply["ok"], reply
    yield Remote(request)
    learner.close()


def test_in_place_changes_and_aliasing_come_back(remote):
    d, a = {"w": np.ones(2)}, np.zeros(3)
    w = d["w"]
    out = remote.call("inplace", (d, a), {}, {})
    assert out is d and d["x"] == 1 and d["w"] is w and a[0] == 5.0
    first, second = remote.call("alias", (a,), {}, {})
    assert first is a and second[0] is a


def test_an_argument_reshaped_in_place_comes_back_reshaped(remote):
    """``labels.shape = (-1,)`` changes the caller's array: a test's mutation check must see it."""
    a = np.arange(6.0).reshape(2, 3)
    assert remote.call("reshape_in_place", (a,), {}, {}) == 15.0
    assert a.shape == (6,) and a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_generators_advance_as_if_called_here(remote):
    g, twin = np.random.default_rng(1), np.random.default_rng(1)
    assert remote.call("draw", (g,), {}, {}) == twin.normal()
    assert g.normal() == twin.normal()


def test_callables_run_here_with_plain_data_and_may_call_back(remote):
    seen = []

    def f(x):
        seen.append(x)
        return x * 10

    assert remote.call("calls_back", (f, 3), {}, {}) == 31 and seen == [3]
    nested = lambda x: remote.call("helper", (x,), {}, {})  # noqa: E731
    assert remote.call("calls_back", (nested, 4), {}, {}) == 5
    assert remote.call("uses_global", (), {}, {"helper": lambda x: 100 * x}) == 200
    assert remote.call("uses_global", (), {}, {}) == 2  # the override lasted one call


def test_honest_styles_cross(remote):
    got = remote.call("batches", (), {}, {})  # a generator arrives as a list
    assert [i for i, _ in got] == [0, 1, 2] and np.array_equal(got[2][1], [0, 1])
    assert remote.call("helper", (1 + 2j,), {}, {}) == 1 + 2j
    assert remote.call("helper", (range(3),), {}, {}) == [0, 1, 2]


def test_what_the_learner_cannot_do(remote):
    with pytest.raises(Exception, match="functions|cannot be sent"):
        remote.call("gives_function", (), {}, {})
    with pytest.raises(KeyError):
        remote.call("raises", (), {}, {})
    remote.call("keep", (lambda x: x,), {}, {})
    with pytest.raises(RuntimeError, match="no longer valid"):
        remote.call("call_kept", (), {}, {})
    with pytest.raises(NameError):
        remote.call("no_such_function", (), {}, {})


@pytest.mark.slow
def test_a_slow_cell_or_call_is_interrupted_and_grading_goes_on():
    """Like nbgrader's interrupt on timeout: a learner cell or a call that runs out of time is
    stopped, that cell / test fails, and the rest is graded; code that blocks the interruption
    loses its process (the remaining tests fail), never the batch."""
    info = N.load_source(NB["05"])
    limits = Limits(cell_timeout=12, notebook_timeout=300)

    def run(answers, extra=()):
        task = _task("05", answers, extra)
        task["limits"] = {**task["limits"], "cell_timeout": limits.cell_timeout}
        task["notebook"] = _honest_notebook(info, task)
        res = grade_task(task)
        return sum(info.points[g] for g, r in res["tests"].items() if r["status"] == "passed"), res

    slow_cell = "import time\ntime.sleep(60)\n"
    score, res = run({}, extra=(("update_parameters_with_gd", slow_cell),))
    assert score == NB05_MAX, res["events"]
    loop = "def update_parameters_with_gd(parameters, grads, learning_rate):\n    while True:\n        pass\n"
    score, res = run({"update_parameters_with_gd": loop})
    assert score == NB05_MAX - GD_POINTS
    assert "time limit" in res["tests"]["test_update_parameters_with_gd"]["message"]
    stubborn = ("def update_parameters_with_gd(parameters, grads, learning_rate):\n"
                "    while True:\n        try:\n            while True:\n                pass\n"
                "        except BaseException:\n            pass\n")
    score, res = run({"update_parameters_with_gd": stubborn})
    assert score == 0 and res["status"] == "graded"


def _honest_notebook(info: N.SourceInfo, task: dict) -> str:
    """The task's assembled notebook with every answer cell the test left blank made honest."""
    nb = nbformat.reads(task["notebook"], as_version=4)
    for cell in nb.cells:
        gid = N.grade_id(cell)
        if gid in info.solutions and "NotImplementedError" in cell.source:
            cell.source = solution(info, gid)
    return nbformat.writes(nb)
