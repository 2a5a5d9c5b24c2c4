"""The generic training loop: it learns, it plugs in the caller's pieces by name, it detects
divergence, and it explains bad input."""

import numpy as np
import pytest

from helpers.data import load_circles, load_digits, load_goalkeeper, load_moons
from helpers.network import accuracy, backward_from_output, glorot_uniform, predict
from helpers.training import ExerciseNotDone, UpdateRule, bind_update, train

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
    assert len(h.batch_costs) == 3 * per_epoch == h.updates
    assert {s[1] for s in seen} == {0.8}
    # History records the learning rate the update really received, epoch by epoch.
    assert [s[2] for s in seen] == [lr for lr in h.learning_rates for _ in range(per_epoch)]
    assert h.learning_rates == pytest.approx([0.1, 0.05, 0.1 / 3])


@pytest.mark.parametrize("name", ["learning_rate", "t", "mini_batch_size", "epoch_num", "X"])
def test_hyper_cannot_replace_what_the_loop_supplies(name):
    """hyper={"learning_rate": 0.1} once silently beat the decayed rate while History recorded
    the decayed one; now every name the loop supplies is refused in hyper, with the fix."""
    X, Y, _, _ = load_moons()

    def gd(parameters, grads, learning_rate):
        return {k: p - learning_rate * grads["d" + k] for k, p in parameters.items()}

    def decay(learning_rate0, epoch_num):
        return learning_rate0 / (1 + epoch_num)

    with pytest.raises(ValueError, match=rf"hyper has \['{name}'\].*supplies itself"):
        train(X, Y, [2, 3, 1], init=glorot_uniform, rng=np.random.default_rng(0), update=gd,
              lr_decay=decay, learning_rate=0.2, num_epochs=3, hyper={name: 0.1})
    with pytest.raises(ValueError, match=rf"hyper has \['{name}'\]"):
        bind_update(gd, hyper={name: 0.1})


def test_update_rule_has_explicit_state():
    """step(parameters, grads, state) -> (parameters, state): the state holds the learning
    rate, the counter t and the arrays the update asks for, named as in its signature."""
    def init_state(parameters):
        return {k: np.zeros_like(p) for k, p in parameters.items()}

    def momentum(parameters, grads, velocity, t, learning_rate, beta):
        new_v = {k: beta * velocity[k] + (1 - beta) * grads["d" + k] for k in parameters}
        return {k: parameters[k] - learning_rate * new_v[k] for k in parameters}, new_v

    rule = bind_update(momentum, state_init=init_state, hyper={"beta": 0.5})
    assert isinstance(rule, UpdateRule) and rule.takes_learning_rate
    p = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
    g = {"dW1": np.array([[2.0]]), "db1": np.array([[-2.0]])}
    state = rule.init(p, 0.1)
    assert state["t"] == 0 and state["learning_rate"] == 0.1 and set(state) == {
        "learning_rate", "t", "velocity"}
    p1, state1 = rule.step(p, g, state)
    p2, state2 = rule.step(p1, g, state1)
    assert (state1["t"], state2["t"], state["t"]) == (1, 2, 0)  # the old state is untouched
    np.testing.assert_allclose(state1["velocity"]["W1"], [[1.0]])
    np.testing.assert_allclose(state2["velocity"]["W1"], [[1.5]])
    np.testing.assert_allclose(p2["W1"], [[1.0 - 0.1 * 1.0 - 0.1 * 1.5]])
    gd = bind_update()  # the default: plain gradient descent, no optimizer state
    p0 = {"W1": np.array([[1.0]])}
    q, st = gd.step(p0, {"dW1": np.array([[2.0]])}, gd.init(p0, 0.25))
    assert set(st) == {"learning_rate", "t"} and st["t"] == 1 and gd.takes_learning_rate
    np.testing.assert_allclose(q["W1"], [[0.5]])
    assert p0["W1"][0, 0] == 1.0  # new arrays: the caller's parameters are untouched


def test_optimizer_state_needs_state_init():
    def adam_like(parameters, grads, v, s, t, learning_rate):
        return parameters

    with pytest.raises(TypeError, match=r"asks for \['v', 's'\].*state_init="):
        bind_update(adam_like)
    with pytest.raises(ValueError, match=r"returned 1 item\(s\).*\['v', 's'\]"):
        bind_update(adam_like, state_init=lambda parameters: {}).init({}, 0.1)
    with pytest.raises(ValueError, match="takes no optimizer state"):
        bind_update(lambda parameters, grads, learning_rate: parameters,
                    state_init=lambda parameters: {})


def test_an_update_without_learning_rate_records_none():
    X, Y, _, _ = load_moons()

    def fixed_step(parameters, grads):
        return {k: p - 0.1 * grads["d" + k] for k, p in parameters.items()}

    h = train(X, Y, [2, 3, 1], init=glorot_uniform, rng=np.random.default_rng(0),
              update=fixed_step, num_iterations=5)
    assert h.learning_rates == [] and h.updates == 5


def test_one_backward_loop_trains_a_softmax_net():
    """A cost whose dZ already holds the 1/m (notebook 06's convention) trains through
    backward_from_output(..., divide_by_m=False), the loop model_backward uses."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 150))
    labels = (X[0] > 0).astype(int) + (X[1] > 0).astype(int)  # 3 classes
    Y = (labels == np.arange(3)[:, None]).astype(float)

    def mean_ce(Z, Y):  # a test's own softmax cross-entropy and its gradient
        E = np.exp(Z - Z.max(axis=0))
        A = E / E.sum(axis=0)
        return float(-(Y * np.log(A)).sum() / Z.shape[1]), (A - Y) / Z.shape[1]

    h = train(X, Y, [2, 8, 3], init=glorot_uniform, rng=rng, output="linear", learning_rate=1.0,
              cost=lambda AL, Y: mean_ce(AL, Y)[0], num_iterations=300,
              backward=lambda AL, Y, cache: backward_from_output(mean_ce(AL, Y)[1], cache,
                                                                 divide_by_m=False))
    assert h.status == "finished" and h.costs[-1] < h.costs[0] / 4
    assert accuracy(predict(X, h.parameters, output="linear"), Y) > 0.9
    with pytest.raises(ValueError, match="output='linear', pass cost= and backward="):
        train(X, Y, [2, 8, 3], init=glorot_uniform, rng=rng, output="linear", num_iterations=5)


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


def test_unfinished_optimizer_state_is_named():
    def initialize_adam(parameters):
        raise NotImplementedError()

    def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate):
        return parameters, v, s

    X, Y, _, _ = load_circles()
    with pytest.raises(ExerciseNotDone, match="initialize_adam"):
        train(X, Y, [2, 3, 1], init=glorot_uniform, rng=np.random.default_rng(0),
              update=update_parameters_with_adam, state_init=initialize_adam, num_iterations=5)


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
    with pytest.raises(TypeError, match=r"\['gamma'\].*hyper=\{'gamma': \.\.\.\}"):
        train(X, Y, [2, 3, 1], init=glorot_uniform, rng=rng, num_iterations=5,
              update=lambda parameters, grads, gamma: parameters)
    with pytest.raises(ValueError, match="returned None"):
        train(X, Y, [2, 3, 1], init=lambda layers_dims, rng: None, rng=rng, num_iterations=5)
    for bad, why in (([], "non-empty list"), (None, "got NoneType"),
                     ([(X, Y[:, :5])], "mini-batch 0 is not a pair")):
        with pytest.raises(ValueError, match=why):
            train(X, Y, [2, 3, 1], init=glorot_uniform, rng=rng, num_epochs=2,
                  mini_batches=lambda X, Y, bad=bad: bad)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train(Xn, Y, [2, 3, 1], init=glorot_uniform, rng=rng, num_iterations=5)


def test_data_sets_have_course_layout():
    for loader in (load_circles, load_moons, load_goalkeeper):
        X, Y, Xt, Yt = loader()
        assert X.shape[0] == 2 and Y.shape == (1, X.shape[1]) and Yt.shape == (1, Xt.shape[1])
        assert set(np.unique(Y)) == {0.0, 1.0}
    a, b = load_circles(), load_circles()
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_digits_come_in_a_fixed_stratified_split():
    from sklearn.datasets import load_digits as sk_digits

    X, y, Xd, yd, Xt, yt = load_digits()
    assert [a.shape[1] for a in (X, Xd, Xt)] == [1078, 359, 360]
    assert X.shape[0] == 64 and y.shape == (1, 1078) and y.dtype.kind == "i"
    assert X.min() == 0 and X.max() == 16
    for labels in (y, yd, yt):  # every digit in every set, in the same proportion
        counts = np.bincount(labels.ravel(), minlength=10)
        assert counts.min() >= 0.9 * counts.mean()
    # The three sets hold every image exactly once.
    every = np.hstack([X, Xd, Xt])
    d = sk_digits()
    assert every.shape[1] == d.data.shape[0]
    assert sorted(map(bytes, every.T.astype(np.uint8))) == sorted(map(bytes, d.data.astype(np.uint8)))
    assert all(np.array_equal(p, q) for p, q in zip(load_digits(), (X, y, Xd, yd, Xt, yt)))


def test_a_missing_or_foreign_split_file_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_digits_split.py"):
        load_digits(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("index,label,split\n0,9,train\n")
    with pytest.raises(ValueError, match="does not describe scikit-learn's digits"):
        load_digits(bad)
