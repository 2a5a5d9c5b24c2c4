"""The plain-data channel between the trusted grader and the learner's sandboxed process.

Only data crosses: ``None``, booleans, integers (up to 256 bits), floats (NaN and ±inf included),
strings, NumPy arrays and scalars of a numeric or boolean dtype, lists, tuples, dicts (keys:
str, int, float, bool, None or tuples of these) and sets of these, and NumPy random
``Generator`` objects as the *state* of their bit generator. Nothing else is encoded (no pickle,
no objects, no code); a caller may add tagged kinds through a small ``ext`` hook (TensorFlow
tensors cross as their values). Everything received is validated: a node must have exactly one
of the known shapes, every array a whitelisted dtype, and frames, strings, nesting and node
counts are bounded.

Identity is kept inside one message: the second occurrence of a list, dict, set or array is a
reference to the first (``{"$r": n}``), so aliasing (a result that *is* an argument, the same
array twice) survives the crossing.

This file is self-contained (standard library and NumPy only): it is mounted read-only into the
sandbox beside ``learner_server.py``, which imports it as ``channel``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import struct
import types
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np

MAX_FRAME = 32 * 1024**2  # bytes in one message
MAX_NODES = 2_000_000  # values in one message
MAX_DEPTH = 64  # nesting of lists / dicts / tuples
MAX_STR = 4 * 1024**2  # characters in one string
MAX_INT = 2**63  # larger integers cross as decimal text, up to BIG_INT_BITS bits
BIG_INT_BITS = 256
DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64", "complex64", "complex128"]
)
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_HEAD = struct.Struct("<QI")
_ITERABLES = (types.GeneratorType, range, zip, map, filter, enumerate, reversed,
              type({}.keys()), type({}.values()), type({}.items()), itertools.chain)


class ChannelError(Exception):
    """A message that is not plain data, too large, or malformed."""


# -- encoding -------------------------------------------------------------------------------------
class Encoder:
    """Turns plain data into a JSON-able tree plus a list of binary blobs (array bytes).

    ``ext(obj, encoder)`` may return a node for objects of an extra kind (or None);
    ``on_callable(obj)`` may return a node for a callable (or None: a callable is an error).
    """

    def __init__(self, ext: Callable | None = None, on_callable: Callable | None = None,
                 memo: dict | None = None, iterables: bool = False):
        self.blobs: list[bytes] = []
        self.memo: dict[int, int] = {} if memo is None else memo  # id(obj) -> ref number
        self.keep: list[Any] = []  # objects whose id() is in memo stay alive meanwhile
        self.next_ref = max(self.memo.values(), default=-1) + 1
        self.ext = ext
        self.on_callable = on_callable
        self.iterables = iterables  # the learner's side: iterators cross as lists
        self.nodes = 0

    def register(self, obj: Any) -> int:
        ref = self.next_ref
        self.next_ref += 1
        self.memo[id(obj)] = ref
        self.keep.append(obj)
        return ref

    def contents(self, obj: Any) -> Any:
        """The node of an object already known by reference (a changed argument), in full."""
        ref = self.memo.pop(id(obj), None)
        try:
            node = self(obj)
        finally:
            if ref is not None:
                self.memo[id(obj)] = ref
        if isinstance(node, dict):
            node.pop("id", None)
        return node

    def _container(self, obj: Any, depth: int) -> dict:
        """Lists, dicts and sets, subclasses included (an OrderedDict crosses as a dict)."""
        ref = self.register(obj)
        if isinstance(obj, list):
            return {"$l": [self(x, depth + 1) for x in list.__iter__(obj)], "id": ref}
        if isinstance(obj, dict):
            return {"$d": [[self(k, depth + 1), self(v, depth + 1)] for k, v in dict.items(obj)],
                    "id": ref}
        return {"$set": [self(x, depth + 1) for x in obj], "frozen": isinstance(obj, frozenset),
                "id": ref}

    def array(self, arr: np.ndarray) -> dict:
        name = arr.dtype.name
        if name not in DTYPES:
            raise ChannelError(f"arrays of dtype {arr.dtype} cannot be sent (only numbers and booleans)")
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        self.blobs.append(data)
        return {"$a": len(self.blobs) - 1, "dtype": name, "shape": list(arr.shape)}

    def __call__(self, obj: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise ChannelError("the value is too large or too deeply nested to be sent")
        if obj is None or isinstance(obj, bool | str):
            if isinstance(obj, str) and len(obj) > MAX_STR:
                raise ChannelError("a string is too long to be sent")
            return obj
        if type(obj) is int:
            if abs(obj) < MAX_INT:
                return obj
            if obj.bit_length() > BIG_INT_BITS:
                raise ChannelError("an integer is too large to be sent")
            return {"$i": str(obj)}  # e.g. the 128-bit state of a PCG64 generator
        if type(obj) is float:
            return obj if math.isfinite(obj) else {"$f": repr(obj)}
        if id(obj) in self.memo:
            return {"$r": self.memo[id(obj)]}
        return self._compound(obj, depth)

    def _compound(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, np.generic) and not isinstance(obj, np.void | np.object_):
            node = self.array(np.asarray(obj))
            node["scalar"] = True
            return node
        if type(obj) is np.ndarray:
            node = self.array(obj)
            node["id"] = self.register(obj)
            return node
        if isinstance(obj, np.random.Generator):
            bg = obj.bit_generator
            ref = self.register(obj)
            return {"$g": type(bg).__name__, "state": self(bg.state, depth + 1), "id": ref}
        if self.ext is not None:
            node = self.ext(obj, self, depth)
            if node is not None:
                return node
        if isinstance(obj, list | dict | set | frozenset):
            return self._container(obj, depth)
        if isinstance(obj, tuple):  # a namedtuple crosses as a plain tuple
            return {"$t": [self(x, depth + 1) for x in tuple.__iter__(obj)]}
        if isinstance(obj, np.ndarray):  # a subclass (np.matrix, a masked array): its plain data
            return self(np.array(obj, copy=True, subok=False), depth)
        if isinstance(obj, int):  # a subclass of int (an IntEnum): its plain value
            return self(int.__index__(obj), depth)
        if isinstance(obj, float):
            return self(float.__float__(obj), depth)
        if isinstance(obj, complex):
            return self(np.complex128(obj), depth)
        if self.iterables and isinstance(obj, _ITERABLES):  # a generator, zip, map, dict view
            return self(list(itertools.islice(iter(obj), MAX_NODES + 1)), depth)
        if callable(obj) and self.on_callable is not None:
            node = self.on_callable(obj)
            if node is not None:
                return node
        raise ChannelError(f"a {type(obj).__name__} cannot be sent: only numbers, strings, "
                           "NumPy arrays and lists/tuples/dicts of them")


# -- decoding -------------------------------------------------------------------------------------
class Decoder:
    """Rebuilds plain data from a node tree and its blobs, validating every node.

    ``objects`` maps reference numbers to objects that already exist on this side (the caller's
    own arguments): a ``{"$r": n}`` node resolves to them. ``ext(node, decoder)`` rebuilds tagged
    kinds (``{"$x": ...}``); ``on_callable(node)`` rebuilds ``{"$cb"/"$fn": ...}`` nodes.
    """

    def __init__(self, blobs: list[bytes], objects: dict[int, Any] | None = None,
                 ext: Callable | None = None, on_callable: Callable | None = None):
        self.blobs = blobs
        self.objects: dict[int, Any] = {} if objects is None else objects
        self.pending: set[int] = set()
        self.ext = ext
        self.on_callable = on_callable
        self.nodes = 0

    def ref_id(self, node: dict) -> int | None:
        ref = node.get("id")
        if ref is None:
            return None
        if type(ref) is not int or ref < 0:
            raise ChannelError("bad reference number")
        return ref

    def register(self, node: dict, obj: Any) -> Any:
        ref = self.ref_id(node)
        if ref is not None:
            if ref in self.objects and self.objects[ref] is not obj:
                raise ChannelError(f"reference {ref} defined twice")
            self.objects[ref] = obj
        return obj

    def array(self, node: dict) -> np.ndarray:
        _keys(node, {"$a", "dtype", "shape"}, {"id", "scalar"})
        idx, dtype, shape = node["$a"], node["dtype"], node["shape"]
        if type(idx) is not int or not 0 <= idx < len(self.blobs):
            raise ChannelError("an array refers to missing data")
        if dtype not in DTYPES:
            raise ChannelError(f"arrays of dtype {dtype!r} are not accepted")
        if (not isinstance(shape, list) or len(shape) > 32
                or not all(type(n) is int and 0 <= n < 2**31 for n in shape)
                or math.prod(n for n in shape if n) > MAX_FRAME):
            raise ChannelError("an array has a malformed shape")
        dt = np.dtype(dtype).newbyteorder("<")
        count = math.prod(shape)
        data = self.blobs[idx]
        if count * dt.itemsize != len(data):
            raise ChannelError("an array's data does not match its shape and dtype")
        arr = np.frombuffer(data, dtype=dt).astype(np.dtype(dtype), copy=True).reshape(shape)
        if node.get("scalar"):
            if shape:
                raise ChannelError("a scalar with a shape")
            return arr[()]
        return arr

    def __call__(self, node: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise ChannelError("the value is too large or too deeply nested")
        if node is None or isinstance(node, bool | str):
            return node
        if type(node) is int:
            if abs(node) >= MAX_INT:
                raise ChannelError("an integer is too large")
            return node
        if type(node) is float:
            return node
        if not isinstance(node, dict):
            raise ChannelError(f"unexpected {type(node).__name__} in a message")
        return self._compound(node, depth)

    def _compound(self, node: dict, depth: int) -> Any:
        if "$r" in node:
            _keys(node, {"$r"})
            ref = node["$r"]
            if type(ref) is not int or ref not in self.objects or ref in self.pending:
                raise ChannelError("a reference to an unknown object")
            return self.objects[ref]
        if "$i" in node:
            _keys(node, {"$i"})
            text = node["$i"]
            if not isinstance(text, str) or not re.fullmatch(r"-?[0-9]{1,80}", text):
                raise ChannelError("bad big integer")
            value = int(text)
            if value.bit_length() > BIG_INT_BITS:
                raise ChannelError("an integer is too large")
            return value
        if "$f" in node:
            _keys(node, {"$f"})
            if node["$f"] not in ("nan", "inf", "-inf"):
                raise ChannelError("bad special float")
            return float(node["$f"])
        if "$a" in node:
            return self.register(node, self.array(node))
        if "$l" in node:
            _keys(node, {"$l"}, {"id"})
            out: list = self.register(node, [])
            out.extend(self(x, depth + 1) for x in _list(node["$l"]))
            return out
        if "$t" in node:
            _keys(node, {"$t"})
            return tuple(self(x, depth + 1) for x in _list(node["$t"]))
        if "$d" in node:
            _keys(node, {"$d"}, {"id"})
            d: dict = self.register(node, {})
            for pair in _list(node["$d"]):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ChannelError("a malformed dict entry")
                d[_key(self(pair[0], depth + 1))] = self(pair[1], depth + 1)
            return d
        if "$set" in node:
            _keys(node, {"$set", "frozen"}, {"id"})
            items = [_key(self(x, depth + 1)) for x in _list(node["$set"])]
            return self.register(node, frozenset(items) if node["frozen"] else set(items))
        if "$g" in node:
            return self.generator(node, depth)
        if "$x" in node and self.ext is not None:
            return self.ext(node, self, depth)
        if ("$cb" in node or "$fn" in node) and self.on_callable is not None:
            return self.on_callable(node)
        raise ChannelError("an unknown kind of value in a message")

    def generator(self, node: dict, depth: int) -> np.random.Generator:
        _keys(node, {"$g", "state"}, {"id"})
        name = node["$g"]
        if name not in BIT_GENERATORS:
            raise ChannelError(f"unknown bit generator {name!r}")
        state = self(node["state"], depth + 1)
        bg = getattr(np.random, name)()
        try:
            bg.state = state
        except Exception as exc:
            raise ChannelError(f"a malformed {name} state ({type(exc).__name__})") from None
        return self.register(node, np.random.Generator(bg))


def _keys(node: dict, required: set, optional: set = frozenset()) -> None:
    keys = set(node)
    if not required <= keys or keys - required - optional:
        raise ChannelError(f"a malformed node with keys {sorted(keys)[:8]}")


def tf_node(tf: Any, obj: Any, enc: Encoder, symbolic: str) -> dict | None:
    """The node of a TensorFlow variable (its values and a reference id), eager tensor (its
    values) or dtype (its name), for both sides' adapters; None for anything else. ``tf`` is the
    imported tensorflow module; ``symbolic``: the error for a tensor that has no values."""
    if isinstance(obj, tf.Variable):
        return {"$x": "variable", "v": enc.array(np.asarray(obj.numpy())), "id": enc.register(obj)}
    if isinstance(obj, tf.Tensor):
        if not hasattr(obj, "numpy"):
            raise ChannelError(symbolic)
        return {"$x": "tensor", "v": enc.array(np.asarray(obj.numpy()))}
    if isinstance(obj, tf.dtypes.DType):
        return {"$x": "dtype", "name": obj.name}
    return None


def tensor_values(node: dict, dec: Decoder) -> np.ndarray:
    """The checked values of a TensorFlow tensor/variable node (both sides' adapters)."""
    _keys(node, {"$x", "v"}, {"id", "trainable"})
    if not isinstance(node["v"], dict) or "$a" not in node["v"]:
        raise ChannelError("a tensor without values")
    return dec.array(node["v"])


def dtype_name(node: dict) -> str:
    """The checked name of a TensorFlow dtype node (one of the numeric dtypes in DTYPES)."""
    _keys(node, {"$x", "name"})
    if node["name"] not in DTYPES:
        raise ChannelError("unknown dtype")
    return node["name"]


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise ChannelError("expected a list in a message")
    return value


def _key(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple) and all(_key(v) is v for v in value):
        return value
    raise ChannelError(f"a {type(value).__name__} cannot be a dict key")


# -- framing --------------------------------------------------------------------------------------
def pack(message: Any, blobs: list[bytes]) -> bytes:
    """One frame: a little-endian header (total length, header length), JSON, then the blobs."""
    header = json.dumps({"m": message, "b": [len(b) for b in blobs]},
                        separators=(",", ":"), allow_nan=False).encode()
    body = header + b"".join(blobs)
    if len(body) > MAX_FRAME:
        raise ChannelError(f"a message of {len(body)} bytes is larger than {MAX_FRAME}")
    return _HEAD.pack(len(body), len(header)) + body


def unpack(body: bytes, header_len: int) -> tuple[Any, list[bytes]]:
    if not 0 < header_len <= len(body):
        raise ChannelError("a malformed frame")
    try:
        header = json.loads(body[:header_len])
    except (ValueError, RecursionError):
        raise ChannelError("a frame whose header is not JSON") from None
    if not isinstance(header, dict) or set(header) != {"m", "b"} or not isinstance(header["b"], list):
        raise ChannelError("a malformed frame header")
    blobs, pos = [], header_len
    for n in header["b"]:
        if type(n) is not int or n < 0 or pos + n > len(body):
            raise ChannelError("a frame's blobs do not add up")
        blobs.append(body[pos:pos + n])
        pos += n
    if pos != len(body):
        raise ChannelError("a frame with trailing bytes")
    return header["m"], blobs


def read_frame(stream: BinaryIO) -> tuple[Any, list[bytes]]:
    """Read one frame; EOFError when the stream ends."""
    head = _read_exact(stream, _HEAD.size)
    total, header_len = _HEAD.unpack(head)
    if total > MAX_FRAME:
        raise ChannelError(f"a frame of {total} bytes is larger than {MAX_FRAME}")
    return unpack(_read_exact(stream, total), header_len)


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_frame(stream: BinaryIO, message: Any, blobs: list[bytes]) -> None:
    stream.write(pack(message, blobs))
    stream.flush()


# -- exceptions -----------------------------------------------------------------------------------
# Exceptions a learner's function raised cross as (type name, nearest builtin type, message); the
# trusted side re-raises the builtin type so that a test's `except KeyError` still works.
BUILTIN_ERRORS = {
    cls.__name__: cls
    for cls in (ArithmeticError, AssertionError, AttributeError, FloatingPointError, IndexError,
                KeyError, LookupError, MemoryError, NameError, NotImplementedError, OverflowError,
                RecursionError, RuntimeError, TypeError, UnboundLocalError, ValueError,
                ZeroDivisionError, StopIteration)
}


def describe_error(exc: BaseException, limit: int = 2000) -> dict:
    builtin = next((c.__name__ for c in type(exc).__mro__ if c.__name__ in BUILTIN_ERRORS
                    and BUILTIN_ERRORS[c.__name__] is c), None)
    try:
        text = str(exc)
    except Exception:
        text = "(an error whose message cannot be shown)"
    if isinstance(exc, KeyError) and exc.args:
        text = repr(exc.args[0]) if len(exc.args) == 1 else text
    return {"type": type(exc).__name__[:100], "builtin": builtin, "message": text[:limit]}
