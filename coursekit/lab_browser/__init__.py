"""Drive the course's widgets in a real JupyterLab + Chromium (used by tests/test_browser.py,
tests/test_lab_server.py and bench/bench_browser.py; the server side is :mod:`coursekit.lab_server`).

Importing this module starts nothing and does not import Playwright (the functions that drive a page
receive Playwright's objects, or import it when called); :mod:`helpers` does not import it at all.

Decisions (issue #8):

* **Which notebooks.** :func:`notebook_has_widgets` is the one rule: a notebook "has widgets" when
  its code mentions ``%matplotlib widget`` (or ``ipympl``), ``ipywidgets`` or ``interact``.
* **Never modify the course notebooks.** The server's root is a temporary *copy* of the course:
  ``notebooks/`` and ``tests/browser_fixture/`` are copied, ``my_work/`` is a new empty folder,
  every other top-level folder (``data/``, ``assignments/``, ...) is symlinked so relative paths
  still resolve. So neither the page nor the kernel's working folder can write a course notebook.
* **Autosave is on, as for a learner** (every :data:`AUTOSAVE_INTERVAL_S` s instead of 120 s, user
  settings in the temporary config folder), and the server's contents manager is the course's
  :class:`coursekit.lab_server.CourseContentsManager` with ``course_root`` = the served copy (and
  ``tests/browser_fixture/`` read-only too). So the test proves what protects a learner's lessons:
  JupyterLab never even asks to save them (``writable: false``), while a notebook in ``my_work/``
  is autosaved. :func:`new_page` records every write request to ``/api/contents``; the tests compare
  the SHA-256 of the real notebook *and* of its served copy before and after.
* **Server.** ``python -m jupyterlab`` from the course environment (``sys.executable``; the native
  ``python3`` kernel then runs the same interpreter) on ``127.0.0.1``, a free port, a random token,
  ``--allow-root``, with ``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``, ``JUPYTER_RUNTIME_DIR``,
  ``IPYTHONDIR`` and ``MPLCONFIGDIR`` in a temporary folder. The ipywidgets / ipympl lab extensions
  and the kernel spec are found under ``sys.prefix`` regardless. News, update checks and notebook
  windowing are off (windowing would keep off-screen cells out of the DOM).
* **Stop.** :meth:`JupyterServer.stop` deletes the server's kernels through the REST API, then
  terminates the server by its PID (kill after a grace period) and reaps its process group.
* **Failures.** "Error displaying widget", "Loading widget..." (once settled), stderr and error
  outputs (JupyterLab renders tracebacks as stderr), cells that did not run, and ipympl figures
  whose canvas stays 0x0 (the view never got an image; the browser console says why).
* **Slider moves.** Wait until the plots are quiet, press one arrow key on the ``.noUi-handle``,
  wait for a redraw, wait for quiet again, and compare every plot's fingerprint (canvas pixels via
  ``toDataURL``, ``img.src``) with before the move.
* **Timing.** An init script in the page records when a key goes down, when a plot is redrawn on
  screen (``drawImage`` on an ipympl canvas in the document, or a new ``<img>`` in an output area)
  and the kernel WebSocket traffic in between; :func:`move_slider` reports the delays.

Its parts, in the order a test uses them: ``settings`` (paths, timeouts), ``server`` (the notebooks
and the private JupyterLab), ``page`` (a page, Run All, its problems, writes and tabs, Save As), ``sliders`` (moves
and their timing), ``figures`` (how figures are shown, extremes' screenshots); every name is
importable from the package.

The browser is Debian's Chromium (``/usr/bin/chromium``, or ``$COURSE_CHROMIUM``), installed by
``tools/install_browser.sh``; ``playwright install`` cannot download browsers on these machines.
"""

from __future__ import annotations

from coursekit.lab_browser.figures import (
    FIGURES_JS,
    canvas_pixels,
    figure_locator,
    figure_problems,
    figures,
    hover_figures,
    screenshot_extremes,
    set_slider_end,
    slug,
    stale_figures,
    toggle_buttons,
)
from coursekit.lab_browser.page import (
    DIRTY_JS,
    FIRST_REDRAW_JS,
    INIT_SCRIPT,
    PLOTS_JS,
    SLIDERS_JS,
    STATE_JS,
    TABS_JS,
    document_dirty,
    launch_browser,
    new_page,
    open_notebook,
    open_tabs,
    page_state,
    plot_signatures,
    problems,
    run_all_cells,
    save_notebook_as,
    screenshot_cell,
    wait_kernel_idle,
    wait_past_autosave,
    wait_plots_quiet,
    wait_widgets_settled,
    writes_to,
)
from coursekit.lab_browser.server import (
    USER_SETTINGS,
    JupyterServer,
    chromium_problem,
    fixture_notebooks,
    in_ci,
    notebook_has_widgets,
    sha256,
    stage_course,
    widget_notebooks,
)
from coursekit.lab_browser.settings import (
    AUTOSAVE_INTERVAL_S,
    CHROMIUM,
    FIXTURES,
    INSTALL_HINT,
    KERNEL_TIMEOUT_S,
    LAMBDA_LABEL,
    NOTEBOOKS,
    PANEL,
    PLOT_TIMEOUT_S,
    READ_ONLY_DIRS,
    REPO,
    RUN_ALL_TIMEOUT_S,
    SCREENSHOTS,
    SETTLE_TIMEOUT_S,
    WIDGET_CODE,
)
from coursekit.lab_browser.sliders import (
    Move,
    Slider,
    move_slider,
    percentile,
    slider_locator,
    sliders,
    sliders_to_move,
)

__all__ = [
    "AUTOSAVE_INTERVAL_S",
    "CHROMIUM",
    "DIRTY_JS",
    "FIGURES_JS",
    "FIRST_REDRAW_JS",
    "FIXTURES",
    "INIT_SCRIPT",
    "INSTALL_HINT",
    "JupyterServer",
    "KERNEL_TIMEOUT_S",
    "LAMBDA_LABEL",
    "Move",
    "NOTEBOOKS",
    "PANEL",
    "PLOTS_JS",
    "PLOT_TIMEOUT_S",
    "READ_ONLY_DIRS",
    "REPO",
    "RUN_ALL_TIMEOUT_S",
    "SCREENSHOTS",
    "SETTLE_TIMEOUT_S",
    "SLIDERS_JS",
    "STATE_JS",
    "TABS_JS",
    "Slider",
    "USER_SETTINGS",
    "WIDGET_CODE",
    "canvas_pixels",
    "chromium_problem",
    "document_dirty",
    "figure_locator",
    "figure_problems",
    "figures",
    "fixture_notebooks",
    "hover_figures",
    "in_ci",
    "launch_browser",
    "move_slider",
    "new_page",
    "notebook_has_widgets",
    "open_notebook",
    "open_tabs",
    "page_state",
    "percentile",
    "plot_signatures",
    "problems",
    "run_all_cells",
    "save_notebook_as",
    "screenshot_cell",
    "screenshot_extremes",
    "set_slider_end",
    "stale_figures",
    "sha256",
    "slider_locator",
    "sliders",
    "sliders_to_move",
    "slug",
    "stage_course",
    "toggle_buttons",
    "wait_kernel_idle",
    "wait_past_autosave",
    "wait_plots_quiet",
    "wait_widgets_settled",
    "widget_notebooks",
    "writes_to",
]
