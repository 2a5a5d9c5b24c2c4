"""The checks of notebook 01 (initialization): what its test cells call, and the sentence that
names each mistake.

Each check takes the learner's initializer as an argument. None computes a graded answer: the
weights are judged by their statistics (mean, standard deviation, the share beyond one or two
standard deviations) on layers large enough for these to be sharp, against the scale each
docstring states; the mistakes named are other scales a learner may have used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from helpers.checks import (
    Snapshot,
    check,
    check_layer_parameters,
    check_weight_scale,
    function_name,
)

Scale = Callable[[int, int], float]  # (n^[l-1], n^[l]) -> a standard deviation


def _call(init: Callable, dims: list[int], *args: object, **kwargs: object) -> object:
    """``init(dims, *args, **kwargs)``, after which ``dims`` must be as it was (checked before the
    parameters are judged against it, so an initializer that appends to layers_dims is told so,
    not that its loop has the wrong range)."""
    snapshot = Snapshot(layers_dims=dims)
    p = init(dims, *args, **kwargs)
    snapshot.check_unchanged(function_name(init, "your initializer"))
    return p


def check_all_zeros(init: Callable, dims: list[int]) -> None:
    """``init(dims)``: a W and a b for each layer, of the right shapes and float, all zero."""
    p = _call(init, dims)
    check_layer_parameters(p, dims, "initialize_parameters_zeros")
    for key, value in p.items():
        check(np.all(np.asarray(value) == 0), f"{key} should be all zeros, but it holds nonzero "
              "values")


def check_leaves_dims_unchanged(init: Callable, dims: list[int], *args: object) -> None:
    """``init(dims, *args)`` leaves the list of layer sizes as it was."""
    _call(init, dims, *args)


def check_gaussian_weights(init: Callable, dims: list[int], scale: float, seed: int) -> None:
    """``init(dims, rng, scale=scale)``: zero biases; the weights of W1 (make it large: its
    statistics are then sharp) centred, of standard deviation ``scale``, with 68.3 % of them
    within one standard deviation of 0, as Gaussian numbers."""
    p = _call(init, dims, np.random.default_rng(seed), scale=scale)
    check_layer_parameters(p, dims, "initialize_parameters_random")
    for l in range(1, len(dims)):
        check(np.all(np.asarray(p[f"b{l}"]) == 0), f"b{l} is not zero: the biases start at 0 (the "
              "random weights already break the symmetry)")
    W1 = np.asarray(p["W1"])
    check(abs(W1.mean()) < 0.02 * scale, f"the weights have mean {W1.mean():.3g} but should be "
          "centred on 0: rng.random / np.random.rand draw from [0, 1); use rng.standard_normal")
    check(abs(W1.std() / scale - 1) < 0.04, f"the standard deviation of W1 is {W1.std():.3g} but "
          f"scale={scale:g} asks for {scale:g} (multiply the standard normal numbers by `scale`)")
    inside = np.mean(np.abs(W1) < scale)
    check(abs(inside - 0.6827) < 0.01, f"{inside:.1%} of the weights are within one standard "
          "deviation of 0, but for Gaussian numbers it is 68.3%: draw them with "
          "rng.standard_normal (not a uniform distribution)")


def check_uses_scale(init: Callable, dims: list[int], scale: float, seed: int) -> None:
    """Another ``scale`` gives weights of that standard deviation (not a fixed number)."""
    W1 = np.asarray(_call(init, dims, np.random.default_rng(seed), scale=scale)["W1"])
    check(abs(np.std(W1) / scale - 1) < 0.04, f"with scale={scale:g} the standard deviation of W1 "
          f"is {np.std(W1):.3g}, not {scale:g}: use the `scale` argument instead of a fixed number")


# The scales a learner may use instead of He's sqrt(2 / n^[l-1]) or Xavier's sqrt(1 / n^[l-1]),
# each with the sentence that names it.
HE_MISTAKES: list[tuple[str, Scale]] = [
    ("sqrt(1/n^[l-1]), which is Xavier's scale: He uses sqrt(2/n^[l-1]) for ReLU layers",
     lambda n_prev, n: np.sqrt(1 / n_prev)),
    ("sqrt(2/n^[l]): you used the layer's own size n^[l] = layers_dims[l]; use the number of its "
     "inputs n^[l-1] = layers_dims[l-1]", lambda n_prev, n: np.sqrt(2 / n)),
    ("2/n^[l-1], the variance: multiply by its square root, sqrt(2/n^[l-1])",
     lambda n_prev, n: 2 / n_prev),
    ("1: you forgot to multiply the standard normal numbers by sqrt(2/n^[l-1])",
     lambda n_prev, n: 1.0),
    ("Glorot's sqrt(2/(n^[l-1] + n^[l])): He's scale counts only the inputs, sqrt(2/n^[l-1])",
     lambda n_prev, n: np.sqrt(2 / (n_prev + n))),
]
XAVIER_MISTAKES: list[tuple[str, Scale]] = [
    ("sqrt(2/n^[l-1]), which is He's scale for ReLU: Xavier uses sqrt(1/n^[l-1])",
     lambda n_prev, n: np.sqrt(2 / n_prev)),
    ("sqrt(1/n^[l]): you used the layer's own size n^[l] = layers_dims[l]; use the number of its "
     "inputs n^[l-1] = layers_dims[l-1]", lambda n_prev, n: np.sqrt(1 / n)),
    ("Glorot's sqrt(2/(n^[l-1] + n^[l])) (as in helpers' glorot_uniform): this notebook's Xavier "
     "is the fan-in version sqrt(1/n^[l-1])", lambda n_prev, n: np.sqrt(2 / (n_prev + n))),
    ("1/n^[l-1], the variance: multiply by its square root, sqrt(1/n^[l-1])",
     lambda n_prev, n: 1 / n_prev),
    ("1: you forgot to multiply the standard normal numbers by sqrt(1/n^[l-1])",
     lambda n_prev, n: 1.0),
]


def check_he_scale(init: Callable, dims: list[int], seed: int) -> None:
    """Zero biases, Gaussian weights of standard deviation sqrt(2 / n^[l-1]) in every large
    layer (the docstring's scale), else the mistake whose scale they have."""
    check_weight_scale(init, "He", dims, lambda n_prev, n: np.sqrt(2 / n_prev), HE_MISTAKES, seed)


def check_xavier_scale(init: Callable, dims: list[int], seed: int) -> None:
    """Zero biases, Gaussian weights of standard deviation sqrt(1 / n^[l-1]) in every large
    layer (the docstring's scale), else the mistake whose scale they have."""
    check_weight_scale(init, "Xavier", dims, lambda n_prev, n: np.sqrt(1 / n_prev),
                       XAVIER_MISTAKES, seed)
