"""Parameter dicts as one vector and back.

Gradient checking (notebook 04) flattens every parameter into one vector theta, nudges one
coordinate at a time, and compares with backpropagation's gradient flattened the same way. The
nudging itself is the learner's exercise (gradient_check_n): it is not in the core.
"""

from __future__ import annotations

import numpy as np

from helpers.validate import num_layers


def parameter_keys(parameters: dict) -> list[str]:
    """The keys in the course's order: W1, b1, W2, b2, ... (other keys after, sorted)."""
    L = num_layers(parameters)
    ordered = [k for l in range(1, L + 1) for k in (f"W{l}", f"b{l}") if k in parameters]
    return ordered + sorted(k for k in parameters if k not in ordered)


def dictionary_to_vector(parameters: dict) -> tuple[np.ndarray, list[tuple[str, tuple]]]:
    """All parameters as one column vector theta (n, 1), and the layout to undo it:
    a list of (key, shape) in the order W1, b1, W2, b2, ..."""
    layout = [(k, np.shape(parameters[k])) for k in parameter_keys(parameters)]
    theta = np.concatenate([np.asarray(parameters[k], dtype=float).reshape(-1) for k, _ in layout])
    return theta.reshape(-1, 1), layout


def vector_to_dictionary(theta: np.ndarray, layout: list[tuple[str, tuple]]) -> dict:
    """The inverse of dictionary_to_vector: new arrays (copies), shaped as in ``layout``."""
    theta = np.asarray(theta, dtype=float).reshape(-1)
    need = sum(int(np.prod(shape)) for _, shape in layout)
    if theta.size != need:
        raise ValueError(f"theta has {theta.size} entries but the layout needs {need}")
    out, start = {}, 0
    for key, shape in layout:
        n = int(np.prod(shape))
        out[key] = theta[start : start + n].reshape(shape).copy()
        start += n
    return out


def gradients_to_vector(grads: dict, layout: list[tuple[str, tuple]]) -> np.ndarray:
    """Gradients flattened in the same order as the parameters' layout: dW1, db1, dW2, ..."""
    missing = [f"d{k}" for k, _ in layout if f"d{k}" not in grads]
    if missing:
        raise ValueError(f"grads is missing {missing} (it has {sorted(grads)})")
    for key, shape in layout:
        if np.shape(grads[f"d{key}"]) != tuple(shape):
            raise ValueError(
                f"grads['d{key}'] has shape {np.shape(grads[f'd{key}'])} but must match "
                f"{key}'s shape {tuple(shape)}"
            )
    flat = [np.asarray(grads[f"d{k}"], dtype=float).reshape(-1) for k, _ in layout]
    return np.concatenate(flat).reshape(-1, 1)
