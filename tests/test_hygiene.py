"""Repository hygiene: notebook names, clean committed notebooks, lint, and set-up files in sync."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from coursekit import notebook_files

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALL_NOTEBOOKS = notebook_files.course_notebooks()
MACHINE_PATH = re.compile(r"(/root/|/tmp/|/home/[^/\s]+/|/Users/[^/\s]+/|[A-Z]:\\\\Users\\\\)")


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_are_notebooks():
    assert (ROOT / "notebooks" / "00_start_here.ipynb").is_file()


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_notebooks_are_named_nn_topic(path):
    assert re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", path.name), path.name


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"cell {i} stores an error output"
            assert not (out.get("output_type") == "stream" and out.get("name") == "stderr"), \
                f"cell {i} stores stderr output"
        assert not MACHINE_PATH.search(json.dumps(cell.get("outputs", []))), \
            f"cell {i} output shows a machine path"
    assert notebook_files.is_clean(path), f"run: python tools/nbtools.py run {path.relative_to(ROOT)}"


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_follows_the_course_skeleton(path):
    cells = json.loads(path.read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    assert "What you'll learn" in markdown
    if path.name != "00_start_here.ipynb":
        assert "## Summary" in markdown and "## Exercises" in markdown
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "sys.path" not in code, "notebooks import helpers by name, never by editing sys.path"
    assert "input_dim" not in code.replace("input_dim=2, activation", ""), "use keras.Input(shape=...)"


def test_ruff_is_clean():
    targets = ["helpers", "tests", "tools", "bench", "notebooks", "assignments", "course.py"]
    targets = [t for t in targets if (ROOT / t).exists()]
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *targets],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_code_imports_helpers_by_name_never_by_editing_sys_path():
    """helpers is installed (editable): tests, tools and bench import it, and each other's code lives in it."""
    edits = re.compile(r"^\s*sys\.path\.(insert|append)\(", re.MULTILINE)
    found = [p.relative_to(ROOT).as_posix() for folder in ("helpers", "tests", "tools", "bench")
             for p in sorted((ROOT / folder).rglob("*.py")) if edits.search(p.read_text())]
    assert found == [], f"sys.path edited in {found}; put shared code into a helpers module instead"


def test_environment_yml_installs_the_pinned_requirements():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_deps = [d for d in env["dependencies"] if isinstance(d, str)]
    assert sorted(re.split("[=<>]", d)[0] for d in conda_deps) == ["pip", "python"]
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f"python{python}" in conda_deps, f"environment.yml must ask for python{python}, as pyproject.toml does"
    assert "conda-forge" in env["channels"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-r requirements.txt"]


def test_requirements_are_exact_pins():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    reqs = [line for line in lines if line]
    assert reqs
    for req in reqs:
        assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==[0-9][^;\s]*(\s*;.*)?$", req), f"not an exact pin: {req}"
    tf = [r for r in reqs if r.startswith("tensorflow")]
    assert {r.split("==")[0] for r in tf} == {"tensorflow", "tensorflow-cpu"}
    assert all(";" in r for r in tf), "each TensorFlow flavour must carry a platform marker"


def test_tensorflow_markers_pick_exactly_one_flavour_per_platform():
    from packaging.requirements import Requirement

    tf = [Requirement(line) for line in (ROOT / "requirements.txt").read_text().splitlines()
          if line.startswith("tensorflow")]
    platforms = {("linux", "x86_64"): "tensorflow-cpu", ("win32", "AMD64"): "tensorflow-cpu",
                 ("darwin", "arm64"): "tensorflow", ("linux", "aarch64"): "tensorflow"}
    for (plat, machine), want in platforms.items():
        env = {"sys_platform": plat, "platform_machine": machine}
        chosen = [r.name for r in tf if r.marker.evaluate(env)]
        assert chosen == [want], (plat, machine, chosen)


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```(?:bash|sh)?\n(python3 course\.py test)\n```", readme)
    assert match, "the README must show the test command in its own code block"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(rf"^exec {re.escape(match.group(1))}$", ci, re.M)
    assert re.search(r"```(?:bash|sh)?\npython3 course\.py lab\n```", readme)


def test_generated_files_are_current():
    """Navigation, tables of lessons and learner notebooks equal what tools/generate.py writes."""
    result = subprocess.run([sys.executable, "tools/generate.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_figure_is_committed_small_and_shown():
    figure = ROOT / "docs" / "keras_experiment.png"
    assert figure.is_file(), "run: python tools/make_readme_figure.py"
    assert figure.stat().st_size < 150_000
    assert "docs/keras_experiment.png" in (ROOT / "README.md").read_text()


def test_nbval_waits_longer_than_its_5_s_default_for_outputs():
    import importlib.util
    import inspect

    from nbval.plugin import IPyNbCell

    assert "self.output_timeout = 5" in inspect.getsource(IPyNbCell.__init__)  # still the knob
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)

    class Item:
        output_timeout = 5

    items = [Item()]
    root_conftest.pytest_collection_modifyitems(items)
    assert items[0].output_timeout >= 60


@pytest.mark.parametrize("path", LESSONS[1:], ids=_ids(LESSONS[1:]))
def test_exercises_link_the_learners_own_copy(path):
    """Learners work in my_work/ (course.py lab makes the copies), never on the read-only originals."""
    cells = json.loads(path.read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    exercises = markdown[markdown.index("## Exercises"):]
    name = f"{path.stem}_assignment.ipynb"
    assert (ROOT / "assignments" / name).is_file(), f"no assignment {name} for {path.name}"
    assert f"](../my_work/{name})" in exercises, f"{path.name}: link the learner's copy ../my_work/{name}"
    assert "](../assignments/" + name not in exercises, f"{path.name}: do not send learners to the original"


LEARNER_COPIES = LESSONS + sorted((ROOT / "assignments").glob("*.ipynb"))  # what a learner copies into my_work/
RELATIVE_LINK = re.compile(r"\]\((?![a-z]+:|#)([^)\s#]+)|href=\"(?![a-z]+:|#)([^\"#]+)")


@pytest.mark.parametrize("path", LEARNER_COPIES, ids=_ids(LEARNER_COPIES))
def test_links_work_the_same_from_a_copy_in_my_work(path):
    """A learner's copy in my_work/ (File > Save Notebook As..., course.py my-work) keeps working links:
    every relative link leads to the same existing file from the notebook's folder and from my_work/
    (so a lesson links another as ../notebooks/NN_topic.ipynb, the learner's copy as ../my_work/...)."""
    cells = json.loads(path.read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for match in RELATIVE_LINK.finditer(markdown):
        target = match[1] or match[2]
        here = (path.parent / target).resolve()
        from_copy = (ROOT / "my_work" / target).resolve()
        assert here == from_copy, f"{path.name}: the link {target!r} leads elsewhere from a copy in my_work/"
        shipped = ROOT / "assignments" / here.name if here.parent == ROOT / "my_work" else here
        assert shipped.exists(), f"{path.name}: the link {target!r} leads to {here}, which does not exist"


# ----------------------------------------------------------------------------- the two packages (issue 28)
HELPERS = ROOT / "helpers"
IMPORT = re.compile(r"^\s*(?:from\s+(helpers[\w.]*|coursekit[\w.]*)\s+import\s+([\w, ()\n]+?)(?:#.*)?$|"
                    r"import\s+(helpers[\w.]*|coursekit[\w.]*))", re.MULTILINE)


def _imported(code: str) -> set[str]:
    """The ``helpers``/``coursekit`` modules ``code`` imports (``from helpers import data`` counts
    ``helpers.data`` when ``helpers/data.py`` or ``helpers/data/`` exists)."""
    found = set()
    for frm, names, plain in IMPORT.findall(code):
        module = frm or plain
        found.add(module)
        for name in re.split(r"[,\s()]+", names or ""):
            sub = f"{module}.{name}"
            if name and (ROOT.joinpath(*sub.split(".")).with_suffix(".py").is_file()
                         or ROOT.joinpath(*sub.split(".")).is_dir()):
                found.add(sub)
    return found


def _helpers_modules() -> dict[str, Path]:
    found = {}
    for path in sorted(HELPERS.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_no_lesson_imports_the_course_machinery(path):
    """Lessons, assignments and solutions import ``helpers`` only, never ``coursekit``."""
    code = notebook_files.notebook_code(path)
    assert not {m for m in _imported(code) if m.startswith("coursekit")}, path.name


def test_helpers_holds_what_the_lessons_use_and_nothing_else():
    """Every module of ``helpers`` is imported by a lesson, an assignment or a solution, or by a
    module they import (the learner's package); none imports ``coursekit``, except the start
    notebook's environment check, which asks it whether JupyterLab's protection is on."""
    modules = _helpers_modules()
    graph = {name: _imported(path.read_text(encoding="utf-8")) for name, path in modules.items()}
    for name in modules:  # a subpackage brings its modules (helpers.checks finds its lessonNN by itself)
        package = name.rsplit(".", 1)[0]
        if package != "helpers" and package in modules:
            graph[package].add(name)
    reached, todo = set(), ["helpers"]
    for path in ALL_NOTEBOOKS:
        todo += [m for m in _imported(notebook_files.notebook_code(path)) if m.startswith("helpers")]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        todo += [m for m in graph.get(name, ()) if m.startswith("helpers")]
        todo += [".".join(name.split(".")[:i]) for i in range(1, len(name.split(".")))]
    assert set(modules) <= reached, f"helpers modules no lesson uses: {sorted(set(modules) - reached)}"
    machinery = {name: sorted(m for m in imports if m.startswith("coursekit")) for name, imports in graph.items()}
    assert {name: m for name, m in machinery.items() if m} == {"helpers.environment": ["coursekit.lab_server"]}


def test_no_source_file_of_the_packages_is_ignored_by_git():
    """A pattern of .gitignore meant for a generated folder (``/site/``) once matched ``coursekit/site/``:
    its new modules were left out of every clone. No file the packages need may be ignored."""
    try:
        done = subprocess.run(["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--", "helpers",
                               "coursekit"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git is not available")
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    ignored = [line for line in done.stdout.splitlines()
               if line.endswith((".py", ".js", ".css")) and "__pycache__" not in line]
    assert ignored == [], f"ignored by git, so missing from every clone: {ignored}"
