"""A centred numerical gradient for the core's own tests.

It lives in tests/, not in helpers/: it is the heart of notebook 04's graded ``gradient_check_n``,
and nothing a learner receives may contain a graded answer (the course guide, §2).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """Centred differences (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one coordinate at a time.

    ``x`` is any float array; it is restored exactly after each nudge.
    """
    x = np.asarray(x, dtype=float)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f(x)
        flat[i] = old - eps
        minus = f(x)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
