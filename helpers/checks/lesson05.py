"""Checks of assignment 05, *Rerun the Keras experiment*: Tasks 05.1 (the model) and 05.2 (sparsity).

Keras is imported only when one of these checks runs, never on import.
"""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _call, _Cases, _Fail, _fmt_pair, task


def _keras():
    from helpers.keras_env import import_keras

    return import_keras()


def _reg_values(reg, keras):
    """(l1, l2) strengths of a Keras regularizer (``None`` -> (0, 0))."""
    if reg is None:
        return 0.0, 0.0
    cfg = reg.get_config() if hasattr(reg, "get_config") else {}
    return float(cfg.get("l1", 0.0) or 0.0), float(cfg.get("l2", 0.0) or 0.0)


@task("05.1", "the article's regularized Keras model")
def _check_05_1(fn):
    keras = _keras()
    for strength in (0.001, 0.0):
        case = f"for l1_strength={strength}"
        model = _call(fn, strength)
        if model is None:
            raise _Fail("your function returned None.", "End with `return model`.")
        if not isinstance(model, keras.Model):
            raise _Fail(f"it returned a {type(model).__name__}, not a Keras model.",
                        "Build a keras.Sequential([...]) and return it.")
        try:
            in_shape = tuple(model.inputs[0].shape)
        except Exception:  # a Sequential model without an Input has no inputs yet
            raise _Fail("the model has no defined input.",
                        "Start the model with keras.Input(shape=(2,)).") from None
        if in_shape != (None, 2):
            raise _Fail(f"the input shape is {in_shape[1:]}, expected (2,).",
                        "The moons have 2 features: keras.Input(shape=(2,)).")
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        units = [layer.units for layer in dense]
        if units != [128, 128, 1]:
            raise _Fail(f"the Dense layers have units {units}, expected [128, 128, 1].",
                        "Two hidden Dense(128) layers, then Dense(1).")
        acts = [getattr(layer.activation, "__name__", str(layer.activation)) for layer in dense]
        if acts != ["relu", "relu", "sigmoid"]:
            raise _Fail(f"the activations are {acts}, expected ['relu', 'relu', 'sigmoid'].",
                        "relu on the hidden layers, sigmoid on the output (a probability).")
        regs = [_reg_values(layer.kernel_regularizer, keras) for layer in dense]
        if any(layer.bias_regularizer is not None and any(_reg_values(layer.bias_regularizer, keras))
               for layer in dense):
            raise _Fail("a bias is regularized.", "Only kernels are penalized: kernel_regularizer=...")
        if regs[2] != (0.0, 0.0):
            raise _Fail("the output layer is regularized too.",
                        "The article puts kernel_regularizer on the two hidden layers only.")
        for i, (l1, l2) in enumerate(regs[:2], start=1):
            if l2 and not l1:
                raise _Fail(f"hidden layer {i} uses an L2 penalty {case}.",
                            "Use keras.regularizers.l1(l1_strength).")
            if not np.isclose(l1, strength, rtol=1e-6, atol=1e-12) or l2:
                if strength and l1 == 0:
                    raise _Fail(f"hidden layer {i} has no L1 penalty {case}.",
                                "Pass kernel_regularizer=keras.regularizers.l1(l1_strength) to both hidden layers.")
                want, got = _fmt_pair(strength, l1)
                raise _Fail(f"hidden layer {i} has L1 strength {got}, expected {want} {case}.",
                            "Pass l1_strength itself to both hidden layers: keras.regularizers.l1(l1_strength).")
        if model.count_params() != 17025:
            raise _Fail(f"the model has {model.count_params()} parameters, expected 17025.",
                        "Check the layers: 2 → 128 → 128 → 1, all with biases.")
    return "your model is the article's: 2 → 128 relu → 128 relu → 1 sigmoid, l1 on the hidden kernels."


def _sparsity_model(keras):
    k1 = np.array([[0.5, -1e-4, 0.0, 0.02], [3e-4, -0.3, 0.0, 1.2], [-0.004, 0.0, 0.8, -2e-5]])
    k2 = np.array([[0.0, 0.3], [-5e-4, 0.0], [0.6, -0.0009], [0.02, -0.7]])
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    model.set_weights([k1, np.zeros(4), k2, np.array([0.0, 0.1])])
    return model, [k1, k2], [np.zeros(4), np.array([0.0, 0.1])]


@task("05.2", "the sparsity of a model")
def _check_05_2(fn):
    keras = _keras()
    model, kernels, biases = _sparsity_model(keras)
    flat = np.concatenate([k.ravel() for k in kernels])
    every = np.concatenate([flat] + biases)
    answers = _Cases(scalar=True, shape_hint="Return one fraction for the whole model.")
    for tol in (1e-3, 1e-2, 0.5):
        expected = np.mean(np.abs(flat) < tol)
        got = _call(fn, model, tol)
        answers.add(got, expected, case=f"for tol={tol:g}", n=flat.size, variants=[
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
    return "your sparsity measure counts kernel weights with |w| < tol, as a fraction."
