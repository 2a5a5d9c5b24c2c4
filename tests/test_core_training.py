"""The generic training loop: it learns, it plugs in the caller's pieces by name, it detects
divergence, and it explains bad input."""

import numpy as np
import pytest

from helpers.data import load_circles, load_digits, load_goalkeeper, load_moons, split
from helpers.network import accuracy, glorot_uniform, predict
from helpers.training import ExerciseNotDone, train

pytestmark = pytest.mark.xdist_group("core")


def test_small_net_learns_circles_above_90_percent():
    X, Y, Xt, Yt = load_circles()
    h = train(X, Y, [2, 10, 5, 1], init=glorot_uniform, rng=np.random.default_rng(0),
              learning_rate=0.5, num_iterations=2000)
    assert h.status == "finished" and len(h.costs) == 2000
    assert h.costs[-1] < h.costs[0] / 5
    assert accuracy(predict(X, h.parameters), Y) > 0.9
    assert accuracy(predict(Xt, h.parameters), Yt) > 0.9


def test_training_is_reproducible_with_equal_seeds():
    X, Y, _, _ = load_moons()
    runs = [train(X, Y, [2, 5, 1], init=glorot_uniform, rng=np.random.default_rng(4),
                  learning_rate=0.3, num_iterations=50) for _ in range(2)]
    assert runs[0].costs == runs[1].costs


@pytest.mark.parametrize("lr", [50.0, 1e6])
def test_divergence_is_detected_and_reported(lr):
    X, Y, _, _ = load_circles()
    h = train(X, Y, [2, 10, 5, 1], init=glorot_uniform, rng=np.random.default_rng(0),
              learning_rate=lr, num_iterations=500)
    assert h.status == "diverged" and h.diverged
    assert "diverged" in h.message and "learning rate" in h.message
    assert len(h.costs) < 500 and np.isfinite(h.costs).all()


def test_nan_cost_is_divergence():
    X, Y, _, _ = load_circles()

    def nan_cost(AL, Y):
        return float("nan")

    h = train(X, Y, [2, 3, 1], init=glorot_uniform, rng=np.random.default_rng(0),
              cost=nan_cost, num_iterations=10)
    assert h.status == "diverged" and h.costs == [] and "no longer a number" in h.message


def test_pieces_are_plugged_in_by_argument_name():
    """An Adam-like update asking for v, s, t and hyperparameters gets persistent state."""
    X, Y, _, _ = load_moons()
    seen = []

    def init_state(parameters):
        return ({f"d{k}": np.zeros_like(p) for k, p in parameters.items()},
                {f"d{k}": np.zeros_like(p) for k, p in parameters.items()})

    def my_update(parameters, grads, v, s, t, learning_rate, beta1):
        seen.append((t, beta1, learning_rate))
        for k in parameters:
            v["d" + k] = beta1 * v["d" + k] + (1 - beta1) * grads["d" + k]
            parameters[k] = parameters[k] - learning_rate * v["d" + k]
        return parameters, v, s, None, None

    def batches(X, Y, mini_batch_size, rng):
        idx = rng.permutation(X.shape[1])
        return [(X[:, idx[i:i + mini_batch_size]], Y[:, idx[i:i + mini_batch_size]])
                for i in range(0, X.shape[1], mini_batch_size)]

    def decay(learning_rate0, epoch_num, decay_rate):
        return learning_rate0 / (1 + decay_rate * epoch_num)

    h = train(X, Y, [2, 5, 1], init=glorot_uniform, rng=np.random.default_rng(1),
              update=my_update, state_init=init_state, mini_batches=batches,
              mini_batch_size=64, lr_decay=decay, learning_rate=0.1, num_epochs=3,
              hyper={"beta1": 0.8, "decay_rate": 1.0})
    assert h.unit == "epoch" and len(h.costs) == 3
    per_epoch = -(-300 // 64)
    assert [s[0] for s in seen] == list(range(1, 3 * per_epoch + 1))
    assert len(h.batch_costs) == 3 * per_epoch
    assert {s[1] for s in seen} == {0.8}
    assert h.learning_rates == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_monitor_records_dev_metrics():
    X, Y, Xt, Yt = load_circles()
    h = train(X, Y, [2, 5, 1], init=glorot_uniform, rng=np.random.default_rng(0),
              learning_rate=0.5, num_iterations=250, monitor_every=100,
              monitor=lambda p: {"dev_acc": accuracy(predict(Xt, p), Yt)})
    assert [s for s, _ in h.monitor] == [0, 100, 200, 249]


def test_unfinished_exercise_is_named():
    def initialize_parameters_he(layers_dims, rng):
        raise NotImplementedError()

    X, Y, _, _ = load_circles()
    with pytest.raises(ExerciseNotDone, match="initialize_parameters_he"):
        train(X, Y, [2, 3, 1], init=initialize_parameters_he, rng=np.random.default_rng(0),
              num_iterations=5)


def test_clear_errors_for_bad_input():
    X, Y, _, _ = load_circles()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"X has shape \(300, 2\).*X\.T"):
        train(X.T, Y, [2, 3, 1], init=glorot_uniform, rng=rng, num_iterations=5)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        train(X, Y, [2, 3, 1], init=glorot_uniform, rng=0, num_iterations=5)
    with pytest.raises(ValueError, match="exactly one of"):
        train(X, Y, [2, 3, 1], init=glorot_uniform, rng=rng)
    with pytest.raises(ValueError, match="learning_rate"):
        train(X, Y, [2, 3, 1], init=glorot_uniform, rng=rng, learning_rate=float("nan"),
              num_iterations=5)
    with pytest.raises(TypeError, match="argument 'gamma'.*hyper="):
        train(X, Y, [2, 3, 1], init=glorot_uniform, rng=rng, num_iterations=5,
              update=lambda parameters, grads, gamma: parameters)
    with pytest.raises(ValueError, match="returned None"):
        train(X, Y, [2, 3, 1], init=lambda layers_dims, rng: None, rng=rng, num_iterations=5)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train(Xn, Y, [2, 3, 1], init=glorot_uniform, rng=rng, num_iterations=5)


def test_data_sets_have_course_layout():
    for loader in (load_circles, load_moons, load_goalkeeper):
        X, Y, Xt, Yt = loader()
        assert X.shape[0] == 2 and Y.shape == (1, X.shape[1]) and Yt.shape == (1, Xt.shape[1])
        assert set(np.unique(Y)) == {0.0, 1.0}
    X, y = load_digits()
    assert X.shape == (64, 1797) and y.shape == (1, 1797) and set(np.unique(y)) == set(range(10))
    a, b = load_circles(), load_circles()
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_split_is_shuffled_disjoint_and_complete():
    X = np.arange(20.0).reshape(2, 10)
    Y = np.arange(10.0).reshape(1, 10)
    parts = split(X, Y, (0.6, 0.2, 0.2), np.random.default_rng(0))
    ys = [parts[i] for i in (1, 3, 5)]
    assert [y.shape[1] for y in ys] == [6, 2, 2]
    assert sorted(np.concatenate([y.ravel() for y in ys])) == list(range(10))
    assert not np.array_equal(ys[0].ravel(), np.arange(6))
    for i in (0, 2, 4):  # X and Y shuffled with the same permutation
        np.testing.assert_array_equal(parts[i][0], parts[i + 1][0])
        np.testing.assert_array_equal(parts[i][1], parts[i + 1][0] + 10)
