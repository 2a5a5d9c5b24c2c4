"""The core network: every backward pass against a centred numerical gradient, costs against
hand-computed values, prediction and accuracy, and clear errors for bad input."""

import numpy as np
import pytest

from helpers import network as nw
from helpers.gradients import dictionary_to_vector, gradients_to_vector, vector_to_dictionary
from helpers.validate import check_parameters, check_xy, num_layers
from tests.numerical import numerical_gradient
from tests.numerical import relative_difference as rel

pytestmark = pytest.mark.xdist_group("core")


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "linear"])
def test_activation_backward_matches_numerical_gradient(name, rng):
    fwd, bwd = nw.ACTIVATIONS[name]
    Z = rng.normal(size=(4, 5))
    Z[np.abs(Z) < 1e-3] += 0.1  # keep away from relu's kink
    G = rng.normal(size=Z.shape)  # a random upstream gradient: L = sum(G * A)
    A, cache = fwd(Z)
    dZ = bwd(G, cache)
    num = numerical_gradient(lambda z: float((G * fwd(z)[0]).sum()), Z.copy())
    assert rel(dZ, num) < 1e-7, name


def test_linear_backward_matches_numerical_gradient(rng):
    A = rng.normal(size=(3, 6))
    W, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 1))
    G = rng.normal(size=(4, 6))
    m = A.shape[1]
    Z, cache = nw.linear_forward(A, W, b)
    dA, dW, db = nw.linear_backward(G, cache)
    # linear_backward returns the gradient of the *mean* over m examples for dW, db.
    assert rel(dW, numerical_gradient(lambda w: (G * nw.linear_forward(A, w, b)[0]).sum() / m, W.copy())) < 1e-7
    assert rel(db, numerical_gradient(lambda c: (G * nw.linear_forward(A, W, c)[0]).sum() / m, b.copy())) < 1e-7
    assert rel(dA, numerical_gradient(lambda a: (G * nw.linear_forward(a, W, b)[0]).sum(), A.copy())) < 1e-7


def _net(dims, rng, m=7):
    params = nw.glorot_uniform(dims, rng)
    for k in params:
        if k.startswith("b"):
            params[k] = rng.normal(size=params[k].shape) * 0.1
    return params, rng.normal(size=(dims[0], m))


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid"])
def test_model_backward_matches_numerical_gradient(hidden, rng):
    params, X = _net([3, 5, 4, 1], rng)
    Y = (rng.random((1, 7)) > 0.5).astype(float)
    AL, cache = nw.model_forward(X, params, hidden, "sigmoid")
    grads = nw.model_backward(AL, Y, cache)
    theta, layout = dictionary_to_vector(params)

    def J(th):
        return nw.binary_cross_entropy(
            nw.model_forward(X, vector_to_dictionary(th, layout), hidden, "sigmoid")[0], Y)

    num = numerical_gradient(J, theta.copy())
    assert rel(gradients_to_vector(grads, layout), num) < 1e-7


@pytest.mark.parametrize("divide_by_m", [True, False])
@pytest.mark.parametrize("hidden", ["relu", "tanh"])
def test_backward_from_output_matches_numerical_gradient(hidden, divide_by_m, rng):
    """Any cost of the output Z^[L]: here J = sum(G * Z^[L]) (/ m), a linear output layer."""
    params, X = _net([3, 5, 4, 3], rng)
    m = X.shape[1]
    G = rng.normal(size=(3, m))
    scale = 1.0 if divide_by_m else 1.0 / m  # with divide_by_m=False, dZ holds the 1/m itself
    ZL, cache = nw.model_forward(X, params, hidden, "linear")
    grads = nw.backward_from_output(G * scale, cache, divide_by_m=divide_by_m)
    theta, layout = dictionary_to_vector(params)

    def J(th):
        return float((G * nw.model_forward(X, vector_to_dictionary(th, layout), hidden,
                                           "linear")[0]).sum()) / m

    num = numerical_gradient(J, theta.copy())
    assert rel(gradients_to_vector(grads, layout), num) < 1e-7


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "linear"])
def test_layer_backward_matches_numerical_gradient(activation, rng):
    A = rng.normal(size=(3, 6))
    W, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 1))
    G = rng.normal(size=(4, 6))
    _, cache = nw.layer_forward(A, W, b, activation)
    dA, dW, db = nw.layer_backward(G, cache)

    def J(a=A, w=W, c=b):  # dW, db are of the mean over the m examples, dA of the sum
        return float((G * nw.layer_forward(a, w, c, activation)[0]).sum())

    m = A.shape[1]
    assert rel(dW, numerical_gradient(lambda w: J(w=w) / m, W.copy())) < 1e-7
    assert rel(db, numerical_gradient(lambda c: J(c=c) / m, b.copy())) < 1e-7
    assert rel(dA, numerical_gradient(lambda a: J(a=a), A.copy())) < 1e-7


def test_model_backward_refuses_other_outputs(rng):
    params, X = _net([3, 4, 2], rng)
    AL, cache = nw.model_forward(X, params, "relu", "linear")
    with pytest.raises(ValueError, match="sigmoid output.*backward_from_output"):
        nw.model_backward(AL, np.zeros_like(AL), cache)
    params, X = _net([3, 4, 1], rng)
    AL, cache = nw.model_forward(X, params)
    with pytest.raises(ValueError, match=r"Y has shape \(7,\) but must have AL's shape \(1, 7\)"):
        nw.model_backward(AL, np.zeros(7), cache)
    with pytest.raises(ValueError, match=r"dZ has shape \(7, 1\) but must .* \(1, 7\)"):
        nw.backward_from_output(np.zeros((7, 1)), cache)


def test_binary_cross_entropy_by_hand():
    AL = np.array([[0.9, 0.2, 0.6]])
    Y = np.array([[1, 0, 0]])
    by_hand = -(np.log(0.9) + np.log(0.8) + np.log(0.4)) / 3
    assert nw.binary_cross_entropy(AL, Y) == pytest.approx(by_hand, rel=1e-12)


def test_costs_are_finite_when_outputs_saturate():
    AL = np.array([[1.0, 0.0]])
    assert np.isfinite(nw.binary_cross_entropy(AL, np.array([[0, 1]])))
    assert nw.binary_cross_entropy(AL, np.array([[1, 0]])) == pytest.approx(0, abs=1e-9)


def test_sigmoid_does_not_overflow():
    A, _ = nw.sigmoid_forward(np.array([[-1000.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(A, [[0, 0.5, 1]])


def test_the_core_holds_no_softmax():
    """Softmax and its cross-entropy are notebook 06's exercises (course guide, section 2)."""
    assert "softmax" not in nw.ACTIVATIONS
    assert not [n for n in dir(nw) if "softmax" in n or "categorical" in n]


def test_one_way_to_count_layers():
    p = {"W1": 0, "b1": 0, "W2": 0, "b2": 0, "Wx": 0, "W": 0}
    assert num_layers(p) == nw.num_layers(p) == 2
    assert num_layers({}) == 0


def test_predict_and_accuracy():
    params = {"W1": np.array([[1.0, -1.0]]), "b1": np.zeros((1, 1))}
    X = np.array([[2.0, -1.0, 0.5], [1.0, 0.0, 3.0]])
    pred = nw.predict(X, params, output="sigmoid")
    np.testing.assert_array_equal(pred, [[1, 0, 0]])
    assert nw.accuracy(pred, np.array([[1, 1, 0]])) == pytest.approx(2 / 3)
    onehot = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]])  # examples 0, 1, 2 of classes 0, 2, 1
    assert nw.accuracy(np.array([[0, 2, 2]]), onehot) == pytest.approx(2 / 3)
    several = {"W1": np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]), "b1": np.zeros((3, 1))}
    np.testing.assert_array_equal(nw.predict(X, several, output="linear"), [[0, 1, 1]])


def test_dictionary_vector_round_trip(rng):
    params = nw.glorot_uniform([3, 4, 2], rng)
    theta, layout = dictionary_to_vector(params)
    assert theta.shape == (3 * 4 + 4 + 4 * 2 + 2, 1)
    assert [k for k, _ in layout] == ["W1", "b1", "W2", "b2"]
    back = vector_to_dictionary(theta, layout)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    back["W1"][0, 0] += 1  # a copy: the original is untouched
    assert params["W1"][0, 0] != back["W1"][0, 0]


def test_numerical_gradient_restores_its_input(rng):
    x = rng.normal(size=(3, 2))
    before = x.copy()
    g = numerical_gradient(lambda v: float((v**3).sum()), x)
    np.testing.assert_array_equal(x, before)
    assert rel(g, 3 * before**2) < 1e-8


def test_bad_shapes_name_the_argument_and_the_shapes():
    with pytest.raises(ValueError, match=r"X has shape \(3, 2\) but must be \(2, m\).*X\.T"):
        check_xy(np.zeros((3, 2)), np.zeros((1, 2)), n_x=2)
    with pytest.raises(ValueError, match=r"Y has shape \(5, 1\).*Y\.reshape\(1, -1\)"):
        check_xy(np.zeros((2, 5)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"W2'\] has shape \(1, 4\) but must be \(1, 3\)"):
        check_parameters({"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)),
                          "W2": np.zeros((1, 4)), "b2": np.zeros((1, 1))}, n_x=2)
    with pytest.raises(ValueError, match=r"b1'\] has shape \(3,\) but must be \(3, 1\)"):
        check_parameters({"W1": np.zeros((3, 2)), "b1": np.zeros(3)})
    with pytest.raises(ValueError, match="NaN"):
        check_xy(np.array([[np.nan, 1.0]]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"W has shape \(1, 3\) and A_prev \(2, 1\)"):
        nw.linear_forward(np.zeros((2, 1)), np.zeros((1, 3)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"b has shape \(3,\) but must be \(3, 1\)"):
        nw.linear_forward(np.zeros((2, 3)), np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"dZ has shape \(3, 4\) but must be \(3, 5\)"):
        nw.linear_backward(np.zeros((3, 4)), (np.zeros((2, 5)), np.zeros((3, 2))))
    with pytest.raises(ValueError, match="activation='swish' is not known"):
        nw.layer_forward(np.zeros((2, 1)), np.zeros((1, 2)), np.zeros((1, 1)), "swish")
