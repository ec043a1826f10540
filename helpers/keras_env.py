"""How the course loads Keras: quietly, and with the same kernels on every x86-64 CPU.

TensorFlow prints start-up lines to stderr that no log level silences on every CPU: on CPUs
where oneDNN is on by default (x86-64 Linux) it reports "oneDNN custom operations are on ..." and
"All log messages before absl::InitializeLog() ...", even with ``TF_CPP_MIN_LOG_LEVEL=3``.
A learner reads a red box in the first cell as a failed set-up. Two environment variables, set
before TensorFlow loads, remove all of it:

* ``TF_CPP_MIN_LOG_LEVEL=3``: no C++ info/warning lines;
* ``TF_ENABLE_ONEDNN_OPTS=0``: TensorFlow's own (Eigen) CPU kernels instead of oneDNN's. This also
  removes one source of CPU-specific round-off; it does not make Keras results bit-identical across
  machines (thread counts and vector widths still change the order of float sums), which is why
  the notebooks check Keras numbers with tolerances (CONTRIBUTING.md). Measured on a 2-core
  AVX-512 machine, training the article's network was not slower with oneDNN off (0.61 s vs
  0.68 s per 300-epoch run).

Both are *defaults* (``os.environ.setdefault``): a value the user set wins. The lesson notebooks
set the same two lines themselves in their Setup cell, so they are quiet whichever way JupyterLab
was started; modules of :mod:`helpers` that need Keras get it from :func:`import_keras`.
"""

from __future__ import annotations

import os

QUIET_TENSORFLOW = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_tensorflow_defaults() -> None:
    """Set :data:`QUIET_TENSORFLOW` in ``os.environ`` where the user has not set them.

    Has an effect only before TensorFlow is first imported in this process.
    """
    for name, value in QUIET_TENSORFLOW.items():
        os.environ.setdefault(name, value)


def import_keras():
    """Import Keras (and TensorFlow) after :func:`quiet_tensorflow_defaults`; return the module.

    Also lowers TensorFlow's *Python* logger to errors: its warnings (e.g. "N out of the last M
    calls ... triggered tf.function retracing", a performance hint when several models of the same
    kind are built, as :mod:`helpers.keras_stack` does for lesson 05) go to stderr, which a
    learner reads as a failure.
    """
    quiet_tensorflow_defaults()
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return keras
