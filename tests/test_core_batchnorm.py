"""helpers.batchnorm_net, notebook 08's machinery: every gradient of the network (with and
without batch norm) against centred differences, the running statistics it passes to the
learner's update, test-time evaluation, divergence, friendly errors; and it holds none of the
graded answers (the reference batch-norm functions live here, in the tests)."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from helpers import batchnorm_net as bn
from helpers.training import ExerciseNotDone, bind_update
from tests.numerical import numerical_gradient, relative_difference

pytestmark = pytest.mark.xdist_group("core_batchnorm")


# ---------------------------------------------------------------- reference pieces (tests only)
def ref_forward(Z, gamma, beta, epsilon=1e-5):
    mu = Z.mean(axis=1, keepdims=True)
    var = ((Z - mu) ** 2).mean(axis=1, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + epsilon)
    return gamma * Z_hat + beta, {"Z": Z, "Z_hat": Z_hat, "mu": mu, "var": var, "gamma": gamma,
                                  "epsilon": epsilon}


def ref_backward(dZ_tilde, cache):
    Z_hat, var, gamma, eps = cache["Z_hat"], cache["var"], cache["gamma"], cache["epsilon"]
    m = dZ_tilde.shape[1]
    dZ_hat = gamma * dZ_tilde
    dZ = (m * dZ_hat - dZ_hat.sum(axis=1, keepdims=True)
          - Z_hat * (dZ_hat * Z_hat).sum(axis=1, keepdims=True)) / (m * np.sqrt(var + eps))
    return dZ, (dZ_tilde * Z_hat).sum(axis=1, keepdims=True), dZ_tilde.sum(axis=1, keepdims=True)


def ref_update(running_mean, running_var, mu, var, momentum):
    return (momentum * running_mean + (1 - momentum) * mu,
            momentum * running_var + (1 - momentum) * var)


def ref_inference(Z, gamma, beta, running_mean, running_var, epsilon=1e-5):
    return gamma * (Z - running_mean) / np.sqrt(running_var + epsilon) + beta


FNS = {"bn_forward": ref_forward, "bn_backward": ref_backward,
       "update_running_stats": ref_update}


def _data(n_x=4, m=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_x, m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    return X, Y


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("batchnorm", [True, False])
@pytest.mark.parametrize("epsilon", [1e-5, 0.3])
def test_every_gradient_matches_centred_differences(batchnorm, epsilon):
    X, Y = _data()
    params = bn.init_parameters([4, 5, 3, 1], np.random.default_rng(1), batchnorm=batchnorm)
    rng = np.random.default_rng(2)
    for k in params:  # move gamma/beta/b away from 1/0 so that every term matters
        params[k] = params[k] + 0.3 * rng.standard_normal(params[k].shape)

    def cost():
        AL, _ = bn.forward(X, params, bn_forward=ref_forward, epsilon=epsilon)
        return bn.cost(AL, Y)

    AL, caches = bn.forward(X, params, bn_forward=ref_forward, epsilon=epsilon)
    grads = bn.backward(AL, Y, caches, bn_backward=ref_backward)
    assert set(grads) == {"d" + k for k in params}
    for k, p in params.items():
        num = numerical_gradient(lambda _p: cost(), p)  # nudges p in place: cost() sees it
        assert relative_difference(grads["d" + k], num) < 1e-6, (
            k, relative_difference(grads["d" + k], num))


def test_reference_backward_matches_centred_differences():
    """The tests' own reference (used above) is itself right, including epsilon."""
    rng = np.random.default_rng(3)
    Z, g, b = rng.normal(size=(3, 7)), rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    G = rng.normal(size=(3, 7))
    dZ, dg, db = ref_backward(G, ref_forward(Z, g, b, 0.2)[1])
    for x, got in ((Z, dZ), (g, dg), (b, db)):
        num = numerical_gradient(lambda _x: float(np.sum(G * ref_forward(Z, g, b, 0.2)[0])), x)
        assert relative_difference(got, num) < 1e-7


def test_plain_net_matches_the_course_network():
    """Without batch norm the net is the course's L-layer ReLU/sigmoid net."""
    from helpers.network import model_forward

    X, _ = _data()
    params = bn.init_parameters([4, 5, 3, 1], np.random.default_rng(1), batchnorm=False)
    AL, _ = bn.forward(X, params)
    assert np.allclose(AL, model_forward(X, params)[0])


# ---------------------------------------------------------------- parameters and statistics
def test_parameters_and_running_stats_shapes():
    p = bn.init_parameters([4, 5, 3, 1], np.random.default_rng(0))
    assert sorted(p) == ["W1", "W2", "W3", "b3", "beta1", "beta2", "gamma1", "gamma2"]
    assert np.array_equal(p["gamma1"], np.ones((5, 1))) and np.array_equal(p["beta2"],
                                                                           np.zeros((3, 1)))
    r = bn.init_running_stats(p)
    assert sorted(r) == ["mean1", "mean2", "var1", "var2"]
    assert np.array_equal(r["var2"], np.ones((3, 1))) and bn.check_bn_parameters(p, 4) == 3
    bad = dict(p, gamma2=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"gamma2.*\(3, 1\)"):
        bn.check_bn_parameters(bad, 4)
    with pytest.raises(ValueError, match=r"W1.*\(n_1, 7\)"):
        bn.check_bn_parameters(p, 7)


def test_running_statistics_go_through_the_update_passed_in():
    X, Y = _data(m=40)
    calls = []

    def spy(running_mean, running_var, mu, var, momentum):
        calls.append(momentum)
        return ref_update(running_mean, running_var, mu, var, momentum)

    run = bn.train(X, Y, [4, 5, 3, 1], rng=np.random.default_rng(0), learning_rate=0.1,
                   num_steps=7, batch_size=8, bn_forward=ref_forward, bn_backward=ref_backward,
                   update_running_stats=spy, momentum=0.8, keep_batch_stats=True)
    assert calls == [0.8] * 14  # 7 steps x 2 batch-normalized layers
    assert len(run.batch_stats) == 7 and len(run.batch_stats[0]) == 2
    want = bn.init_running_stats(run.parameters)
    for stats in run.batch_stats:
        for l, (mu, var) in zip((1, 2), stats):
            want[f"mean{l}"], want[f"var{l}"] = ref_update(want[f"mean{l}"], want[f"var{l}"],
                                                           mu, var, 0.8)
    for k in want:
        assert np.allclose(run.running[k], want[k])


def test_batch_statistics_are_read_from_the_learners_cache():
    X, _ = _data()
    params = bn.init_parameters([4, 5, 1], np.random.default_rng(0))
    _, caches = bn.forward(X, params, bn_forward=ref_forward)
    mu, var = bn._bn_stats(caches[0].bn_cache, 1)
    assert mu.shape == (5, 1) and np.allclose(mu, (params["W1"] @ X).mean(axis=1, keepdims=True))

    def no_stats(Z, gamma, beta, epsilon):
        return ref_forward(Z, gamma, beta, epsilon)[0], ("Z", Z)

    with pytest.raises(ValueError, match="'mu' and 'var'"):
        bn.train(X, _data()[1], [4, 5, 1], rng=np.random.default_rng(0), learning_rate=0.1,
                 num_steps=2, batch_size=4, bn_forward=no_stats, bn_backward=ref_backward,
                 update_running_stats=ref_update)


# ---------------------------------------------------------------- training and evaluation
def test_training_learns_and_is_reproducible():
    X, Y, Xt, Yt = bn.load_digit_parity()
    runs = [bn.train(X, Y, [64, 16, 16, 1], rng=np.random.default_rng(4), learning_rate=0.3,
                     num_steps=150, batch_size=32, **FNS) for _ in range(2)]
    assert runs[0].costs == runs[1].costs and runs[0].status == "finished"
    assert np.mean(runs[0].costs[-10:]) < 0.5 * runs[0].costs[0]
    acc = bn.evaluate(Xt, Yt, runs[0].parameters, bn_inference=ref_inference,
                      running=runs[0].running)
    assert acc > 0.85


def test_test_time_statistics():
    """A batch of one, in training mode, gives the same answer for every example; the running
    averages give each example the answer it gets in any batch."""
    X, Y, Xt, Yt = bn.load_digit_parity()
    run = bn.train(X, Y, [64, 16, 16, 1], rng=np.random.default_rng(4), learning_rate=0.3,
                   num_steps=150, batch_size=32, **FNS)
    with np.errstate(all="ignore"):
        outs = np.hstack([bn.forward(Xt[:, i:i + 1], run.parameters, bn_forward=ref_forward)[0]
                          for i in range(5)])
    assert np.allclose(outs, outs[0, 0])
    one = bn.evaluate(Xt, Yt, run.parameters, stats="batch", batch_size=1, bn_forward=ref_forward)
    assert one == pytest.approx(max(Yt.mean(), 1 - Yt.mean()), abs=1e-9) or one == pytest.approx(
        min(Yt.mean(), 1 - Yt.mean()), abs=1e-9)
    a = bn.evaluate(Xt, Yt, run.parameters, bn_inference=ref_inference, running=run.running)
    b = bn.evaluate(Xt, Yt, run.parameters, bn_inference=ref_inference, running=run.running,
                    batch_size=7)
    assert a == b


def test_divergence_is_reported():
    X, Y, _, _ = bn.load_digit_parity()
    run = bn.train(X, Y, [64, 16, 16, 1], rng=np.random.default_rng(0), learning_rate=300.0,
                   num_steps=100, batchnorm=False, snapshot_every=10, probe=X[:, :32])
    assert run.diverged and "diverged at step" in run.message
    assert len(run.costs) < 100 and np.isfinite(run.costs).all()
    assert run.snapshots[-1][0] == len(run.costs)  # the blow-up itself is recorded


def test_snapshots_and_checkpoints():
    X, Y = _data(m=40)
    run = bn.train(X, Y, [4, 5, 3, 1], rng=np.random.default_rng(0), learning_rate=0.1,
                   num_steps=20, batch_size=8, snapshot_every=5, probe=X, checkpoint_every=10,
                   **FNS)
    assert [s for s, _ in run.snapshots] == [0, 5, 10, 15]
    q_in, q_raw = run.snapshots[0][1][0]
    assert q_in.shape == (len(bn.QUANTILES),) and np.all(np.diff(q_in) >= 0)
    assert [s for s, _ in run.checkpoints] == [0, 10, 20]
    assert run.checkpoints[-1][1] is run.parameters


def test_default_step_returns_new_arrays():
    rule = bind_update()  # the default step bn.train uses
    p = {"W1": np.ones((2, 2))}
    new, _ = rule.step(p, {"dW1": np.ones((2, 2))}, rule.init(p, 0.5))
    assert np.allclose(new["W1"], 0.5) and np.allclose(p["W1"], 1.0)


def test_custom_step_with_explicit_state():
    X, Y = _data(m=40)
    seen = []

    def counting_step(params, grads, state):
        t = state.get("t", 0) + 1
        seen.append(t)
        return {k: v - 0.1 * grads["d" + k] for k, v in params.items()}, {"t": t}

    bn.train(X, Y, [4, 5, 1], rng=np.random.default_rng(0), learning_rate=0.1, num_steps=5,
             batch_size=8, step=counting_step, **FNS)
    assert seen == [1, 2, 3, 4, 5]


# ---------------------------------------------------------------- friendly errors
def test_unfinished_exercise_is_named():
    X, Y = _data()

    def batchnorm_backward(dZ_tilde, cache):
        raise NotImplementedError()

    with pytest.raises(ExerciseNotDone, match="batchnorm_backward"):
        bn.train(X, Y, [4, 5, 1], rng=np.random.default_rng(0), learning_rate=0.1,
                 num_steps=2, batch_size=4, bn_forward=ref_forward,
                 bn_backward=batchnorm_backward, update_running_stats=ref_update)


def test_bad_arguments_are_explained():
    X, Y = _data()
    kw = dict(rng=np.random.default_rng(0), learning_rate=0.1, num_steps=1, **FNS)
    with pytest.raises(ValueError, match=r"X has shape \(4, 12\) but must be \(3, m\)"):
        bn.train(X, Y, [3, 5, 1], **kw)
    with pytest.raises(ValueError, match="needs"):
        bn.train(X, Y, [4, 5, 1], rng=np.random.default_rng(0), learning_rate=0.1,
                 num_steps=1, bn_forward=ref_forward)
    with pytest.raises(TypeError, match="Generator"):
        bn.train(X, Y, [4, 5, 1], **dict(kw, rng=0))


# ---------------------------------------------------------------- no graded answer in helpers/
GRADED = ("batchnorm_forward", "batchnorm_backward", "update_running_stats",
          "batchnorm_inference")
# Code that would compute a batch's statistics, normalize, or average them: the learner's work.
DISTINCTIVE = [r"np\.var\(", r"\.var\(", r"\.std\(", r"np\.std\(", r"sqrt\(\s*var",
               r"sqrt\(\s*running_var", r"momentum\s*\*", r"\(1\s*-\s*momentum\)",
               r"Z_hat\s*=", r"\.mean\(\s*axis\s*=\s*1", r"np\.mean\(\s*Z"]


@pytest.mark.parametrize("module", ["helpers.batchnorm_net", "helpers.explorers.batchnorm"])
def test_helpers_hold_no_graded_answer(module):
    import importlib

    mod = importlib.import_module(module)
    defined = {n for n, obj in vars(mod).items() if callable(obj)
               and getattr(obj, "__module__", "") == mod.__name__}
    assert not set(GRADED) & defined
    src = inspect.getsource(mod)
    found = [p for p in DISTINCTIVE if re.search(p, src)]
    assert not found, f"{module} contains graded code patterns {found}"


def test_forward_can_stop_after_a_hidden_layer():
    X, _ = _data()
    params = bn.init_parameters([4, 5, 3, 1], np.random.default_rng(0))
    _, full = bn.forward(X, params, bn_forward=ref_forward)
    A1, caches = bn.forward(X, params, bn_forward=ref_forward, upto=1)
    assert len(caches) == 1 and A1.shape == (5, 12)
    assert np.array_equal(caches[0].Z, full[0].Z) and np.array_equal(A1, full[1].A_prev)
