"""Size a class server: S students on a real JupyterHub running one lesson together.

    .venv/bin/python bench/bench_hub.py [--students 1 2 4 8] [--lesson notebooks/05_keras_experiment.ipynb]

(As root on Linux, after ``python3 course.py test`` has set up the teacher's environment and the
proxy: the hub of tests/test_hub.py, coursekit.hub.) For each S it adds S students (system users),
starts the hub, asks for every student's server at once, and then runs the lesson's code cells in
each student's kernel at once, through the hub's proxy as JupyterLab would. It reports, per S:

* time to a ready server (from the request to the hub saying "ready"), median and worst;
* time per lesson (first cell sent to last reply), median and worst;
* peak memory per student, sampled every 0.5 s over all of the student's processes: the Jupyter
  server and the kernel, each as PSS (each shared page split among the processes that share it,
  so the sum over students is what the machine holds) and as RSS (what ``top`` shows).

The machine's CPUs and its load before and after each S are printed too; timings depend on them,
memory hardly. Results also go to ``artifacts/bench_hub.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from coursekit import hub, hub_install

ROOT = Path(__file__).resolve().parent.parent


class MemorySampler(threading.Thread):
    """Peak PSS and RSS (MB) of each student's server and kernels, sampled every ``period`` s."""

    def __init__(self, students, period: float = 0.5):
        super().__init__(daemon=True)
        self.students, self.period = students, period
        self.peak = {s.name: {"server_pss": 0.0, "kernel_pss": 0.0, "total_pss": 0.0, "total_rss": 0.0}
                     for s in students}
        self.done = threading.Event()

    def sample(self) -> None:
        for student in self.students:
            sums = {"server_pss": 0.0, "kernel_pss": 0.0, "total_rss": 0.0}
            for proc in hub_install.student_processes(student):
                try:
                    info = proc.memory_full_info()
                    kind = "kernel_pss" if "ipykernel" in " ".join(proc.cmdline()) else "server_pss"
                except psutil.Error:
                    continue
                sums[kind] += info.pss / 2**20
                sums["total_rss"] += info.rss / 2**20
            sums["total_pss"] = sums["server_pss"] + sums["kernel_pss"]
            peak = self.peak[student.name]
            for key, value in sums.items():
                peak[key] = max(peak[key], value)

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            self.done.wait(self.period)


def run_lesson(the_hub: hub.Hub, name: str, lesson: str) -> float:
    """Run ``lesson``'s code cells in a new kernel of ``name``'s server; the seconds it took."""
    server = the_hub.student(name)
    notebook = server.read(lesson)["content"]
    kernel = server.kernel(lesson)
    began = time.monotonic()
    replies = kernel.run_notebook(notebook, timeout=1800)
    took = time.monotonic() - began
    kernel.shutdown()
    failed = [r for r in replies if r.status != "ok"]
    if failed:
        raise RuntimeError(f"{name}: {lesson} failed: {failed[0].ename}: {failed[0].evalue}")
    return took


def measure(base: Path, course: Path, env: Path, count: int, lesson: str) -> dict:
    """One S = ``count``: add the students, start the hub and their servers, run the lesson, clean up."""
    suffix = os.urandom(2).hex()
    students, the_hub = [], None
    load_before = os.getloadavg()[0]
    try:
        for k in range(count):
            students.append(hub_install.add_student(f"bench{k}x{suffix}", base / "homes", quota_mb=512))
        the_hub = hub.Hub(base / f"hub{count}", course, env, students).start()
        names = [s.name for s in students]
        with ThreadPoolExecutor(count) as pool:
            ready = list(pool.map(the_hub.start_server, names))
        sampler = MemorySampler(students)
        sampler.start()
        with ThreadPoolExecutor(count) as pool:
            lessons = list(pool.map(lambda n: run_lesson(the_hub, n, lesson), names))
        sampler.done.set()
        sampler.join()
        peaks = list(sampler.peak.values())
        return {
            "students": count, "cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()[0],
            "ready_s": {"median": statistics.median(ready), "max": max(ready)},
            "lesson_s": {"median": statistics.median(lessons), "max": max(lessons)},
            "peak_mb": {key: max(p[key] for p in peaks) for key in peaks[0]},
        }
    finally:
        if the_hub is not None:
            the_hub.stop()
        for student in students:
            hub_install.remove_student(student)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--lesson", default="notebooks/05_keras_experiment.ipynb")
    args = parser.parse_args(argv)
    problem = hub_install.hub_problem()
    if problem:
        raise SystemExit(problem)
    base = Path(tempfile.mkdtemp(prefix="course-hub-bench-"))
    base.chmod(0o755)
    results = []
    try:
        course, env = base / "course", base / "env"
        hub_install.install_course(course)
        hub_install.install_environment(env, course)
        print(f"{os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB; lesson {args.lesson}")
        print("| students | server ready (median / worst) | lesson (median / worst) | peak per student: "
              "server PSS | kernel PSS | both PSS | both RSS | load before → after |")
        print("|---|---|---|---|---|---|---|---|")
        for count in args.students:
            r = measure(base, course, env, count, args.lesson)
            results.append(r)
            p = r["peak_mb"]
            print(f"| {count} | {r['ready_s']['median']:.1f} / {r['ready_s']['max']:.1f} s | "
                  f"{r['lesson_s']['median']:.0f} / {r['lesson_s']['max']:.0f} s | {p['server_pss']:.0f} MB | "
                  f"{p['kernel_pss']:.0f} MB | {p['total_pss']:.0f} MB | {p['total_rss']:.0f} MB | "
                  f"{r['load_before']:.1f} → {r['load_after']:.1f} |", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        out = ROOT / "artifacts" / "bench_hub.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"lesson": args.lesson, "results": results}, indent=1))


if __name__ == "__main__":
    main()
