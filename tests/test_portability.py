"""Checked notebook outputs hold on any CPU, and no notebook writes to stderr (issue #11).

TensorFlow's results depend on the CPU (oneDNN kernels on AVX-512 machines), on thread counts and
on the BLAS: the same notebook prints different last digits on another machine. The rule
(CONTRIBUTING.md, "Every number in the prose is checked"): Keras numbers are checked by asserts
with stated tolerances, never as text under ``# NBVAL_CHECK_OUTPUT``. This file proves the rule
holds by executing every notebook that uses Keras a second time, under nbval, with settings that
change the floating-point order: oneDNN on (the notebooks default to off) and XLA's vectors narrowed
to 128 bits.

The stderr rule is enforced for every notebook cell by the root ``conftest.py``; the last test
here shows that it does catch a notebook that writes to stderr.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coursekit.notebook_files import course_notebooks, notebook_code

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(root_conftest)

USES_KERAS = re.compile(r"^\s*(import keras|from keras\b|from helpers\.keras_)", re.MULTILINE)
# Another order of floating-point sums, as another CPU would give: oneDNN's kernels instead of
# TensorFlow's own (the notebooks default to off), and 128-bit instead of 256-bit vectors in the
# code XLA compiles (helpers.keras_stack's training step; AVX-512 and older CPUs differ there).
# Thread counts are left alone: they change neither here (measured: bit-identical results).
OTHER_FLOAT_ORDER = {
    "TF_ENABLE_ONEDNN_OPTS": "1",
    "XLA_FLAGS": "--xla_cpu_prefer_vector_width=128",
    root_conftest.FLOAT_ORDER_VARIANT: "1",
}


def keras_notebooks() -> list[Path]:
    """Every course notebook (lessons, assignments, solutions) whose code imports Keras."""
    return [p for p in course_notebooks() if USES_KERAS.search(notebook_code(p))]


def _pytest(args: list[str], env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)


def test_the_keras_notebooks_are_found():
    names = {p.name for p in keras_notebooks()}
    assert {"03_weight_decay.ipynb", "05_keras_experiment.ipynb", "05_keras_experiment_solution.ipynb",
            "06_beyond_penalties.ipynb", "06_beyond_penalties_solution.ipynb"} <= names


@pytest.mark.parametrize("path", keras_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_keras_notebooks_silence_tensorflow_before_it_loads(path):
    """The Setup cell sets both defaults before Keras is imported (helpers/keras_env.py)."""
    code = notebook_code(path)
    first_keras = USES_KERAS.search(code).start()
    for name, value in (("TF_CPP_MIN_LOG_LEVEL", "3"), ("TF_ENABLE_ONEDNN_OPTS", "0")):
        setting = code.find(f'os.environ.setdefault("{name}", "{value}")')
        assert 0 <= setting < first_keras, f"{path.name}: set {name}={value} before importing Keras"


def test_keras_notebooks_pass_with_another_floating_point_order():
    paths = [str(p.relative_to(ROOT)) for p in keras_notebooks()]
    env = {k: v for k, v in os.environ.items() if k not in root_conftest.TF_VARIABLES}
    env.update(OTHER_FLOAT_ORDER)
    result = _pytest(paths, env)
    assert result.returncode == 0, (
        f"the Keras notebooks fail with {OTHER_FLOAT_ORDER}: a checked output depends on the "
        f"floating-point order (use an assert with a tolerance instead)\n{result.stdout[-6000:]}")


def test_stderr_outputs_are_found():
    outs = [{"output_type": "stream", "name": "stdout", "text": "fine"},
            {"output_type": "stream", "name": "stderr", "text": "oneDNN custom operations are on"},
            {"output_type": "display_data", "data": {}}]
    assert root_conftest.stderr_outputs(outs) == ["oneDNN custom operations are on"]
    assert root_conftest.stderr_outputs(None) == []


def test_a_cell_that_writes_to_stderr_fails(tmp_path):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {},
                     "outputs": [], "source": "import sys\nprint('noise', file=sys.stderr)"},
                    {"cell_type": "code", "execution_count": None, "id": "b", "metadata": {},
                     "outputs": [], "source": "print('quiet')"}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "noisy.ipynb").write_text(json.dumps(nb))
    (tmp_path / "conftest.py").write_text((ROOT / "conftest.py").read_text())
    env = {k: v for k, v in os.environ.items() if k != root_conftest.FLOAT_ORDER_VARIANT}
    result = _pytest(["--nbval-lax", "--nbval-current-env", "-c", os.devnull,
                      "--rootdir", str(tmp_path), "noisy.ipynb"], env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed" in result.stdout, result.stdout
    assert "wrote to stderr" in result.stdout and "noise" in result.stdout
