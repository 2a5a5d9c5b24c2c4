"""The learner's side of grading: runs inside the sandbox, holds the learner's code, answers calls.

Started by the grader (``grading/sandbox.py``) as ``python -P -s learner_server.py`` inside the
sandbox, with ``channel.py`` beside it (both mounted read-only; nothing else of ``grading/`` is
visible). It speaks length-prefixed frames (``channel.read_frame`` / ``write_frame``) on the
stdin/stdout it was started with; before any learner code runs it moves them to private file
descriptors and points fd 0 at /dev/null and fd 1 at fd 2, so prints never mix with the protocol.

Requests (all plain data): ``hello``; ``run`` (execute one cell of code in the notebook
namespace); ``call`` (call a global of the namespace with plain-data arguments; while it runs, the
named ``overrides`` are bound in the namespace, e.g. a test's stand-in for a course function, and
callables the grader passed are stubs that ask the grader to run them: ``callback`` messages);
``get`` (the value of a global); ``vjp`` (TensorFlow: the gradient of a recent call's outputs).

Everything here is as untrusted as the learner's code, which runs in the same interpreter and can
replace any of it: the grader treats whatever comes back as the learner's data, never as a verdict.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import linecache
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import channel as C  # noqa: E402
import numpy as np  # noqa: E402

OUTPUT_CAP = 100_000  # characters of stdout / stderr kept per request
KEEP_TAPES = 8


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int = OUTPUT_CAP):
        self.parts: list[str] = []
        self.size = 0
        self.cut = 0
        self.cap = cap

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.cut += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self) -> str:
        out = "".join(self.parts)
        return out + (f"\n[output cut: {self.cut} more characters]\n" if self.cut else "")


# -- TensorFlow, only when a message carries tensors ------------------------------------------------
class TFAdapter:
    """Tensors, variables and Keras optimizers to and from plain data (the course's adapter)."""

    OPTIMIZERS = ("SGD", "Adam", "RMSprop", "Adagrad", "Adamax", "Nadam", "AdamW")

    def __init__(self) -> None:
        self.optimizers: dict[int, Any] = {}

    @staticmethod
    def tf() -> Any:
        return sys.modules.get("tensorflow")

    def encode(self, obj: Any, enc: C.Encoder, depth: int) -> dict | None:
        """A variable, tensor or dtype as its node; the tensors of a result are kept in
        ``enc.tf_out`` (the outputs a later vjp request differentiates)."""
        tf = self.tf()
        if tf is None:
            return None
        node = C.tf_node(tf, obj, enc, "a symbolic tensor cannot be sent")
        if node is not None and node["$x"] == "tensor":
            getattr(enc, "tf_out", []).append(obj)
        return node

    def decode(self, node: dict, dec: C.Decoder, depth: int) -> Any:
        import tensorflow as tf

        kind = node["$x"]
        if kind in ("tensor", "variable"):
            arr = C.tensor_values(node, dec)
            obj = tf.constant(arr) if kind == "tensor" else tf.Variable(
                arr, trainable=bool(node.get("trainable", True)))
            getattr(dec, "tf_in", []).append(obj)
            return dec.register(node, obj)
        if kind == "dtype":
            return tf.as_dtype(C.dtype_name(node))
        if kind == "optimizer":
            C._keys(node, {"$x", "handle", "class", "config"})
            return self.optimizer(node, dec, depth)
        raise C.ChannelError(f"unknown kind {kind!r}")

    def optimizer(self, node: dict, dec: C.Decoder, depth: int) -> Any:
        import tensorflow as tf

        handle, cls = node["handle"], node["class"]
        if type(handle) is not int or cls not in self.OPTIMIZERS:
            raise C.ChannelError("unknown optimizer")
        if handle not in self.optimizers:
            config = dec(node["config"], depth + 1)
            if not isinstance(config, dict):
                raise C.ChannelError("an optimizer's configuration must be a dict")
            self.optimizers[handle] = getattr(tf.keras.optimizers, cls).from_config(config)
        return self.optimizers[handle]


# -- the server -----------------------------------------------------------------------------------
class Server:
    def __init__(self, rfile, wfile):
        self.rfile, self.wfile = rfile, wfile
        self.ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins,
                                   "display": display, "get_ipython": get_ipython}
        self.tf = TFAdapter()
        self.tapes: dict[int, tuple] = {}
        self.calls = 0

    # framing
    def send(self, message: dict, blobs: list[bytes] | None = None) -> None:
        C.write_frame(self.wfile, message, blobs or [])

    def receive(self) -> tuple[dict, list[bytes]]:
        message, blobs = C.read_frame(self.rfile)
        if not isinstance(message, dict) or not isinstance(message.get("op"), str):
            raise C.ChannelError("a request without an op")
        return message, blobs

    def loop(self) -> None:
        while True:
            try:
                message, blobs = self.receive()
            except EOFError:
                return
            self.dispatch(message, blobs)

    def dispatch(self, message: dict, blobs: list[bytes]) -> None:
        op = message["op"]
        handler = getattr(self, "op_" + op, None) if op.isidentifier() else None
        if handler is None:
            self.send({"ok": False, "error": C.describe_error(C.ChannelError(f"unknown op {op!r}"))})
            return
        limit = message.get("timeout")
        with time_limit(limit if isinstance(limit, int | float) and limit > 0 else None):
            try:
                reply, out_blobs = handler(message, blobs)
            except C.ChannelError as exc:
                reply, out_blobs = {"ok": False, "error": C.describe_error(exc)}, []
        self.send(reply, out_blobs)

    # requests
    def op_hello(self, message: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        return {"ok": True, "pid": os.getpid(), "python": sys.version.split()[0]}, []

    def op_run(self, message: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        code, label = message.get("code"), message.get("label", "cell")
        if not isinstance(code, str) or not isinstance(label, str):
            raise C.ChannelError("run needs code and a label")
        filename = f"<{label[:60]}>"
        # plain Python: the trusted side stripped IPython magics before sending
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        out, err = CappedText(), CappedText()
        error = None
        t0 = time.monotonic()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                exec(compile(code, filename, "exec"), self.ns)  # noqa: S102 - the learner's cell
            except BaseException as exc:  # noqa: BLE001 - SystemExit too: it is the learner's
                error = C.describe_error(exc)
        return {"ok": error is None, "error": error, "stdout": out.value(), "stderr": err.value(),
                "seconds": time.monotonic() - t0}, []

    def op_get(self, message: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        name = message.get("name")
        if not isinstance(name, str) or name not in self.ns:
            return {"ok": False,
                    "error": C.describe_error(NameError(f"name {name!r} is not defined"))}, []
        enc = C.Encoder(ext=self.tf.encode, iterables=True)
        try:
            node = enc(self.ns[name])
        except C.ChannelError as exc:
            return {"ok": False, "error": C.describe_error(exc)}, []
        return {"ok": True, "value": node}, enc.blobs

    def op_call(self, message: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        name, mode = message.get("name"), message.get("mode", "plain")
        if not isinstance(name, str) or mode not in ("plain", "graph", "tape"):
            raise C.ChannelError("call needs a name and a mode")
        fn = self.ns.get(name)
        if not callable(fn):
            return {"ok": False, "error": C.describe_error(
                NameError(f"{name} is not defined (or not a function)"))}, []
        dec = C.Decoder(blobs, ext=self.tf.decode, on_callable=self.stub)
        dec.tf_in = []
        args = dec(message.get("args"))
        kwargs = dec(message.get("kwargs"))
        watch = list(dec.tf_in)
        overrides = dec(message.get("overrides", {"$d": []}))
        if not isinstance(args, tuple) or not isinstance(kwargs, dict) or not isinstance(overrides, dict):
            raise C.ChannelError("malformed call")
        if not all(isinstance(k, str) for k in (*kwargs, *overrides)):
            raise C.ChannelError("keyword and override names must be strings")
        before = {ref: fingerprint(obj) for ref, obj in dec.objects.items()}
        return self.invoke(fn, args, kwargs, overrides, mode, watch, dec.objects, before)

    def invoke(self, fn: Any, args: tuple, kwargs: dict, overrides: dict, mode: str, watch: list,
               objects: dict, before: dict) -> tuple[dict, list[bytes]]:
        saved = {k: self.ns.get(k, _MISSING) for k in overrides}
        out, err = CappedText(), CappedText()
        self.calls += 1
        call_no = self.calls
        try:
            self.ns.update(overrides)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                result = self.run_call(fn, args, kwargs, mode, watch, call_no)
        except BaseException as exc:  # noqa: BLE001 - the learner's exception is the answer
            return {"ok": False, "error": C.describe_error(exc), "stdout": out.value()}, []
        finally:
            for k, v in saved.items():
                if v is _MISSING:
                    self.ns.pop(k, None)
                else:
                    self.ns[k] = v
        enc = C.Encoder(ext=self.tf.encode, memo={id(o): ref for ref, o in objects.items()},
                        iterables=True)
        enc.keep.extend(objects.values())
        try:
            states = [[ref, enc.contents(obj)] for ref, obj in objects.items()
                      if fingerprint(obj) != before.get(ref)]
            enc.tf_out = []
            node = enc(result)
        except C.ChannelError as exc:
            return {"ok": False, "error": C.describe_error(exc), "stdout": out.value()}, []
        if mode == "tape":
            self.keep_tape(call_no, enc.tf_out)
        return {"ok": True, "result": node, "states": states, "call": call_no,
                "stdout": out.value()}, enc.blobs

    def run_call(self, fn: Any, args: tuple, kwargs: dict, mode: str, watch: list,
                 call_no: int) -> Any:
        if mode == "plain":
            return fn(*args, **kwargs)
        import tensorflow as tf

        if mode == "graph":
            return tf.function(fn)(*args, **kwargs)
        with tf.GradientTape(persistent=True) as tape:
            for t in watch:
                tape.watch(t)
            result = fn(*args, **kwargs)
        self.tapes[call_no] = (tape, watch, [])
        return result

    def keep_tape(self, call_no: int, outputs: list) -> None:
        if call_no in self.tapes:
            tape, watch, _ = self.tapes[call_no]
            self.tapes[call_no] = (tape, watch, outputs)
        for old in sorted(self.tapes)[:-KEEP_TAPES]:
            del self.tapes[old]

    def op_vjp(self, message: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        import tensorflow as tf

        call_no = message.get("call")
        if call_no not in self.tapes:
            raise C.ChannelError("no recorded call to differentiate")
        tape, watch, outputs = self.tapes[call_no]
        ups = C.Decoder(blobs)(message.get("upstream"))
        if not isinstance(ups, list) or len(ups) != len(outputs):
            raise C.ChannelError("one upstream gradient per output is needed")
        grads = tape.gradient(outputs, watch, output_gradients=[
            tf.cast(tf.constant(u), o.dtype) for u, o in zip(ups, outputs)])
        enc = C.Encoder()
        node = enc([None if g is None else np.asarray(tf.convert_to_tensor(g).numpy()) for g in grads])
        return {"ok": True, "grads": node}, enc.blobs

    # callables the grader passed: run on the grader's side, with plain data
    def stub(self, node: dict) -> Any:
        if "$fn" in node:
            C._keys(node, {"$fn"})
            target = self.ns.get(node["$fn"]) if isinstance(node["$fn"], str) else None
            if not callable(target):
                raise C.ChannelError("a reference to an unknown function")
            return target
        C._keys(node, {"$cb"})
        handle = node["$cb"]
        if type(handle) is not int:
            raise C.ChannelError("bad callback handle")

        def callback(*args, **kwargs):
            return self.callback(handle, args, kwargs)

        return callback

    def callback(self, handle: int, args: tuple, kwargs: dict) -> Any:
        enc = C.Encoder(ext=self.tf.encode, iterables=True)
        message = {"op": "callback", "id": handle, "args": enc(args), "kwargs": enc(kwargs)}
        self.send(message, enc.blobs)
        while True:  # the grader's function may itself call the learner's functions
            reply, blobs = C.read_frame(self.rfile)
            if isinstance(reply, dict) and isinstance(reply.get("op"), str):
                self.dispatch(reply, blobs)
                continue
            break
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            raise C.ChannelError("a malformed callback reply")
        if not reply["ok"]:
            err = reply.get("error") or {}
            cls = C.BUILTIN_ERRORS.get(err.get("builtin"), RuntimeError)
            raise cls(str(err.get("message", "the grader's function failed")))
        return C.Decoder(blobs, ext=self.tf.decode, on_callable=self.stub)(reply.get("result"))


_MISSING = object()


class TimeLimit(BaseException):
    """The grader's time for this cell or call is up (like nbgrader interrupting a cell)."""

    def __str__(self) -> str:
        return "the time limit of this cell or call was reached; it was stopped"


def _alarm(signum, frame):
    raise TimeLimit


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the learner's code after ``seconds`` (the grader kills the process a little
    later if this does not work); nested limits restore the outer one."""
    if seconds is None:
        yield
        return
    old_handler = signal.signal(signal.SIGALRM, _alarm)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))


class NoShell:
    """What ``get_ipython()`` returns here: magics and shell commands do nothing (as they are
    stripped from cells); there is no IPython machinery to reach."""

    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    run_cell_magic = system = run_line_magic


def get_ipython() -> NoShell:
    return NoShell()


def display(*objs, **kwargs) -> None:
    """IPython's display(), as text (cells run here without IPython)."""
    for obj in objs:
        print(repr(obj))


def fingerprint(obj: Any) -> Any:
    """What tells whether an argument was changed by a call (content for arrays, identity of the
    items for containers, the state of a generator)."""
    if isinstance(obj, np.ndarray):
        return (obj.shape, obj.dtype.str, hashlib.blake2b(np.ascontiguousarray(obj).tobytes()).digest())
    if isinstance(obj, list):
        return ("list", tuple(id(x) for x in obj))
    if isinstance(obj, dict):
        return ("dict", tuple((k, id(v)) for k, v in obj.items()))
    if isinstance(obj, set | frozenset):
        return ("set", frozenset(obj))
    if isinstance(obj, np.random.Generator):
        return ("rng", repr(obj.bit_generator.state))
    if hasattr(obj, "numpy") and hasattr(obj, "assign"):  # a tf.Variable
        arr = np.asarray(obj.numpy())
        return ("var", arr.shape, hashlib.blake2b(arr.tobytes()).digest())
    return ("other", id(obj))


def main() -> None:
    rfile = os.fdopen(os.dup(0), "rb", buffering=0)
    wfile = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr
    Server(rfile, wfile).loop()


if __name__ == "__main__":
    main()
