"""Notebook 06 (softmax regression, then TensorFlow): its autograder tests accept correct
solutions in several styles and reject the classic mistakes; its explorers behave."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.nbtools import Notebook

NB = Notebook("06")
pytestmark = NB.pytestmark
EXERCISES = ["softmax", "one_hot", "softmax_cross_entropy", "one_hot_matrix",
             "initialize_parameters_tf", "forward_propagation_tf", "compute_total_loss",
             "train_step"]


@pytest.fixture(scope="module")
def ns():
    """The notebook's setup and (reference) solution cells, executed once."""
    return NB.namespace()


# ---------------------------------------------------------------- structure
def test_structure_and_metadata():
    nb = json.loads(NB.path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb["metadata"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    ids = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}
    for name in EXERCISES:
        sol, tst = ids[name]["metadata"]["nbgrader"], ids[f"test_{name}"]["metadata"]["nbgrader"]
        assert sol["solution"] and not sol["grade"] and not sol["locked"]
        assert tst["grade"] and tst["locked"] and tst["points"] > 0
        src = "".join(ids[name]["source"])
        assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src and '"""' in src
        test = "".join(ids[f"test_{name}"]["source"])
        assert "### BEGIN HIDDEN TESTS" in test
    setup = "".join(ids["setup"]["source"])
    assert setup.index("TF_CPP_MIN_LOG_LEVEL") < setup.index("import tensorflow")
    assert setup.index("TF_ENABLE_ONEDNN_OPTS") < setup.index("import tensorflow")
    for c in code:  # no magics where nbgrader or nbtools execute code
        if c["metadata"].get("nbgrader"):
            assert not any(line.lstrip().startswith(("%", "!")) for line in c["source"])


@pytest.mark.parametrize("name", EXERCISES)
def test_reference_solution_passes(name):
    NB.must_pass(f"test_{name}")


def test_checks_module_imports_without_tensorflow():
    """helpers.checks.softmax_tensorflow imports TensorFlow inside the checks that need it, so
    the course's helpers import fast without it; and it defines no graded function."""
    import subprocess
    import sys

    code = ("import sys, helpers.checks.softmax_tensorflow as m\n"
            "assert 'tensorflow' not in sys.modules\n"
            "assert not {'softmax', 'one_hot', 'softmax_cross_entropy', 'one_hot_matrix', "
            "'initialize_parameters_tf', 'forward_propagation_tf', 'compute_total_loss', "
            "'train_step'} & set(vars(m))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------- softmax
SOFTMAX_LOOP = '''
def softmax(Z):
    out = np.empty_like(Z, dtype=float)
    for i in range(Z.shape[1]):
        col = Z[:, i] - Z[:, i].max()
        e = np.exp(col)
        out[:, i] = e / e.sum()
    return out
'''
SOFTMAX_LSE = '''
def softmax(Z):
    top = Z.max(axis=0)
    log_norm = top + np.log(np.exp(Z - top).sum(axis=0))
    return np.exp(Z - log_norm)
'''


SOFTMAX_NO_KEEPDIMS = "def softmax(Z):\n    E = np.exp(Z - Z.max(axis=0))\n    return E / E.sum(axis=0)\n"
SOFTMAX_ROWS_OF_T = '''
def softmax(Z):
    T = Z.T - Z.T.max(axis=1, keepdims=True)
    E = np.exp(T)
    return (E / E.sum(axis=1, keepdims=True)).T
'''


@pytest.mark.parametrize("src", [SOFTMAX_LOOP, SOFTMAX_LSE, SOFTMAX_NO_KEEPDIMS, SOFTMAX_ROWS_OF_T],
                         ids=["loop", "logsumexp", "no_keepdims", "rows_of_transpose"])
def test_softmax_accepts_other_styles(src):
    NB.must_pass("test_softmax", {"softmax": src})


@pytest.mark.parametrize("src, keyword", [
    ('''
def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)
''', "overflow"),
    ('''
def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
''', "axis=1"),
    ('''
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum()
''', "axis=0"),
    ('''
def softmax(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=0, keepdims=True)
''', "COLUMN's maximum"),
    ('''
def softmax(Z):
    Z -= Z.max(axis=0, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)
''', "in place"),
    ('''
def softmax(Z):
    return tf.nn.softmax(Z, axis=0).numpy()
''', "TensorFlow"),
    # issue 16, second round: another shift than the maximum overflows for one large logit
    ("def softmax(Z):\n    E = np.exp(Z - Z.mean(axis=0, keepdims=True))\n"
     "    return E / E.sum(axis=0, keepdims=True)\n", "MAXIMUM"),
    ("def softmax(Z):\n    E = np.exp(Z - Z.min(axis=0, keepdims=True))\n"
     "    return E / E.sum(axis=0, keepdims=True)\n", "MAXIMUM"),
    ("def softmax(Z):\n    Z = Z.astype(np.float32)\n    E = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
     "    return E / E.sum(axis=0, keepdims=True)\n", "float32"),
], ids=["unstable", "wrong_axis", "global_sum", "global_max", "in_place", "tensorflow", "mean_shift",
        "min_shift", "float32"])
def test_softmax_rejects_mistakes(src, keyword):
    NB.must_fail("test_softmax", {"softmax": src}, keyword)


# ---------------------------------------------------------------- one_hot
@pytest.mark.parametrize("src", ['''
def one_hot(labels, C):
    labels = np.asarray(labels).ravel()
    Y = np.zeros((C, len(labels)))
    for i, y in enumerate(labels):
        Y[int(y), i] = 1
    return Y
''', '''
def one_hot(labels, C):
    return np.eye(C)[np.asarray(labels, dtype=int).reshape(-1)].T
''', '''
def one_hot(labels, C):
    return (np.arange(C).reshape(-1, 1) == np.asarray(labels).reshape(1, -1)).astype(float)
'''], ids=["loop", "eye", "compare"])
def test_one_hot_accepts_other_styles(src):
    NB.must_pass("test_one_hot", {"one_hot": src})


@pytest.mark.parametrize("src, keyword", [
    ('''
def one_hot(labels, C):
    return np.eye(C)[np.asarray(labels, dtype=int).reshape(-1)]
''', "transpose"),
    ('''
def one_hot(labels, C):
    labels = np.asarray(labels, dtype=int).reshape(-1)
    return np.eye(labels.max() + 1)[labels].T
''', "largest label"),
    ('''
def one_hot(labels, C):
    labels = np.asarray(labels).reshape(-1)
    Y = np.zeros((C, labels.size))
    Y[labels, np.arange(labels.size)] = 1
    return Y
''', "astype(int)"),
    ("def one_hot(labels, C):\n    return np.eye(C)[np.asarray(labels, dtype=int)].T\n", "(4, 5, 1)"),
    ("def one_hot(labels, C):\n    labels.shape = (-1,)\n    Y = np.zeros((C, labels.size))\n"
     "    Y[labels.astype(int), np.arange(labels.size)] = 1\n    return Y\n", "changed its argument"),
], ids=["transposed", "C_from_labels", "float_labels", "not_flattened", "reshaped_in_place"])
def test_one_hot_rejects_mistakes(src, keyword):
    NB.must_fail("test_one_hot", {"one_hot": src}, keyword)


# ---------------------------------------------------------------- softmax_cross_entropy
@pytest.mark.parametrize("src", ['''
def softmax_cross_entropy(Z, Y):
    A = softmax(Z)
    m = Y.shape[1]
    shifted = Z - Z.max(axis=0)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0))
    return float(-(log_probs * Y).sum() / m), (A - Y) / m
''', '''
def softmax_cross_entropy(Z, Y):
    m = Z.shape[1]
    total = 0.0
    dZ = np.zeros_like(Z, dtype=float)
    for i in range(m):
        z = Z[:, i] - Z[:, i].max()
        lse = np.log(np.sum(np.exp(z)))
        c = int(np.argmax(Y[:, i]))
        total += lse - z[c]
        dZ[:, i] = (np.exp(z - lse) - Y[:, i]) / m
    return total / m, dZ
''', '''
def softmax_cross_entropy(Z, Y):
    m = Z.shape[1]
    top = Z.max(axis=0)
    lse = top + np.log(np.exp(Z - top).sum(axis=0))
    cost = np.mean(lse - Z[Y.argmax(axis=0), np.arange(m)])
    return cost, (np.exp(Z - lse) - Y) / m
'''], ids=["uses_softmax", "loop", "true_class_index"])
def test_softmax_cross_entropy_accepts_other_styles(src):
    NB.must_pass("test_softmax_cross_entropy", {"softmax_cross_entropy": src})


SCE_TEMPLATE = '''
def softmax_cross_entropy(Z, Y):
    m = Z.shape[1]
    S = Z - np.max(Z, axis=0, keepdims=True)
    log_A = S - np.log(np.sum(np.exp(S), axis=0, keepdims=True))
    A = np.exp(log_A)
    {body}
    return float(cost), dZ
'''


def sce(body: str) -> str:
    return SCE_TEMPLATE.format(body=body.replace("\n", "\n    "))


@pytest.mark.parametrize("src, keyword", [
    (sce("cost = -np.sum(Y * log_A)\ndZ = (A - Y) / m"), "times too large"),
    (sce("cost = -np.sum(Y * log_A) / m\ndZ = A - Y"), "dZ is m"),
    (sce("cost = -np.sum(Y * log_A) / m\ndZ = (Y - A) / m"), "wrong sign"),
    (sce("cost = -np.sum(Y * np.log(A)) / m\ndZ = (A - Y) / m"), "NaN/inf"),
    (sce("cost = -np.sum(Y * np.log(np.clip(A, 1e-12, 1))) / m\ndZ = (A - Y) / m"), "clip"),
    (sce("P = softmax(A)\ncost = -np.sum(Y * np.log(P)) / m\ndZ = (P - Y) / m"),
     "another softmax"),
    (sce("S1 = Z - Z.max(axis=1, keepdims=True)\n"
         "L1 = S1 - np.log(np.exp(S1).sum(axis=1, keepdims=True))\n"
         "cost = -np.sum(Y * L1) / m\ndZ = (np.exp(L1) - Y) / m"), "axis=0"),
    # issue 16, second round
    (sce("cost = -np.mean(Y * log_A)\ndZ = (A - Y) / m"), "divided by C"),
    (sce("cost = np.sum(Y * log_A) / m\ndZ = (A - Y) / m"), "negative"),
    (sce("E = np.exp(Z)\nP = E / E.sum(axis=0, keepdims=True)\ncost = -np.sum(Y * log_A) / m\n"
         "dZ = (P - Y) / m"), "dZ is NaN/inf"),
    (sce("cost = -np.sum(Y * np.log(A + 1e-12)) / m\ndZ = (A - Y) / m"), "small epsilon"),
    ('''
def softmax_cross_entropy(Z, Y):
    m = Z.shape[1]
    Z -= np.max(Z, axis=0, keepdims=True)
    log_A = Z - np.log(np.sum(np.exp(Z), axis=0, keepdims=True))
    return float(-np.sum(Y * log_A) / m), (np.exp(log_A) - Y) / m
''', "changed its argument Z"),
    # the notebook asks for NumPy only: SciPy's logsumexp is told so
    ('''
def softmax_cross_entropy(Z, Y):
    from scipy.special import logsumexp
    log_A = Z - logsumexp(Z, axis=0, keepdims=True)
    return -np.sum(Y * log_A) / Z.shape[1], (np.exp(log_A) - Y) / Z.shape[1]
''', "NumPy"),
], ids=["summed_cost", "dZ_without_1_over_m", "dZ_sign", "log_of_underflow", "clipped",
        "probabilities_as_logits", "wrong_axis", "mean_over_classes", "cost_sign", "unstable_dZ",
        "epsilon_in_log", "in_place", "scipy"])
def test_softmax_cross_entropy_rejects_mistakes(src, keyword):
    NB.must_fail("test_softmax_cross_entropy", {"softmax_cross_entropy": src}, keyword)


def test_numpy_gradient_matches_tensorflow(ns):
    """The notebook's claim: dW = dZ X^T from the NumPy cost equals TensorFlow's gradient of the
    mean of compute_total_loss on the same batch (the learner's TF functions)."""
    tf = ns["tf"]
    params = ns["initialize_parameters_tf"]([64, 10], 5)
    Xb, Yb = ns["X_train"][:, :50], np.eye(10)[ns["labels_train"][0, :50]].T
    with tf.GradientTape() as tape:
        J = ns["compute_total_loss"](
            ns["forward_propagation_tf"](tf.constant(Xb, tf.float32), params),
            tf.constant(Yb, tf.float32)) / 50
    dW_tf = tape.gradient(J, params["W1"]).numpy()
    W, b = params["W1"].numpy().astype(float), params["b1"].numpy().astype(float)
    cost, dZ = ns["softmax_cross_entropy"](W @ Xb + b, Yb)
    assert np.isclose(cost, float(J), rtol=1e-5)
    assert np.allclose(dZ @ Xb.T, dW_tf, atol=1e-5)


# ---------------------------------------------------------------- one_hot_matrix
@pytest.mark.parametrize("src", ['''
def one_hot_matrix(label, C):
    return tf.transpose(tf.one_hot(label, depth=C))
''', '''
def one_hot_matrix(label, C):
    classes = tf.range(C)[:, None]
    return tf.cast(tf.equal(classes, tf.cast(label, tf.int32)[None, :]), tf.float32)
''', '''
def one_hot_matrix(label, C):
    return tf.transpose(tf.gather(tf.eye(C), label))
''', '''
def one_hot_matrix(label, C):
    return tf.one_hot(indices=label, depth=C, on_value=1.0, off_value=0.0, axis=0, dtype=tf.float32)
'''], ids=["transpose", "equal", "gather_eye", "keywords"])
def test_one_hot_matrix_accepts_other_styles(src):
    NB.must_pass("test_one_hot_matrix", {"one_hot_matrix": src})


@pytest.mark.parametrize("src, keyword", [
    ("def one_hot_matrix(label, C):\n    return tf.one_hot(label, C)\n", "axis=0"),
    ("def one_hot_matrix(label, C):\n    return tf.one_hot(label, C, axis=0).numpy()\n",
     "tf.Tensor"),
    ("def one_hot_matrix(label, C):\n    return tf.one_hot(label, C, axis=0, dtype=tf.int32)\n",
     "float32"),
    # issue 16: the depth read from the labels, not C (a batch without the top class)
    ("def one_hot_matrix(label, C):\n    return tf.one_hot(label, int(tf.reduce_max(label)) + 1, axis=0)\n",
     "not the largest label + 1"),
    # issue 16, second round
    ("def one_hot_matrix(label, C):\n    return tf.reshape(tf.one_hot(label, C), (C, -1))\n",
     "a reshape is not a transpose"),
    ("def one_hot_matrix(label, C):\n    return tf.one_hot(label, C, axis=1)\n", "axis=0"),
    ("def one_hot_matrix(label, C):\n    return tf.one_hot(label, C, axis=0, dtype=tf.float64)\n",
     "float32"),
    ("def one_hot_matrix(label, C):\n    return tf.Variable(tf.one_hot(label, C, axis=0))\n",
     "returned a ResourceVariable"),
], ids=["default_axis", "numpy", "int_dtype", "depth_from_labels", "reshape", "axis_1", "float64",
        "variable"])
def test_one_hot_matrix_rejects_mistakes(src, keyword):
    NB.must_fail("test_one_hot_matrix", {"one_hot_matrix": src}, keyword)


# ---------------------------------------------------------------- initialize_parameters_tf
INIT_TEMPLATE = '''
def initialize_parameters_tf(layers_dims, seed):
    parameters = {{}}
    for l in range(1, len(layers_dims)):
        shape = (layers_dims[l], layers_dims[l - 1])
        {w}
        parameters[f"W{{l}}"] = {wrap}(W)
        parameters[f"b{{l}}"] = tf.Variable(tf.zeros((layers_dims[l], 1)))
    return parameters
'''


def init(w: str, wrap: str = "tf.Variable") -> str:
    return INIT_TEMPLATE.format(w=w, wrap=wrap)


@pytest.mark.parametrize("src", [
    init("r = np.sqrt(6 / (shape[0] + shape[1]))\n"
         "        W = tf.random.stateless_uniform(shape, seed=[seed, l], minval=-r, maxval=r)"),
    init("g = np.random.default_rng(seed * 100 + l)\n"
         "        r = np.sqrt(6 / sum(shape))\n"
         "        W = g.uniform(-r, r, shape).astype(np.float32)"),
    # the docstring fixes the law and the seeds per layer, not the call that draws them
    init("r = np.sqrt(6 / sum(shape))\n"
         "        W = tf.keras.initializers.RandomUniform(-r, r, seed=seed + l)(shape)"),
    init("r = np.sqrt(6 / sum(shape))\n        tf.random.set_seed(seed + l)\n"
         "        W = tf.random.uniform(shape, minval=-r, maxval=r)"),
    init("r = np.sqrt(6 / sum(shape))\n        np.random.seed(seed + l)\n"
         "        W = np.random.uniform(-r, r, shape).astype('float32')"),
    init("W = tf.keras.initializers.glorot_uniform(seed=seed + l)(shape=shape, dtype=tf.float32)"),
], ids=["stateless_uniform", "numpy_rng", "random_uniform_initializer", "global_tf_seed",
        "global_numpy_seed", "glorot_function"])
def test_initialize_parameters_tf_accepts_other_styles(src):
    NB.must_pass("test_initialize_parameters_tf", {"initialize_parameters_tf": src})


@pytest.mark.parametrize("src, keyword", [
    (init("W = tf.keras.initializers.GlorotUniform(seed=seed + l)(shape)", wrap="tf.constant"),
     "tf.Variable"),
    (init("W = tf.keras.initializers.HeNormal(seed=seed + l)(shape)"), "He"),
    (init("W = tf.keras.initializers.GlorotUniform(seed=seed)(shape)"), "seed + l"),
    (init("W = tf.keras.initializers.GlorotUniform()(shape)"), "same seed"),
    (init("W = tf.keras.initializers.GlorotUniform(seed=seed + l)(shape, dtype='float64')"),
     "float32"),
    (init("W = tf.keras.initializers.GlorotUniform(seed=seed + l)(shape[::-1])"), "must be"),
    # issue 16: the docstring says uniform on (-r, r); a normal law of the same variance puts
    # 8.5 % of the weights outside (-r, r)
    (init("W = tf.keras.initializers.GlorotNormal(seed=seed + l)(shape)"), "UNIFORM"),
    (init("g = np.random.default_rng(seed * 100 + l)\n"
          "        W = g.normal(0, np.sqrt(2 / sum(shape)), shape).astype(np.float32)"), "UNIFORM"),
    # issue 16, second round
    (init("r = np.sqrt(6 / sum(shape))\n        W = tf.random.uniform(shape, -r, r, seed=seed + l)"),
     "same seed must give the same"),
    (init("r = np.sqrt(6 / sum(shape))\n"
          "        W = tf.random.stateless_uniform(shape, seed=[seed, l], minval=0, maxval=r)"),
     "centred"),
    (init("r = np.sqrt(6 / shape[1])\n"
          "        W = tf.random.stateless_uniform(shape, seed=[seed, l], minval=-r, maxval=r)"), "He"),
    (init("r = np.sqrt(6 / sum(shape))\n"
          "        W = tf.random.stateless_uniform(shape, seed=[seed, 0], minval=-r, maxval=r)"),
     "identical"),
    (init("W = tf.keras.initializers.GlorotUniform(seed=seed * l)(shape)"), "identical"),
    (init("W = tf.random.stateless_truncated_normal(shape, seed=[seed, l], stddev=0.1)"),
     "standard deviation"),
    (init("W = tf.keras.initializers.GlorotUniform(seed=seed + l)(shape)").replace(
        "(layers_dims[l], 1)", "(layers_dims[l],)"), "(300, 1)"),
    ('''
def initialize_parameters_tf(layers_dims, seed):
    parameters, prev = {}, layers_dims.pop(0)
    for l, n in enumerate(layers_dims, start=1):
        W = tf.keras.initializers.GlorotUniform(seed=seed + l)((n, prev))
        parameters[f"W{l}"], parameters[f"b{l}"] = tf.Variable(W), tf.Variable(tf.zeros((n, 1)))
        prev = n
    return parameters
''', "changed its argument layers_dims"),
], ids=["constant", "he", "same_seed_every_layer", "unseeded", "float64", "transposed",
        "glorot_normal", "numpy_normal", "op_seed", "zero_to_r", "fan_in_only", "stateless_same_seed",
        "seed_times_l", "truncated_normal", "bias_vector", "pops_layers_dims"])
def test_initialize_parameters_tf_rejects_mistakes(src, keyword):
    NB.must_fail("test_initialize_parameters_tf", {"initialize_parameters_tf": src}, keyword)


# ---------------------------------------------------------------- forward_propagation_tf
@pytest.mark.parametrize("src", ['''
def forward_propagation_tf(X, parameters):
    L = len(parameters) // 2
    A = X
    for l in range(1, L + 1):
        Z = parameters["W" + str(l)] @ A + parameters["b" + str(l)]
        A = tf.nn.relu(Z) if l < L else Z
    return A
''', '''
def forward_propagation_tf(X, parameters):
    n_layers = sum(1 for k in parameters if k.startswith("W"))
    out = X
    for l in range(1, n_layers + 1):
        out = tf.add(tf.linalg.matmul(parameters[f"W{l}"], out), parameters[f"b{l}"])
        if l != n_layers:
            out = tf.maximum(out, 0.0)
    return out
''', '''
def forward_propagation_tf(X, parameters):
    L = len(parameters) // 2
    A = X
    for l in range(1, L + 1):
        Z = tf.linalg.matmul(parameters["W%d" % l], A) + parameters["b%d" % l]
        A = Z if l == L else tf.keras.activations.relu(Z)
    return A
'''], ids=["at_operator", "matmul_maximum", "keras_relu"])
def test_forward_propagation_tf_accepts_other_styles(src):
    NB.must_pass("test_forward_propagation_tf", {"forward_propagation_tf": src})


FWD_TEMPLATE = '''
def forward_propagation_tf(X, parameters):
    L = len(parameters) // 2
    A = X
    for l in range(1, L):
        A = tf.nn.relu(tf.matmul(parameters[f"W{{l}}"], A) + parameters[f"b{{l}}"])
    ZL = tf.matmul(parameters[f"W{{L}}"], A) + parameters[f"b{{L}}"]
    return {ret}
'''


@pytest.mark.parametrize("src, keyword", [
    (FWD_TEMPLATE.format(ret="tf.nn.softmax(ZL, axis=0)"), "probabilities"),
    (FWD_TEMPLATE.format(ret="tf.nn.relu(ZL)"), "ReLU"),
    (FWD_TEMPLATE.format(ret="tf.transpose(ZL)"), "examples are columns"),
    ('''
def forward_propagation_tf(X, parameters):
    A1 = tf.nn.relu(parameters["W1"] @ X + parameters["b1"])
    A2 = tf.nn.relu(parameters["W2"] @ A1 + parameters["b2"])
    return parameters["W3"] @ A2 + parameters["b3"]
''', "every layer"),
    ('''
def forward_propagation_tf(X, parameters):
    L = len(parameters) // 2
    A = X.numpy()
    for l in range(1, L + 1):
        Z = parameters[f"W{l}"].numpy() @ A + parameters[f"b{l}"].numpy()
        A = np.maximum(Z, 0) if l < L else Z
    return tf.constant(A)
''', "TensorFlow operations only"),
    # issue 16: a hidden layer skipped gave a raw InvalidArgumentError; now a sentence
    ('''
def forward_propagation_tf(X, parameters):
    L = len(parameters) // 2
    A = X
    for l in range(2, L):
        A = tf.nn.relu(tf.matmul(parameters[f"W{l}"], A) + parameters[f"b{l}"])
    return tf.matmul(parameters[f"W{L}"], A) + parameters[f"b{L}"]
''', "raised InvalidArgumentError"),
    # issue 16, second round
    (FWD_TEMPLATE.format(ret="A"), "the size of another layer"),
    (FWD_TEMPLATE.format(ret="ZL").replace("tf.nn.relu", "tf.nn.sigmoid"), "use sigmoid"),
    (FWD_TEMPLATE.format(ret="ZL").replace(' + parameters[f"b{l}"])', ')'), "a bias is missing"),
    (FWD_TEMPLATE.format(ret="ZL").replace("L = len(parameters) // 2", "L = len(parameters)"),
     "L = len(parameters) // 2"),
], ids=["softmax_output", "relu_output", "rows_layout", "fixed_three_layers", "numpy_inside",
        "skips_a_layer", "forgets_last_layer", "sigmoid_hidden", "no_hidden_bias", "L_is_len"])
def test_forward_propagation_tf_rejects_mistakes(src, keyword):
    NB.must_fail("test_forward_propagation_tf", {"forward_propagation_tf": src}, keyword)


# ---------------------------------------------------------------- compute_total_loss
@pytest.mark.parametrize("src", ['''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits,
                                                                 axis=0))
''', '''
def compute_total_loss(logits, labels):
    log_probs = logits - tf.reduce_logsumexp(logits, axis=0, keepdims=True)
    return -tf.reduce_sum(labels * log_probs)
''', '''
def compute_total_loss(logits, labels):
    cce = tf.keras.losses.CategoricalCrossentropy(from_logits=True, reduction="sum")
    return cce(tf.transpose(labels), tf.transpose(logits))
''', '''
def compute_total_loss(logits, labels):
    y = tf.argmax(labels, axis=0)
    return tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                        logits=tf.transpose(logits)))
''', '''
def compute_total_loss(logits, labels):
    per = tf.nn.softmax_cross_entropy_with_logits(labels=tf.transpose(labels),
                                                  logits=tf.transpose(logits))
    return tf.reduce_mean(per) * tf.cast(tf.shape(logits)[1], tf.float32)
''', '''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(-labels * tf.nn.log_softmax(logits, axis=0))
'''], ids=["tf_nn", "logsumexp", "keras_object_sum", "sparse", "mean_times_m", "log_softmax"])
def test_compute_total_loss_accepts_other_styles(src):
    NB.must_pass("test_compute_total_loss", {"compute_total_loss": src})


@pytest.mark.parametrize("src, keyword", [
    ('''
def compute_total_loss(logits, labels):
    return tf.reduce_mean(tf.keras.losses.categorical_crossentropy(
        tf.transpose(labels), tf.transpose(logits), from_logits=True))
''', "MEAN"),
    ('''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(
        labels=labels, logits=tf.nn.softmax(logits, axis=0), axis=0))
''', "probabilities passed as logits"),
    ('''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(tf.keras.losses.categorical_crossentropy(labels, logits,
                                                                 from_logits=True))
''', "across the examples"),
    ('''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(tf.keras.losses.categorical_crossentropy(
        tf.transpose(labels), tf.transpose(logits)))
''', "from_logits"),
    ('''
def compute_total_loss(logits, labels):
    return tf.keras.losses.categorical_crossentropy(
        tf.transpose(labels), tf.transpose(logits), from_logits=True)
''', "one number"),
    # issue 16: log(softmax(z)) is NaN/inf at a logit gap of 120 (float32)
    ('''
def compute_total_loss(logits, labels):
    return -tf.reduce_sum(labels * tf.math.log(tf.nn.softmax(logits, axis=0)))
''', "not as log(softmax(z))"),
    # the log of the raw logits is NaN already for moderate logits: not told about underflow
    ("def compute_total_loss(logits, labels):\n    return -tf.reduce_sum(labels * tf.math.log(logits))\n",
     "for moderate logits"),
    # issue 16, second round
    ('''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(tf.keras.losses.categorical_crossentropy(tf.transpose(labels), logits,
                                                                 from_logits=True))
''', "the same layout"),
    ('''
def compute_total_loss(logits, labels):
    return -tf.reduce_sum(labels * tf.nn.log_softmax(logits))
''', "across the examples"),
    ('''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(tf.keras.losses.binary_crossentropy(tf.transpose(labels),
                                                            tf.transpose(logits), from_logits=True))
''', "sigmoid (binary)"),
    ('''
def compute_total_loss(logits, labels):
    return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
''', "sigmoid (binary)"),
    ('''
def compute_total_loss(logits, labels):
    cce = tf.keras.losses.CategoricalCrossentropy(from_logits=True)
    return cce(tf.transpose(labels), tf.transpose(logits))
''', "MEAN"),
    ("def compute_total_loss(logits, labels):\n    return tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits("
     "labels=logits, logits=labels, axis=0))\n", "swapped"),
    ("def compute_total_loss(logits, labels):\n    return tf.reduce_sum(tf.keras.losses.categorical_crossentropy("
     "tf.transpose(labels), tf.nn.softmax(tf.transpose(logits))))\n", "right for moderate logits"),
    ("def compute_total_loss(logits, labels):\n    m = tf.cast(tf.shape(logits)[1], tf.float32)\n"
     "    return -tf.reduce_mean(labels * tf.nn.log_softmax(logits, axis=0)) * m\n", "divided by C"),
], ids=["averaged", "probabilities_as_logits", "wrong_axis", "no_from_logits", "not_summed",
        "log_of_softmax", "log_of_logits", "labels_only_transposed", "log_softmax_default_axis",
        "binary", "sigmoid", "keras_object_mean", "arguments_swapped", "softmax_then_probabilities",
        "mean_over_classes"])
def test_compute_total_loss_rejects_mistakes(src, keyword):
    NB.must_fail("test_compute_total_loss", {"compute_total_loss": src}, keyword)


# ---------------------------------------------------------------- train_step
@pytest.mark.parametrize("src", ['''
def train_step(X, Y, parameters, optimizer):
    with tf.GradientTape() as tape:
        loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)
    grads = tape.gradient(loss, parameters)          # a dict, keyed like parameters
    names = sorted(parameters)
    optimizer.apply_gradients([(grads[k], parameters[k]) for k in names])
    return loss
''', '''
def train_step(X, Y, parameters, optimizer):
    variables = [parameters[k] for k in parameters]
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        for v in variables:
            tape.watch(v)
        J = compute_total_loss(forward_propagation_tf(X, parameters), Y)
    optimizer.apply(tape.gradient(J, variables), variables)
    return J
''', '''
def train_step(X, Y, parameters, optimizer):
    variables = list(parameters.values())
    with tf.GradientTape(persistent=True) as tape:
        total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)
        grads = tape.gradient(total_loss, variables)
    optimizer.apply_gradients(list(zip(grads, variables)))
    return total_loss
''', '''
@tf.function
def train_step(X, Y, parameters, optimizer):
    with tf.GradientTape() as tape:
        loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)
    trainable = [parameters[k] for k in sorted(parameters)]
    optimizer.apply_gradients(zip(tape.gradient(loss, trainable), trainable))
    return loss
'''], ids=["dict_gradients", "explicit_watch_apply", "persistent_tape", "tf_function"])
def test_train_step_accepts_other_styles(src):
    NB.must_pass("test_train_step", {"train_step": src})


STEP_TEMPLATE = '''
def train_step(X, Y, parameters, optimizer):
    variables = list(parameters.values())
    {body}
    return total_loss
'''


def step(body: str) -> str:
    return STEP_TEMPLATE.format(body=body.replace("\n", "\n    "))


@pytest.mark.parametrize("src, keyword", [
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "grads = tape.gradient(total_loss, variables)"), "apply_gradients"),
    (step("logits = forward_propagation_tf(X, parameters)\n"
          "with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(logits, Y)\n"
          "optimizer.apply_gradients(zip(tape.gradient(total_loss, variables), variables))"),
     "inside"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "    total_loss = total_loss / tf.cast(tf.shape(X)[1], tf.float32)\n"
          "optimizer.apply_gradients(zip(tape.gradient(total_loss, variables), variables))"),
     "TOTAL loss"),
    (step("with tf.GradientTape() as tape:\n"
          "    loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))\n"
          "total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)"),
     "before the update"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "grads = tape.gradient(total_loss, variables)\n"
          "optimizer.apply_gradients(zip([-g for g in grads], variables))"), "UP the gradient"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "grads = tape.gradient(total_loss, variables)\n"
          "optimizer.apply_gradients(zip(grads, variables))\n"
          "total_loss = float(total_loss)"), "returned a float, not a tensor"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "grads = tape.gradient(total_loss, variables)\n"
          "optimizer.apply_gradients(zip(grads, variables))\n"
          "total_loss = total_loss.numpy()"), "no .numpy()"),
    # a variable left out is told it did not change (float32 round-off is no "change")
    ("def train_step(X, Y, parameters, optimizer):\n"
     "    variables = [parameters['W1'], parameters['b1']]\n"
     "    with tf.GradientTape() as tape:\n"
     "        total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
     "    optimizer.apply_gradients(zip(tape.gradient(total_loss, variables), variables))\n"
     "    return total_loss\n", "W2 did not change"),
    # issue 16, second round: copies of the variables, another optimizer, a hand-made update,
    # the dict zipped, gradients of the logits
    ('''
def train_step(X, Y, parameters, optimizer):
    params = {k: tf.Variable(v) for k, v in parameters.items()}
    with tf.GradientTape() as tape:
        total_loss = compute_total_loss(forward_propagation_tf(X, params), Y)
    variables = list(params.values())
    optimizer.apply_gradients(zip(tape.gradient(total_loss, variables), variables))
    return total_loss
''', "not on copies"),
    ('''
def train_step(X, Y, parameters, optimizer):
    variables = [tf.Variable(v) for v in parameters.values()]
    with tf.GradientTape() as tape:
        total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)
    optimizer.apply_gradients(zip(tape.gradient(total_loss, variables), variables))
    return total_loss
''', "(not copies)"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "opt = tf.keras.optimizers.Adam(learning_rate=0.001)\n"
          "opt.apply_gradients(zip(tape.gradient(total_loss, variables), variables))"),
     "ignores the optimizer it is given"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "for g, v in zip(tape.gradient(total_loss, variables), variables):\n"
          "    v.assign_sub(0.001 * g)"), "ignores the optimizer it is given"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "optimizer.apply_gradients(zip(tape.gradient(total_loss, variables), parameters))"),
     "its keys (strings)"),
    (step("with tf.GradientTape() as tape:\n"
          "    logits = forward_propagation_tf(X, parameters)\n"
          "    total_loss = compute_total_loss(logits, Y)\n"
          "g = tape.gradient(total_loss, logits)\n"
          "optimizer.apply_gradients(zip([g] * len(variables), variables))"),
     "does not have the shape of the variable"),
    (step("with tf.GradientTape() as tape:\n"
          "    total_loss = compute_total_loss(forward_propagation_tf(X, parameters), Y)\n"
          "grads = tape.gradient(total_loss, variables)\n"
          "optimizer.apply_gradients(zip(grads, variables))\n"
          "total_loss = (total_loss, grads)"), "returned a tuple"),
], ids=["no_update", "forward_outside_tape", "mean_loss", "loss_after_update", "ascent",
        "python_float", "numpy_value", "some_variables", "copies", "copies_outside_tape",
        "own_optimizer", "assign_sub", "zip_dict", "gradient_of_logits", "returns_tuple"])
def test_train_step_rejects_mistakes(src, keyword):
    NB.must_fail("test_train_step", {"train_step": src}, keyword)


# ---------------------------------------------------------------- explorers
def test_train_numpy_net_softmax_regression(ns):
    from helpers.explorers.softmax import train_numpy_net

    hist = train_numpy_net(ns["X_train"], ns["labels_train"], ns["X_dev"], ns["labels_dev"],
                           softmax_cross_entropy=ns["softmax_cross_entropy"],
                           one_hot=ns["one_hot"], hidden_units=0, learning_rate=0.5,
                           num_iterations=60)
    assert hist.status == "finished" and hist.costs[-1] < hist.costs[0]
    assert hist.monitor[-1][1]["dev_accuracy"] > 0.85


def test_temperature_explorer_moves_and_reports_not_done(ns):
    from helpers.explorers.softmax import explore_temperature

    ex = explore_temperature(ns["softmax"], show=False)
    before = ex.png
    assert before and ex.message == ""
    ex.set(T=10 ** -1.5)
    assert ex.png != before
    p = ex.result_at(ex.index)
    assert p.max() > 0.99  # cold: almost one-hot

    def softmax(Z):
        raise NotImplementedError()

    ex2 = explore_temperature(softmax, show=False)
    assert "Not yet" in ex2.message and "softmax" in ex2.message


def small_explorer(ns, **kw):
    from helpers.explorers.softmax import explore_learning_rate_and_units

    args = dict(softmax_cross_entropy=ns["softmax_cross_entropy"], one_hot=ns["one_hot"],
                units=(0, 16), num_iterations=20, show=False)
    args.update(kw)
    return explore_learning_rate_and_units(ns["X_train"][:, :300], ns["labels_train"][:, :300],
                                           ns["X_dev"], ns["labels_dev"], **args)


def test_learning_rate_explorer_moves_and_renders_divergence(ns):
    ex = small_explorer(ns)
    before = ex.png
    assert before and ex.message == ""
    ex.set(alpha=0.1)
    assert ex.png != before
    ex.set(hidden=16)
    ex.set(alpha=10.0)
    result = ex.result_at(ex.index)["run"]
    assert ex.settings == {"alpha": 10.0, "hidden": 16}
    assert result["diverged"] and np.isnan(result["final_dev"])
    assert ex.png and ex.png is not None and ex.message == ""


def test_learning_rate_explorer_reports_not_done(ns):
    def one_hot(labels, C):
        raise NotImplementedError()

    ex = small_explorer(ns, one_hot=one_hot)
    assert "Not yet" in ex.message and "one_hot" in ex.message

    def softmax_cross_entropy(Z, Y):
        raise NotImplementedError()

    ex = small_explorer(ns, softmax_cross_entropy=softmax_cross_entropy)
    assert "softmax_cross_entropy" in ex.message


def test_figures(ns):
    import matplotlib.pyplot as plt

    from helpers.explorers.softmax import plot_confusion, plot_digit_grid

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=24).T
    fig = plot_digit_grid(ns["X_test_raw"][:, :24], ns["labels_test"][0, :24], probs)
    assert len(fig.axes) == 48
    ax = plot_confusion(np.diag(np.arange(1, 11)))
    assert ax.get_xlabel() == "predicted class"
    plt.close("all")


def test_explorer_pictures_follow_the_slider(ns):
    from helpers.explorers.softmax import explore_temperature

    ex = explore_temperature(ns["softmax"], show=False)
    assert ex.figure.axes[1].get_title().startswith("T = 1:")
    ex.set(T=10.0)
    axes = ex.figure.axes
    assert axes[1].get_title().startswith("T = 10")
    p = ex.result_at(ex.index)
    heights = [bar.get_height() for bar in axes[1].patches]
    assert np.allclose(heights, p), "the bars show softmax(z / T) of the current T"

    ex = small_explorer(ns)
    ex.set(hidden=16)
    ex.set(alpha=10.0)
    axes = ex.figure.axes
    assert "diverged" in axes[1].get_title() and "diverged" in axes[0].get_title()
    ex.set(alpha=0.1)
    axes = ex.figure.axes
    assert "diverged" not in axes[1].get_title() and "16 hidden units" in axes[1].get_title()
