"""Each exercise's test judges only the function it grades (issue 16, guide §4): a mistake in
exercise A never costs points in exercise B. Where B genuinely calls A (its docstring says so),
B's test names A."""

from __future__ import annotations

import pytest

from tests.nbtools import Notebook, stub

NOTEBOOKS = [Notebook(p) for p in ("01", "02", "03", "04", "05", "06", "07", "08")]


def _cases():
    for nb in NOTEBOOKS:
        for _, test_id, _ in nb.cells("test"):
            yield pytest.param(nb, test_id, id=f"{nb.prefix}-{test_id}",
                               marks=[pytest.mark.xdist_group(f"nb{nb.prefix}")])


@pytest.mark.parametrize("nb,test_id", list(_cases()))
def test_a_test_passes_when_every_other_exercise_is_not_done(nb, test_id):
    """The release's stub (raise NotImplementedError) in every other solution cell: the test of
    a correct solution still passes, or says which other exercise to do first."""
    solutions = nb.solutions()
    own = test_id.removeprefix("test_")
    for other, src in solutions.items():
        if other == own or own in stub(src):   # a cell defining the graded function itself
            continue
        ok, msg = nb.run_test(test_id, {other: stub(src)})
        named = [name for name in _defined(src) if f"`{name}`" in msg]
        assert ok or (named and "not done" in msg), (
            f"{test_id} fails when {other} is not done, without naming it: {msg}")


def _defined(src: str) -> list[str]:
    import ast
    import textwrap

    return [n.name for n in ast.parse(textwrap.dedent(src)).body if isinstance(n, ast.FunctionDef)]


NB02, NB03, NB05, NB06, NB07, NB08 = (Notebook(p) for p in ("02", "03", "05", "06", "07", "08"))

# An earlier exercise with a mistake that still runs, and the later test that must not mind it.
WRONG_EARLIER = {
    "adam-state-shared": (NB05, "test_update_parameters_with_adam", {"initialize_adam": """
def initialize_adam(parameters):
    v = {"d" + k: np.zeros_like(p) for k, p in parameters.items()}
    return v, v
"""}),
    "velocity-keys-misnamed": (NB05, "test_update_parameters_with_momentum", {"initialize_velocity": """
def initialize_velocity(parameters):
    return {k: np.zeros_like(p) for k, p in parameters.items()}
"""}),
    "rmsprop-keys-misnamed": (NB05, "test_update_parameters_with_rmsprop", {"initialize_rmsprop": """
def initialize_rmsprop(parameters):
    return {k: np.ones_like(p) for k, p in parameters.items()}
"""}),
    "gd-uphill-under-adam": (NB05, "test_update_parameters_with_adam", {"update_parameters_with_gd": """
def update_parameters_with_gd(parameters, grads, learning_rate):
    return {k: p + learning_rate * grads["d" + k] for k, p in parameters.items()}
"""}),
    "lr-decay-wrong-under-schedule": (NB05, "test_schedule_lr_decay", {"update_lr": """
def update_lr(learning_rate0, epoch_num, decay_rate):
    return learning_rate0
"""}),
    "l2-cost-wrong-under-backward": (NB02, "test_backward_propagation_with_regularization", {
        "compute_cost_with_regularization": """
def compute_cost_with_regularization(AL, Y, parameters, lambd):
    return 0.0
"""}),
    "dropout-forward-wrong-under-backward": (NB03, "test_backward_propagation_with_dropout", {
        "forward_propagation_with_dropout": """
def forward_propagation_with_dropout(X, parameters, keep_prob, rng):
    return np.zeros((1, X.shape[1])), tuple(np.zeros((1, 1)) for _ in range(14))
"""}),
    "forward-tf-wrong-under-loss": (NB06, "test_compute_total_loss", {"forward_propagation_tf": """
def forward_propagation_tf(X, parameters):
    return tf.zeros((3, 3))
"""}),
    "softmax-wrong-under-cross-entropy": (NB06, "test_softmax_cross_entropy", {"softmax": """
def softmax(Z):
    return np.exp(Z)
"""}),
    "search-wrong-under-zoom": (NB07, "test_zoom", {"random_search": """
def random_search(train_fn, space, n_trials, rng):
    return []
"""}),
    "bn-forward-wrong-under-backward": (NB08, "test_batchnorm_backward", {"batchnorm_forward": """
def batchnorm_forward(Z, gamma, beta, epsilon=1e-5):
    mu = np.mean(Z, axis=1, keepdims=True)
    var = np.var(Z, axis=1, ddof=1, keepdims=True)
    Z_hat = (Z - mu) / np.sqrt(var + epsilon)
    cache = {"Z": Z, "Z_hat": Z_hat, "mu": mu, "var": var, "gamma": gamma, "epsilon": epsilon}
    return gamma * Z_hat + beta, cache
"""}),
    "bn-forward-wrong-under-inference": (NB08, "test_batchnorm_inference", {"batchnorm_forward": """
def batchnorm_forward(Z, gamma, beta, epsilon=1e-5):
    return Z, {"mu": 0 * Z[:, :1], "var": 0 * Z[:, :1]}
"""}),
}


@pytest.mark.parametrize("name", sorted(WRONG_EARLIER))
def test_a_wrong_earlier_exercise_costs_no_points_later(name):
    nb, test_id, replace = WRONG_EARLIER[name]
    nb.must_pass(test_id, replace)


# Where a later exercise calls an earlier one (its docstring asks it to), a wrong earlier one is
# named, and the message is about it, not about the later function.
NEEDED = {
    "train_step-forward": (NB06, "test_train_step", {"forward_propagation_tf": """
def forward_propagation_tf(X, parameters):
    return tf.matmul(parameters["W2"], tf.matmul(parameters["W1"], X) + parameters["b1"]) + parameters["b2"]
"""}, "calls your `forward_propagation_tf`"),
    "train_step-loss": (NB06, "test_train_step", {"compute_total_loss": """
def compute_total_loss(logits, labels):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis=0))
"""}, "calls your `compute_total_loss`"),
    "random_search-beta": (NB07, "test_random_search", {"sample_beta": """
def sample_beta(low, high, n, rng):
    return rng.uniform(low, high, n)
"""}, "calls your `sample_beta`"),
}


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_a_later_exercise_names_the_earlier_one_it_needs(name):
    nb, test_id, replace, keyword = NEEDED[name]
    nb.must_fail(test_id, replace, keyword)
