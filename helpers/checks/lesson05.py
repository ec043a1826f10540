"""Checks of assignment 05, *Rerun the Keras experiment*: Tasks 05.1 (the model) and 05.2 (sparsity).

Keras is imported only when one of these checks runs, never on import.
"""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _call, _Cases, _Fail, _fmt_pair, task
from helpers.checks.draws import drawn


def _keras():
    from helpers.keras_env import import_keras

    return import_keras()


_ARTICLE = "Input(2) → Dense(128, relu) → Dense(128, relu) → Dense(1, sigmoid), nothing after it"
_SHAPES = [(2, 128), (128,), (128, 128), (128,), (128, 1), (1,)]
_HIDDEN = {"relu": lambda z: np.maximum(z, 0.0), "none": lambda z: z, "tanh": np.tanh,
           "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}


def _article_forward(weights, X, hidden="relu"):
    """The article's model computed with NumPy: its probabilities, and the pre-sigmoid output
    (``hidden`` names the hidden layers' activation, for the diagnoses of a wrong one)."""
    k1, b1, k2, b2, k3, b3 = (np.asarray(w, dtype=np.float64) for w in weights)
    act = _HIDDEN[hidden]
    h = act(act(X @ k1 + b1) @ k2 + b2)
    logit = (h @ k3 + b3).ravel()
    return 1.0 / (1.0 + np.exp(-logit)), logit


def _structure(model, keras, case):
    """The checks of what the model is made of: its input and its weights' shapes (read from the
    weights, whatever layers hold them: Dense, Dense + Activation, a nested Sequential alike)."""
    if model is None:
        raise _Fail("your function returned None.", "End with `return model`.")
    if not isinstance(model, keras.Model):
        raise _Fail(f"it returned a {type(model).__name__}, not a Keras model.",
                    "Build a keras.Sequential([...]) and return it.")
    try:
        in_shape = tuple(model.inputs[0].shape)
    except Exception:  # a Sequential model without an Input has no inputs yet
        raise _Fail("the model has no defined input.", "Start the model with keras.Input(shape=(2,)).") from None
    if in_shape != (None, 2):
        raise _Fail(f"the input shape is {in_shape[1:]}, expected (2,).",
                    "The moons have 2 features: keras.Input(shape=(2,)).")
    units = [int(w.shape[-1]) for w in model.weights if len(w.shape) == 2]
    if units != [128, 128, 1]:
        raise _Fail(f"its layers have units {units}, expected [128, 128, 1] {case}.",
                    "Two hidden Dense(128) layers, then Dense(1).")
    if model.count_params() != 17025 or [tuple(w.shape) for w in model.weights] != _SHAPES:
        raise _Fail(f"the model has {model.count_params()} parameters, expected 17025.",
                    "Check the layers: 2 → 128 → 128 → 1, all with biases, and no other layer with weights.")


def _penalty_of(variable, value, keras):
    """The penalty that ``variable``'s regularizer (Keras 3 keeps it on the variable, whichever
    layer made it) puts on ``value``, computed in float64; 0 without a regularizer."""
    regularizer = getattr(variable, "regularizer", None)
    if regularizer is None:
        return 0.0
    tensor = keras.ops.convert_to_tensor(np.asarray(value, dtype=np.float64))
    penalty = np.asarray(_call(regularizer, tensor), dtype=np.float64)  # the learner's regularizer: time-limited
    if penalty.size != 1:
        raise _Fail(f"a regularizer returned an array of shape {penalty.shape}, not one number.",
                    "Use keras.regularizers.l1(l1_strength): it sums the penalty over the kernel.")
    return float(penalty.reshape(()))


def _penalties(model, keras, strength, case):
    """Each weight's penalty, judged by what it computes on fixed values: l1_strength·Σ|w| on the two
    hidden kernels, nothing on the output kernel and the biases."""
    rng = np.random.default_rng(52)
    for i, variable in enumerate(model.weights):  # k1, b1, k2, b2, k3, b3 (the shapes are checked)
        value = rng.normal(0.0, 0.5, _SHAPES[i])
        penalty = _penalty_of(variable, value, keras)
        if i % 2 or i == 4:
            if penalty != 0.0:
                raise _Fail(f"a bias is regularized {case}." if i % 2 else
                            f"the output layer is regularized too {case}.",
                            "Only kernels are penalized: kernel_regularizer=..." if i % 2 else
                            "The article puts kernel_regularizer on the two hidden layers only.")
            continue
        layer, l1_sum = i // 2 + 1, float(np.abs(value).sum())
        if np.isclose(penalty, strength * l1_sum, rtol=1e-6, atol=1e-12):
            continue
        doubled = _penalty_of(variable, 2 * value, keras)
        if penalty > 0 and np.isclose(doubled, 4 * penalty, rtol=1e-6):
            raise _Fail(f"hidden layer {layer} uses an L2 penalty {case}.", "Use keras.regularizers.l1(l1_strength).")
        if penalty == 0.0:
            raise _Fail(f"hidden layer {layer} has no L1 penalty {case}.",
                        "Pass kernel_regularizer=keras.regularizers.l1(l1_strength) to both hidden layers.")
        if np.isclose(doubled, 2 * penalty, rtol=1e-6):  # an L1 penalty of another strength
            want, got = _fmt_pair(strength, penalty / l1_sum)
            raise _Fail(f"hidden layer {layer} has L1 strength {got}, expected {want} {case}.",
                        "Pass l1_strength itself to both hidden layers: keras.regularizers.l1(l1_strength).")
        raise _Fail(f"the penalty of hidden layer {layer} on fixed weights is {penalty:.6g}, expected "
                    f"{strength * l1_sum:.6g} = l1_strength·Σ|w| {case} (an L2 part too?).",
                    "Use keras.regularizers.l1(l1_strength): an L1 penalty alone.")


def _training_only_layers(model, keras, X) -> list[str]:
    """The layers of a Sequential model whose output on ``X`` differs in training from inference."""
    if not isinstance(model, keras.Sequential):
        return []
    names, h = [], X
    for layer in model.layers:
        train, infer = (np.asarray(_call(layer, h, training=t), dtype=np.float64) for t in (True, False))
        if train.shape != infer.shape or not np.allclose(train, infer, rtol=1e-4, atol=1e-5):
            names.append(type(layer).__name__)
        h = infer.astype(np.float32)
    return names


def _what_it_computes(model, keras, strength, case):
    """The checks of what the model computes, whatever layers express it: its start, its weights'
    constraints, each weight's penalty, its output on fixed weights (in inference and in training)
    and its whole penalty."""
    kernels = [np.asarray(w) for w in model.weights[0::2]]
    if any(np.ptp(k) == 0 for k in kernels):
        raise _Fail("a layer's kernel starts with all its weights equal (kernel_initializer='zeros'?): "
                    "the units of a layer then all learn the same thing.",
                    "Keep Keras's default initializer (glorot_uniform): no kernel_initializer argument.")
    if any(getattr(w, "constraint", None) is not None for w in model.weights):
        raise _Fail("a weight has a constraint (kernel_constraint=...): the article's model has none.",
                    "Leave out kernel_constraint and bias_constraint.")
    _penalties(model, keras, strength, case)
    rng = np.random.default_rng(51)
    weights = [rng.normal(0.0, 1.0 / np.sqrt(shape[0]) if len(shape) == 2 else 0.1, shape) for shape in _SHAPES]
    model.set_weights([w.astype(np.float32) for w in weights])
    X = rng.normal(0.0, 1.0, (64, 2))
    expected, logit = _article_forward(weights, X)
    for training in (False, True):  # calling the model runs the learner's layers: under the time limit
        got = np.asarray(_call(model, X.astype(np.float32), training=training), dtype=np.float64).reshape(-1)
        if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-4, atol=1e-5):
            continue
        if training:
            names = _training_only_layers(model, keras, X.astype(np.float32))
            which = (f" ({', '.join(names)} {'acts' if len(names) == 1 else 'act'} in training only)" if names
                     else " (a Dropout or noise layer?)")
            raise _Fail(f"its predictions in training differ from those in inference{which}: the article's "
                        "model has none; regularize it with the L1 penalty alone.", f"The model is {_ARTICLE}.")
        raise _Fail(*_wrong_output(got, expected, logit, weights, X, case))
    penalty = _call(lambda: float(sum(float(loss) for loss in model.losses)))  # the learner's layers' code
    want = strength * float(np.abs(weights[0]).sum() + np.abs(weights[2]).sum())
    if not np.isclose(penalty, want, rtol=1e-4, atol=1e-7):
        extra = " (a penalty on the activations too, activity_regularizer?)" if penalty > want else ""
        raise _Fail(f"its penalty on fixed weights is {penalty:.6g}, expected {want:.6g} = l1_strength·Σ|w| over "
                    f"the hidden kernels {case}{extra}.",
                    "Penalize the hidden kernels only: kernel_regularizer=keras.regularizers.l1(l1_strength).")


def _wrong_output(got, expected, logit, weights, X, case) -> tuple[str, str]:
    """What a model whose inference output differs from the article's computes instead, if known."""
    def close(other):
        return got.shape == other.shape and np.allclose(got, other, rtol=1e-4, atol=1e-4)

    what = (" (they are 1 − p: the predictions are inverted)" if close(1 - expected)
            else " (they are logits: the sigmoid is missing)" if close(logit)
            else " (they are all 1: a softmax over one unit)" if close(np.ones_like(expected)) else "")
    for hidden in ("none", "tanh", "sigmoid"):
        if not what and close(_article_forward(weights, X, hidden)[0]):
            what = (" (the hidden layers have no activation)" if hidden == "none"
                    else f" (the hidden layers use {hidden}, not relu)")
    shown = f"{got[0]:.4g}" if got.size else "nothing"
    return (f"on fixed weights its predictions differ from the article's model{what}: got {shown}, "
            f"expected {expected[0]:.4g} for the first point {case}.",
            f"The model is {_ARTICLE}; no layer after the output.")


@task("05.1", "the article's regularized Keras model")
def _check_05_1(fn):
    keras = _keras()
    rng, words = drawn()
    for strength, more in ((0.001, ""), (0.0, ""), (float(f"{10 ** rng.uniform(-4, -1.5):.2g}"), f", {words}")):
        case = f"for l1_strength={strength}{more}"
        model = _call(fn, strength)
        _structure(model, keras, case)
        _what_it_computes(model, keras, strength, case)
    return ("your model is the article's, 2 → 128 relu → 128 relu → 1 sigmoid with l1 on the hidden kernels: on "
            "fixed weights it gives its predictions and penalty for every l1_strength tried, one drawn at random.")


def _sparsity_model(keras, rng=None):
    """A small model whose kernels have exact zeros, tiny and large weights, its kernels and biases;
    with ``rng``, a model drawn at random (sizes and weights)."""
    if rng is None:
        k1 = np.array([[0.5, -1e-4, 0.0, 0.02], [3e-4, -0.3, 0.0, 1.2], [-0.004, 0.0, 0.8, -2e-5]])
        k2 = np.array([[0.0, 0.3], [-5e-4, 0.0], [0.6, -0.0009], [0.02, -0.7]])
        b1, b2 = np.zeros(4), np.array([0.0, 0.1])
    else:
        n_in, hidden, n_out = (int(v) for v in rng.integers(2, 7, size=3))
        k1, k2 = (rng.choice([0.0, 1.0], shape, p=[0.2, 0.8]) * rng.choice([-1.0, 1.0], shape)
                  * 10.0 ** rng.uniform(-5, 0.5, shape) for shape in ((n_in, hidden), (hidden, n_out)))
        b1, b2 = (rng.choice([0.0, 1e-4, 0.2], size) for size in (hidden, n_out))
    model = keras.Sequential([keras.Input(shape=(k1.shape[0],)), keras.layers.Dense(k1.shape[1]),
                              keras.layers.Dense(k2.shape[1])])
    model.set_weights([k1, b1, k2, b2])
    return model, [k1, k2], [b1, b2]


@task("05.2", "the sparsity of a model")
def _check_05_2(fn):
    keras = _keras()
    rng, words = drawn()
    cases = [(*_sparsity_model(keras), tol, f"for tol={tol:g}") for tol in (1e-3, 1e-2, 0.5)]
    tol = float(f"{10 ** rng.uniform(-4, -0.5):.2g}")
    cases.append((*_sparsity_model(keras, rng), tol, f"for tol={tol:g} and a model {words}"))
    answers = _Cases(scalar=True, shape_hint="Return one fraction for the whole model.")
    for model, kernels, biases, tol, case in cases:
        flat = np.concatenate([k.ravel() for k in kernels])
        every = np.concatenate([flat] + biases)
        expected = np.mean(np.abs(flat) < tol)
        got = _call(fn, model, tol)
        answers.add(got, expected, case=case, n=flat.size, variants=[
            (np.mean(np.abs(every) < tol), "the biases are counted too.",
             "Count kernel weights only: the layers' .kernel, not every array of get_weights()."),
            (100 * expected, "it returned a percentage.", "Return a fraction between 0 and 1."),
            (np.sum(np.abs(flat) < tol), "it returned a count.",
             "Divide by the number of kernel weights to get a fraction."),
            (np.mean(flat == 0), "it counts exact zeros only.", "Count the weights with |w| < tol."),
            (np.mean(np.abs(flat) <= tol), "it counts |w| ≤ tol: weights equal to tol are not below it.",
             "Count the weights with |w| < tol (strictly below)."),
        ])
    answers.verdict()
    return "your sparsity measure counts kernel weights with |w| < tol, as a fraction, on a model drawn at random too."
