"""Argument checks with messages that say what is wrong and what to do."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("m" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_array(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    shape: tuple | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Return ``value`` as a float array, or raise a ValueError naming the argument.

    ``shape`` may hold None for "any size" (e.g. ``(2, None)`` for "2 rows, any m").
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a numeric numpy array, got {type(value).__name__}"
        ) from None
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        want = _shape_text(shape) if shape is not None else f"{ndim}-D"
        hint = " (examples are columns: use X.reshape(n_x, m) or X.T)" if ndim == 2 else ""
        raise ValueError(f"{name} has shape {arr.shape} but must be {want}{hint}")
    if shape is not None and any(w is not None and w != g for w, g in zip(shape, arr.shape)):
        raise ValueError(f"{name} has shape {arr.shape} but must have shape {_shape_text(shape)}")
    if finite and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s): check the data, or a learning "
            "rate that made training diverge"
        )
    return arr


def num_layers(parameters: Mapping) -> int:
    """L, the number of layers with weights: how many keys are "W" followed by a number
    ("W1", ..., "WL"). The one way the core counts the layers of a parameter dict."""
    return sum(1 for k in parameters if isinstance(k, str) and k[:1] == "W" and k[1:].isdigit())


def check_parameters(parameters: dict, n_x: int | None = None) -> int:
    """Check that ``parameters`` is {"W1","b1",...} with chained shapes; return L."""
    if not isinstance(parameters, dict):
        raise TypeError(
            f"parameters must be a dict {{'W1': ..., 'b1': ...}}, got {type(parameters).__name__}"
        )
    L = num_layers(parameters)
    if L == 0:
        raise ValueError(
            f"parameters has no weights: expected keys 'W1', 'b1', ..., got {sorted(parameters)}"
        )
    prev = n_x
    for l in range(1, L + 1):
        for key in (f"W{l}", f"b{l}"):
            if key not in parameters:
                raise ValueError(f"parameters is missing {key!r} (it has {sorted(parameters)})")
        W, b = np.shape(parameters[f"W{l}"]), np.shape(parameters[f"b{l}"])
        if len(W) != 2:
            raise ValueError(f"parameters['W{l}'] has shape {W} but must be 2-D (n^[{l}], n^[{l - 1}])")
        if prev is not None and W[1] != prev:
            raise ValueError(
                f"parameters['W{l}'] has shape {W} but must be ({W[0]}, {prev}): "
                f"its columns must match the {prev} units of layer {l - 1}"
            )
        if b != (W[0], 1):
            raise ValueError(f"parameters['b{l}'] has shape {b} but must be ({W[0]}, 1)")
        prev = W[0]
    return L


def check_xy(X: object, Y: object, n_x: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """X (n_x, m) and Y (n_y, m) with the same m and finite values."""
    X = check_array(X, "X", ndim=2)
    if n_x is not None and X.shape[0] != n_x:
        raise ValueError(
            f"X has shape {X.shape} but must be ({n_x}, m): layers_dims[0] is {n_x}"
            + (" (did you pass X.T?)" if X.shape[1] == n_x else "")
        )
    Y = check_array(Y, "Y", ndim=2)
    if Y.shape[1] != X.shape[1]:
        hint = " (labels must be a row: Y.reshape(1, -1))" if Y.shape[0] == X.shape[1] else ""
        raise ValueError(
            f"Y has shape {Y.shape} but must be (n_y, {X.shape[1]}): one column per example "
            f"of X{hint}"
        )
    return X, Y
