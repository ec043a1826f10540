"""Repository-wide pytest hooks (tests/, notebooks/ and assignments/)."""

import os

import pytest

# Every figure of the lessons and solutions is checked during their nbval run (issue 18)
pytest_plugins = ["coursekit.layout.plugin", "coursekit.site.plugin"]

# nbval waits only 5 s for each output message of a cell (a hard-coded attribute, no option),
# which flakes on a loaded 2-core runner while TensorFlow starts or a model trains.
NBVAL_OUTPUT_TIMEOUT_S = 120

# The notebooks silence TensorFlow themselves (helpers/keras_env.py). Their kernels therefore start
# *without* these variables, and any stderr output of a notebook cell fails that cell: a notebook
# that forgets to silence TensorFlow (or prints a warning) is caught here, as a learner would see it.
TF_VARIABLES = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")
# tests/test_portability.py reruns the Keras notebooks with oneDNN on (which prints its notice on
# purpose) to change the floating-point order; it sets this variable to keep its settings.
FLOAT_ORDER_VARIANT = "COURSE_FLOAT_ORDER_VARIANT"


def _is_nbval_cell(item) -> bool:
    return hasattr(item, "output_timeout") and hasattr(item, "cell")


def pytest_collection_modifyitems(items):
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before nbval starts a notebook's kernel: no TensorFlow variables in its environment."""
    if _is_nbval_cell(item) and not os.environ.get(FLOAT_ORDER_VARIANT):
        for name in TF_VARIABLES:
            os.environ.pop(name, None)


def stderr_outputs(outputs) -> list[str]:
    """The texts of the stderr stream outputs among a cell's outputs (nbval's ``test_outputs``)."""
    return [out.get("text", "") for out in outputs or ()
            if out.get("output_type") == "stream" and out.get("name") == "stderr"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a notebook cell that wrote to stderr (a red box in JupyterLab)."""
    result = yield
    if _is_nbval_cell(item) and not os.environ.get(FLOAT_ORDER_VARIANT):
        found = stderr_outputs(getattr(item, "test_outputs", None))
        if found:
            raise AssertionError("the cell wrote to stderr (a learner sees a red box):\n"
                                 + "\n".join(text[:1000] for text in found))
    return result
