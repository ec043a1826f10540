"""Time a λ-slider move to the updated plot in a real browser (JupyterLab + Debian's Chromium).

    .venv/bin/python bench/bench_browser.py                 # fixtures + every lesson with widgets
    .venv/bin/python bench/bench_browser.py notebooks/04_l1_vs_l2.ipynb --moves 40

For each notebook: open it in a private JupyterLab (coursekit/lab_browser/, the same machinery
as tests/test_browser.py), Run All, take its first λ slider (else its first slider), make one
warm-up move and then ``--moves`` one-step moves (ArrowRight, ArrowLeft at the maximum). A move is
timed in the page from the keydown event to the first on-screen redraw of a plot (``drawImage``
on an ipympl canvas, or a new/changed ``<img>`` in an output); each move must also change a plot's
pixels before the next one starts. Prints median and p95 per notebook; the target is a median
under 150 ms. Nothing is asserted: benchmarks report, tests check.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from coursekit import lab_browser as bs

TARGET_MS = 150


def bench_notebook(browser, server, notebook: Path, moves: int) -> dict:
    page = bs.new_page(browser)
    try:
        t = time.perf_counter()
        rel = server.served_path(notebook).relative_to(server.root).as_posix()
        bs.open_notebook(page, server, rel)
        bs.run_all_cells(page)
        state = bs.wait_widgets_settled(page)
        run_all_s = time.perf_counter() - t
        if bs.problems(state):
            return {"error": "; ".join(bs.problems(state))[:300], "run_all_s": run_all_s}
        found = bs.sliders(page)
        if not found:
            return {"error": "no slider", "run_all_s": run_all_s}
        chosen = next((s for s in found if s.is_lambda), found[0])
        times, sent, received, failed = [], [], [], 0
        for i in range(moves + 1):  # the first move warms up and is not counted
            slider = bs.sliders(page)[chosen.index]
            move = bs.move_slider(page, slider)
            bs.wait_kernel_idle(page)
            if move.error or move.latency_ms is None:
                failed += 1
            elif i > 0:
                times.append(move.latency_ms)
                sent.append(move.sent_ms if move.sent_ms is not None else float("nan"))
                received.append(move.received_ms if move.received_ms is not None else float("nan"))
        return {"slider": chosen.label, "times": times, "sent": sent, "received": received,
                "failed": failed, "run_all_s": run_all_s}
    finally:
        page.context.close()
        server.delete_kernels()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: tests/browser_fixture/*.ipynb + lessons with widgets")
    parser.add_argument("--moves", type=int, default=20)
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or (
        bs.fixture_notebooks() + bs.widget_notebooks()
    )
    problem = bs.chromium_problem()
    if problem:
        print(problem)
        return 1
    from playwright.sync_api import sync_playwright

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"{args.moves} timed moves per notebook after 1 warm-up; target median < {TARGET_MS} ms")
    print("median/p95/min/max: key press -> first on-screen redraw of a plot; 'sent' and 'reply':"
          " medians of key press -> first message to the kernel / last message back before it")
    header = f"{'notebook':30} {'slider':10} {'median':>8} {'p95':>8} {'min':>7} {'max':>7} " \
             f"{'sent':>6} {'reply':>7} {'n':>3} {'fail':>4} {'run all':>8}"
    print(header)
    with bs.JupyterServer() as server, sync_playwright() as pw:
        browser = bs.launch_browser(pw)
        try:
            for nb in notebooks:
                r = bench_notebook(browser, server, nb, args.moves)
                name = nb.name
                if "error" in r or not r["times"]:
                    print(f"{name:30} {r.get('error', 'every move failed')}")
                    continue
                ts = r["times"]
                print(f"{name[:30]:30} {r['slider'][:10]:10} {statistics.median(ts):6.0f}ms "
                      f"{bs.percentile(ts, 95):6.0f}ms {min(ts):5.0f}ms {max(ts):5.0f}ms "
                      f"{statistics.median(r['sent']):4.0f}ms {statistics.median(r['received']):5.0f}ms "
                      f"{len(ts):3d} {r['failed']:4d} {r['run_all_s']:7.1f}s", flush=True)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
