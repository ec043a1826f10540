"""coursekit: the course's machinery. No lesson imports it (a test checks); learners never need to open it.

What is where:

* **the lessons as files** — :mod:`coursekit.lessons` (the registry: every lesson, its title,
  metadata, assignment and tasks, read from the notebooks), :mod:`coursekit.notebook_files` (which
  files are course notebooks, "clean", running one), :mod:`coursekit.assignments` (learner notebooks
  generated from the solutions; the learner's copies in ``my_work/``), :mod:`coursekit.generated_files`
  (navigation, tables, learner notebooks: ``python tools/generate.py``), :mod:`coursekit.make_data`
  (regenerating ``data/``: ``python3 course.py data``);
* **JupyterLab** — :mod:`coursekit.lab_server` (the server extension that keeps the course's files
  read-only), :mod:`coursekit.lab_browser` (driving JupyterLab in Chromium for the browser test);
* **the figure layout check** — :mod:`coursekit.layout` (the checks, the kernel-side recorder and
  sweep, the controls of a widget, the pytest plugin);
* **the website** — :mod:`coursekit.site` (``python3 course.py site``: pages, execution with the
  capture of figures and widget states, staging for Sphinx, the build, its pytest plugin and its
  browser checks).

``tools/`` holds thin command lines over these modules; tests and ``bench/`` import them.
"""
