"""How the course's JupyterLab serves a notebook so that it opens as it is (used by
:mod:`coursekit.lab_server`'s ``CourseContentsManager.get``).

* :func:`kernel_metadata`: the ``kernelspec`` and ``language_info`` a kernel will report, which
  JupyterLab writes into a notebook's model when the kernel starts; served with them, a lesson
  (whose file keeps machine-neutral ones) is not marked modified on opening.
* :func:`without_dead_widget_views`: a notebook without the widget views whose models no kernel
  holds, their pictures kept with :data:`RERUN_NOTE`, instead of "Error displaying widget: model
  not found" (a lesson's copy made with *Save Notebook As…*, a notebook reopened).
"""

from __future__ import annotations

import json
import os
import sys


def _runs_this_python(argv) -> bool:
    """Whether a kernel spec's command is ipykernel on this Python (jupyter_client runs a bare
    ``python``, ``python3`` or ``python3.N`` as ``sys.executable``)."""
    if not argv or "ipykernel" not in " ".join(argv[1:]):
        return False
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return argv[0] in bare or os.path.realpath(argv[0]) == os.path.realpath(sys.executable)


def kernel_metadata(spec_manager, name: str) -> dict:
    """See :meth:`CourseContentsManager.kernel_metadata`; ``spec_manager``: the server's (None: a new one)."""
    try:
        if spec_manager is None:
            from jupyter_client.kernelspec import KernelSpecManager

            spec_manager = KernelSpecManager()
        spec = spec_manager.get_kernel_spec(name)
    except Exception:  # no such kernel, or an unreadable spec: leave the notebook as it is
        return {}
    if not isinstance(getattr(spec, "display_name", None), str):
        return {}
    found = {"kernelspec": {"name": name, "display_name": spec.display_name, "language": spec.language}}
    if _runs_this_python(list(spec.argv or ())):
        from ipykernel.ipkernel import IPythonKernel  # what the kernel's kernel_info reply says

        found["language_info"] = json.loads(json.dumps(IPythonKernel.language_info))
    return found


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
RERUN_NOTE = "Interactive widget: run this cell again to use it."


def without_dead_widget_views(nb: dict) -> int:
    """Replace, in the notebook ``nb`` (a dict, changed in place), every widget view whose model the
    notebook does not store (JupyterLab saves no widget state by default) by what can be shown
    without a kernel: the view's own picture (``image/png``, which ipympl adds) if it has one, and
    :data:`RERUN_NOTE` as its text. Served as it is, a saved widget (a lesson's copy made with
    *Save Notebook As…*, a learner's notebook reopened) read "Error displaying widget: model not
    found" until its cell ran again. Returns how many views were replaced."""
    widgets = (nb.get("metadata") or {}).get("widgets") or {}
    stored = ((widgets.get(WIDGET_STATE) or {}).get("state") or {}) if isinstance(widgets, dict) else {}
    replaced = 0
    for cell in nb.get("cells") or ():
        for output in cell.get("outputs") or ():
            data = output.get("data") if isinstance(output, dict) else None
            if not isinstance(data, dict) or WIDGET_VIEW not in data:
                continue
            view = data[WIDGET_VIEW]
            if isinstance(view, dict) and view.get("model_id") in stored:
                continue
            del data[WIDGET_VIEW]
            if "image/png" in data:  # ipympl's text/html is the same picture under a "Figure" label
                data.pop("text/html", None)
            data["text/plain"] = RERUN_NOTE
            replaced += 1
    return replaced
