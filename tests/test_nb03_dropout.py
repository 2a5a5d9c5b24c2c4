"""Notebook 03 (dropout): its autograder cells accept correct solutions in several styles and
reject each classic mistake with a message pointing at it; its explorer runs the learner's
functions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nbtools import Notebook

NB = Notebook("03")
pytestmark = NB.pytestmark
FWD, BWD = "forward_propagation_with_dropout", "backward_propagation_with_dropout"


@pytest.fixture(scope="module")
def base_ns():
    return NB.namespace()



def test_structure():
    kinds = {(k, g) for k, g, _ in NB.cells()}
    for fn in (FWD, BWD):
        assert ("solution", fn) in kinds and ("test", f"test_{fn}") in kinds
    # the L2 functions of notebook 02 appear only inside solution regions here
    for kind, gid, src in NB.cells():
        if kind != "solution":
            assert "lambd / m * W" not in src and "lambd / (2 * m)" not in src, gid


@pytest.mark.parametrize("test_id", [f"test_{FWD}", f"test_{BWD}"])
def test_reference_solution_passes(base_ns, test_id):
    NB.must_pass(test_id, ns=base_ns)


# ---------------------------------------------------------------- forward
FWD_SRC = '''
def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    {pre}
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    D1 = {mask1}
    A1 = {drop1}
    Z2 = W2 @ A1 + b2
    A2 = np.maximum(Z2, 0)
    D2 = {mask2}
    A2 = A2 * D2 / keep_prob
    Z3 = W3 @ A2 + b3
    A3 = 1 / (1 + np.exp(-Z3))
    {post}
    return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
'''
FOK = dict(pre="", post="", mask1="rng.random(A1.shape) < keep_prob",
           mask2="rng.random(A2.shape) < keep_prob", drop1="A1 * D1 / keep_prob")
FWD_MUTANTS = {
    "no_division": (dict(FOK, drop1="A1 * D1"), "divide by keep_prob"),
    "divided_twice": (dict(FOK, drop1="A1 * D1 / keep_prob / keep_prob"), "twice"),
    "inverted_comparison": (dict(FOK, mask1="rng.random(A1.shape) > keep_prob",
                                 mask2="rng.random(A2.shape) > keep_prob"), "inverted"),
    "mask_per_unit_only": (dict(FOK, mask1="rng.random((A1.shape[0], 1)) < keep_prob"),
                           "wrong shape"),
    "mask_flat": (dict(FOK, mask2="rng.random(A2.shape[0]) < keep_prob"), "wrong shape"),
    "dropout_on_input": (dict(FOK, pre="X = X * (rng.random(X.shape) < keep_prob) / keep_prob"),
                         "input layer"),
    "dropout_on_output": (dict(FOK, post="A3 = A3 * (rng.random(A3.shape) < keep_prob) / keep_prob"),
                          "output layer"),
    "global_random": (dict(FOK, mask1="np.random.rand(*A1.shape) < keep_prob"), "rng argument"),
    "seeded_inside": (dict(FOK, pre="rng = np.random.default_rng(0)"), "rng argument"),
}


FWD_ALTERNATIVES = [
    # a loop over the two hidden layers, uniform draws via rng.uniform, float masks, np.dot
    '''
def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
    A = X
    out = []
    for l in (1, 2):
        W, b = parameters["W%d" % l], parameters["b%d" % l]
        Z = np.dot(W, A) + b
        A = np.where(Z > 0, Z, 0.0)
        D = (rng.uniform(0, 1, size=A.shape) < keep_prob).astype(float)
        A = np.multiply(A, D)
        A = A / keep_prob
        out += [Z, D, A, W, b]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z3 = np.dot(W3, A) + b3
    A3 = 1.0 / (1.0 + np.exp(-Z3))
    return A3, tuple(out + [Z3, A3, W3, b3])
''',
    # the core's relu/sigmoid, binomial masks
    '''
def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ["W1", "b1", "W2", "b2", "W3", "b3"])
    Z1 = W1.dot(X) + b1
    A1, _ = relu_forward(Z1)
    D1 = rng.binomial(1, keep_prob, size=A1.shape)
    A1 = (A1 * D1) * (1 / keep_prob)
    Z2 = W2.dot(A1) + b2
    A2, _ = relu_forward(Z2)
    D2 = rng.binomial(1, keep_prob, size=A2.shape)
    A2 = (A2 * D2) * (1 / keep_prob)
    Z3 = W3.dot(A2) + b3
    A3, _ = sigmoid_forward(Z3)
    return A3, (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
''',
]


@pytest.mark.parametrize("i", range(len(FWD_ALTERNATIVES)))
def test_forward_alternatives_pass(i):
    NB.must_pass(f"test_{FWD}", {FWD: FWD_ALTERNATIVES[i]})


# ---------------------------------------------------------------- backward
BWD_SRC = '''
def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    m = X.shape[1]
    (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3) = cache
    {pre}
    dZ3 = A3 - Y
    dW3 = dZ3 @ A2.T / m
    db3 = np.sum(dZ3, axis=1, keepdims=True) / m
    dA2 = W3.T @ dZ3
    dA2 = {drop2}
    dZ2 = dA2 * ({act2} > 0)
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = W2.T @ dZ2
    dA1 = {drop1}
    dZ1 = dA1 * ({act1} > 0)
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {{"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2, "dW3": dW3, "db3": db3}}
'''
BOK = dict(pre="", drop1="dA1 * D1 / keep_prob", drop2="dA2 * D2 / keep_prob",
           act1="A1", act2="A2")
ZOK = dict(BOK, act1="Z1", act2="Z2")  # ReLU derivative from Z: the masks must be applied
BWD_MUTANTS = {
    "masks_not_used": (dict(ZOK, drop1="dA1 / keep_prob", drop2="dA2 / keep_prob"),
                       "multiply dA2 by the mask D2"),
    "masks_and_division_missing": (dict(ZOK, drop1="dA1", drop2="dA2"),
                                   "multiply dA2 by the mask D2"),
    "mask_layer_1_missing": (dict(ZOK, drop1="dA1 / keep_prob"), "multiply dA1 by the mask D1"),
    "no_division_z_style": (dict(ZOK, drop1="dA1 * D1", drop2="dA2 * D2"),
                            "does not change with keep_prob"),
    "no_division": (dict(BOK, drop1="dA1 * D1", drop2="dA2 * D2"), "does not change with keep_prob"),
    "divided_twice": (dict(BOK, drop1="dA1 * D1 / keep_prob ** 2",
                           drop2="dA2 * D2 / keep_prob ** 2"), "twice"),
    "new_masks": (dict(BOK, pre="D1 = np.random.rand(*A1.shape) < keep_prob; "
                                "D2 = np.random.rand(*A2.shape) < keep_prob"), "don't draw new masks"),
}


# The cached A1 is after dropout: recomputing relu(Z1) for dW2 drops the masks and the division.
# It divides dA1 and dA2 by keep_prob correctly, so it must not be told it forgot to.
RECOMPUTE = BWD_SRC.format(**BOK).replace("dW2 = dZ2 @ A1.T / m", "dW2 = dZ2 @ np.maximum(Z1, 0).T / m")


def test_forward_returning_no_cache_is_told_so():
    """A cache that is not a tuple is a sentence about the cache, not len()'s TypeError."""
    src = FWD_SRC.format(**FOK).replace("return A3, (Z1, D1,", "return A3, None and (Z1, D1,")
    NB.must_fail(f"test_{FWD}", {FWD: src}, "14 items, got NoneType")


def test_backward_recomputing_relu_is_told_so():
    ok, msg = NB.run_test(f"test_{BWD}", {BWD: RECOMPUTE})
    assert not ok
    assert "instead of recomputing relu(Z1)" in msg
    assert "forgot" not in msg and "does not change with keep_prob" not in msg


def test_backward_without_mask_but_with_a_style_relu_passes():
    """dZ = dA / keep_prob * (A > 0) uses the cached, masked A: dropped units get no gradient."""
    ok, msg = NB.run_test(f"test_{BWD}", {BWD: BWD_SRC.format(**dict(BOK, drop1="dA1 / keep_prob",
                                                                 drop2="dA2 / keep_prob"))})
    assert ok, msg


def test_backward_z_style_passes():
    NB.must_pass(f"test_{BWD}", {BWD: BWD_SRC.format(**ZOK)})


# ---------------------------------------------------------------- issue 16, a second set
def _fwd(replace=(), **fields):
    """The forward template with some fields changed, then text replacements (old, new)."""
    src = FWD_SRC.format(**dict(FOK, **fields))
    for old, new in replace:
        assert old in src, old
        src = src.replace(old, new)
    return src


def _bwd(base=BOK, replace=(), **fields):
    src = BWD_SRC.format(**dict(base, **fields))
    for old, new in replace:
        assert old in src, old
        src = src.replace(old, new)
    return src


MASK_Z1 = ("A1 = np.maximum(Z1, 0)\n    D1 = rng.random(A1.shape) < keep_prob\n    A1 = A1 * D1 / keep_prob",
           "D1 = rng.random(Z1.shape) < keep_prob\n    Z1 = Z1 * D1 / keep_prob\n    A1 = np.maximum(Z1, 0)")
MASK_Z2 = ("A2 = np.maximum(Z2, 0)\n    D2 = rng.random(A2.shape) < keep_prob\n    A2 = A2 * D2 / keep_prob",
           "D2 = rng.random(Z2.shape) < keep_prob\n    Z2 = Z2 * D2 / keep_prob\n    A2 = np.maximum(Z2, 0)")
MORE_MUTANTS = [  # (function, source, keyword of the message)
    (FWD, _fwd([MASK_Z1]), "Z1 in the cache is masked"),  # once told "don't apply dropout to X"
    (FWD, _fwd([MASK_Z2]), "Z2 in the cache is masked"),  # once told "with A1 AFTER dropout"
    (FWD, _fwd(mask1="rng.random(A1.shape) < 1 - keep_prob", mask2="rng.random(A2.shape) < 1 - keep_prob"),
     "or < 1 - keep_prob"),  # once told "the comparison is inverted" only
    (FWD, _fwd(mask1="rng.binomial(1, 1 - keep_prob, A1.shape)", mask2="rng.binomial(1, 1 - keep_prob, A2.shape)"),
     "probability of KEEPING"),
    (FWD, _fwd([("Z2 = W2 @ A1 + b2", "Z2 = (W2 @ A1 + b2) / keep_prob")], drop1="A1 * D1"), "keep_prob times too small"),
    (FWD, _fwd([("Z2 = W2 @ A1 + b2", "Z2 = W2 @ (A1 * D1 / keep_prob) + b2")], drop1="A1"), "after dropout"),
    (FWD, _fwd(drop1="A1 * D1 * keep_prob"), "you multiplied by keep_prob"),
    (FWD, _fwd([("A2 = A2 * D2 / keep_prob", "A2 = A2 * D2")]), "a kept unit of A2"),
    (FWD, _fwd(mask2="D1"), "masks of the wrong shape"),
    (FWD, _fwd(mask1="np.random.binomial(1, keep_prob, A1.shape)"), "not from np.random"),
    (FWD, _fwd(mask1="rng.random((1, A1.shape[1])) < keep_prob"), "one coin per unit AND per example"),
    (FWD, _fwd(mask1="rng.random(A1.T.shape) < keep_prob"), "masks of the wrong shape"),
    (FWD, _fwd([("(Z1, D1, A1, W1, b1, Z2, D2, A2,", "(Z1, A1, W1, b1, Z2, A2,")]), "14 items, got 12"),
    (FWD, _fwd([("return A3, (Z1, D1, A1,", "return A3, (Z1, A1, D1,")]),
     "A1 where D1 belongs"),  # once told "D1 must hold only 0s and 1s"
    (FWD, _fwd(pre="rng = np.random.default_rng(int(keep_prob * 100))"), "different generators gave the same"),
    (FWD, _fwd(pre="parameters.pop('W3')"), "changed its argument parameters"),
    (FWD, _fwd(pre="X *= (rng.random(X.shape) < keep_prob) / keep_prob"), "changed its argument X"),
    (FWD, _fwd(post="A3 = A3 / keep_prob"), "no rescaling"),
    (FWD, _fwd([("A1 = np.maximum(Z1, 0)\n    D1 = rng.random(A1.shape) < keep_prob",
                 "A1 = np.maximum(Z1, 0)\n    D2 = rng.random((W2.shape[0], X.shape[1])) < keep_prob\n"
                 "    D1 = rng.random(A1.shape) < keep_prob")], mask2="D2"),
     "draw D1 first, then D2"),  # passed every check: the docstring's order was not tested
    (FWD, _fwd([("A1 = np.maximum(Z1, 0)\n    D1 = rng.random(A1.shape) < keep_prob",
                 "A1 = np.maximum(Z1, 0)\n    U = rng.random((X.shape[1], W1.shape[0] + W2.shape[0])).T\n"
                 "    D1 = U[:A1.shape[0]] < keep_prob")], mask2="U[A1.shape[0]:] < keep_prob"),
     "draw D1 first, then D2"),
    (BWD, _bwd(drop1="dA1 * D1 * keep_prob", drop2="dA2 * D2 * keep_prob"), "grew 0.5-fold"),
    (BWD, _bwd(pre="D1 /= keep_prob; D2 /= keep_prob", drop1="dA1 * D1", drop2="dA2 * D2"),
     "changed its argument cache"),
    (BWD, _bwd(drop1="dA1 * D2 / keep_prob", drop2="dA2 * D1 / keep_prob"), "could not be broadcast"),
    (BWD, _bwd(pre="m = Y.shape[0]"), "check the plain backprop"),
    (BWD, _bwd(drop1="dA1 * D1", drop2="dA2 * D2", replace=[("dW2 = dZ2 @ A1.T / m", "dW2 = dZ2 @ A1.T / m / keep_prob")]),
     "does not change with keep_prob"),
    (BWD, _bwd(drop1="dA1 * D1 / keep_prob", drop2="dA2 * D2"), "does not change with keep_prob"),
    (BWD, _bwd(drop1="dA1 * D1", drop2="dA2 * D2 / keep_prob"), "grew 2-fold"),
    (BWD, _bwd(replace=[("db1 = np.sum(dZ1, axis=1, keepdims=True)", "db1 = np.sum(dZ1, axis=0, keepdims=True)")]),
     "expected (5, 1)"),
    (BWD, _bwd(replace=[("dZ3 = A3 - Y", "dZ3 = Y - A3")]), "dZ3 = A3 - Y"),
    (BWD, _bwd(replace=[("dW3 = dZ3 @ A2.T / m", "dW3 = dZ3 @ (np.maximum(Z2, 0) * D2).T / m")]),
     "instead of recomputing relu(Z2)"),
    (BWD, _bwd(pre="r = np.random.default_rng(0); D1 = r.random(A1.shape) < keep_prob; "
                   "D2 = r.random(A2.shape) < keep_prob"),
     "are you drawing new masks"),  # once told "divide dA2 and dA1 by keep_prob, once each"
]
MORE_STYLES = [  # (function, source): correct in another way
    (FWD, _fwd(mask1="rng.random(A1.shape) <= keep_prob", mask2="rng.uniform(size=A2.shape) <= keep_prob")),
    (FWD, _fwd(mask1="rng.choice([0, 1], size=A1.shape, p=[1 - keep_prob, keep_prob])",
               mask2="(rng.random(A2.shape) < keep_prob).astype(int)")),
    (FWD, _fwd(mask1="rng.random(A1.shape[::-1]).T < keep_prob",
               mask2="rng.random(size=A2.shape, dtype=np.float32) < keep_prob")),
    (FWD, _fwd([("A1 = np.maximum(Z1, 0)\n    D1 = rng.random(A1.shape) < keep_prob",
                 "D1 = rng.random(Z1.shape) < keep_prob\n    A1 = np.maximum(Z1, 0)")])),
    (FWD, _fwd(drop1="np.where(D1, A1 / keep_prob, 0.0)")),
    (FWD, _fwd([("A1 = np.maximum(Z1, 0)\n    D1 = rng.random(A1.shape) < keep_prob",
                 "A1 = np.maximum(Z1, 0)\n    U = rng.random((W1.shape[0] + W2.shape[0], X.shape[1]))\n"
                 "    D1 = U[:A1.shape[0]] < keep_prob")], mask2="U[A1.shape[0]:] < keep_prob")),  # both at once, D1's rows first
    (BWD, _bwd(drop1="dA1", drop2="dA2", replace=[("dZ2 = dA2 * (A2 > 0)", "dZ2 = dA2 * (A2 > 0) * D2 / keep_prob"),
                                                  ("dZ1 = dA1 * (A1 > 0)", "dZ1 = dA1 * (A1 > 0) * D1 / keep_prob")])),
    (BWD, _bwd(pre="D1 = (A1 != 0); D2 = (A2 != 0)")),  # a dropped unit has A = 0: the same masks
    (BWD, _bwd(drop1="np.multiply(dA1, D1) / keep_prob", drop2="np.where(D2 == 1, dA2 / keep_prob, 0.0)")),
    (BWD, _bwd(ZOK, drop1="dA1 * D1 * (1 / keep_prob)", drop2="(D2 * dA2) / keep_prob")),
]


@pytest.mark.parametrize("function,src", MORE_STYLES, ids=[f"{m[0][:4]}-{i}" for i, m in enumerate(MORE_STYLES)])
def test_more_correct_styles_pass(function, src):
    NB.must_pass(f"test_{function}", {function: src})


# Both tables: the exercise, its source template and the fields that put the mistake in.
MUTANTS = {**{("forward", k): (FWD, FWD_SRC, *v) for k, v in FWD_MUTANTS.items()},
           **{("backward", k): (BWD, BWD_SRC, *v) for k, v in BWD_MUTANTS.items()},
           **{("more", f"{f[:4]}{i}"): (f, "{src}", {"src": src}, keyword)  # already whole sources
              for i, (f, src, keyword) in enumerate(MORE_MUTANTS)}}


@pytest.mark.parametrize("key", sorted(MUTANTS), ids="-".join)
def test_mutants_fail_naming_the_mistake(key):
    function, template, fields, keyword = MUTANTS[key]
    NB.must_fail(f"test_{function}", {function: template.format(**fields)}, keyword)


def test_backward_alternative_passes():
    src = '''
def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    m = X.shape[1]
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3 = cache
    grads = {}
    dZ = A3 - Y
    for l, A_prev, W, D, Z in ((3, A2, W3, D2, Z2), (2, A1, W2, D1, Z1), (1, X, W1, None, None)):
        grads["dW%d" % l] = np.dot(dZ, A_prev.T) / m
        grads["db%d" % l] = np.mean(dZ, axis=1, keepdims=True)
        if D is not None:
            dA = np.dot(W.T, dZ) * D.astype(float) / keep_prob
            dZ = np.where(Z > 0, dA, 0.0)
    return grads
'''
    NB.must_pass(f"test_{BWD}", {BWD: src})


# ---------------------------------------------------------------- the explorer
def _fast_explorer(ns, monkeypatch, **overrides):
    import helpers.explorers.dropout as D

    monkeypatch.setattr(D, "KEEP_PROB_STEP", 0.25)  # three slider values instead of eleven
    monkeypatch.setattr(D, "MASK_DRAWS", 20)
    funcs = dict(forward=ns[FWD], backward=ns[BWD], init=ns["glorot_uniform"])
    funcs.update(overrides)
    return D.explore_keep_prob(ns["X_train"], ns["Y_train"], ns["X_dev"], ns["Y_dev"],
                               num_iterations=150, show=False, **funcs)


def test_explorer_slider_redraws(base_ns, monkeypatch):
    ex = _fast_explorer(base_ns, monkeypatch)
    before = ex.png
    assert before and ex.message == ""
    assert ex.set(keep_prob=0.5) != before
    ex.warm()
    assert len(ex.cache["result"]) == 3
    for key, r in ex.cache["result"].items():
        kp = key[0]
        means = r["means"]
        # the learner's inverted dropout keeps the layer's mean activation
        assert abs(means["inverted"].mean() / means["plain"] - 1) < 0.05, kp
        assert np.allclose(means["not_inverted"], means["inverted"] * kp)


def test_explorer_not_done_message(base_ns, monkeypatch):
    def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
        raise NotImplementedError()

    ex = _fast_explorer(base_ns, monkeypatch, forward=forward_propagation_with_dropout)
    assert "Not yet" in ex.message and FWD in ex.message


def test_explorer_shows_diverged(base_ns, monkeypatch):
    import helpers.explorers.dropout as D

    monkeypatch.setattr(D, "KEEP_PROB_STEP", 0.5)
    ns = base_ns
    ex = D.explore_keep_prob(ns["X_train"], ns["Y_train"], ns["X_dev"], ns["Y_dev"],
                             forward=ns[FWD], backward=ns[BWD], init=ns["glorot_uniform"],
                             learning_rate=1e4, num_iterations=50, show=False)
    ex.warm()
    assert all(r["diverged"] for r in ex.cache["result"].values())
    assert ex.png and ex.message == ""
