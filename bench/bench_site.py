"""The course's website: build time, size per page, pictures per widget, and how long a move of a
static widget's control takes to show its picture in Chromium.

    .venv/bin/python bench/bench_site.py [--site DIR] [--moves N] [--jobs 2]

Without ``--site`` it builds the site first (every notebook executed, as ``python3 course.py site``
does) into a temporary folder and prints the time of each part (executing, staging, Sphinx) and of
each notebook; with ``--site DIR`` it measures a site built before. Then: the site's size, each
page's size with every picture it can show (budgets: 60 MB in all, 10 MB a page), each widget's
pictures (mode, states, distinct frames, bytes), and, in Debian's Chromium served from 127.0.0.1,
the delay from a control's input event to the new picture on screen (the frame swapped and the
next animation frame drawn), for N moves per widget after the reader has reached for it (the
pictures preloading), and for the very first move of a fresh page. Prints the load average too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from coursekit.lab_browser import CHROMIUM
from coursekit.site import browser as sb
from coursekit.site import build, pages

REPO = Path(__file__).resolve().parent.parent

MOVE_JS = """async ([id, kind, index, position]) => {
  const w = document.getElementById(id);
  const img = w.querySelector('img.course-widget-frame');
  const t0 = performance.now();
  if (kind === 'button') {
    w.querySelector(`[data-toggle='${index}'] button[data-index='${position}']`).click();
  } else {
    const input = w.querySelector(`input[data-slider='${index}']`);
    input.value = String(position);
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  const m = JSON.parse(w.querySelector('script.course-widget-manifest').textContent);
  const want = String(m.states[w.dataset.state]);
  while (w.dataset.frame !== want || !img.complete) { await new Promise((r) => setTimeout(r, 1)); }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}"""


def moves(manifest: dict, n: int) -> list:
    """``n`` moves cycling over every control: each slider one position at a time, each button."""
    found = []
    tkey = ",".join(str(t["initial"]) for t in manifest["toggles"])
    defs = manifest["slider_defs"].get(tkey) or next(iter(manifest["slider_defs"].values()))
    for s, d in enumerate(defs):
        if not d["disabled"]:
            found += [("slider", s, k) for k in range(len(d["labels"]))]
    for g, t in enumerate(manifest["toggles"]):
        found += [("button", g, k) for k in range(t["n"])]
    return (found * (n // max(1, len(found)) + 1))[:n]


def measure(site: Path, n: int) -> None:
    from playwright.sync_api import sync_playwright

    with sb.serve(site) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--disable-dev-shm-usage"])
        print(f"\n{'page / widget':<46} {'first move':>10} {'median':>8} {'p95':>8} {'max':>8} {'all loaded':>10}"
              f"  (ms; {n} moves once all pictures loaded, 'all loaded' at ms since the page loaded)")
        for page_info in pages.pages(REPO):
            context = sb.new_context(browser, url)
            page = context.new_page()
            page.goto(f"{url}/{page_info.doc}.html")
            for widget in sb.widget_manifests(page):
                plan = moves(widget["manifest"], n + 1)
                first = page.evaluate(MOVE_JS, [widget["id"], *plan[0]])  # the first move starts the preload
                page.wait_for_function(f"document.getElementById('{widget['id']}').dataset.preloaded")
                preload = float(page.evaluate(f"document.getElementById('{widget['id']}').dataset.preloaded"))
                times = [page.evaluate(MOVE_JS, [widget["id"], *m]) for m in plan[1:]]
                times.sort()
                p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
                print(f"{page_info.doc + ' ' + widget['id']:<46.46} {first:10.1f} {statistics.median(times):8.1f} "
                      f"{p95:8.1f} {max(times):8.1f} {preload:10.0f}")
            context.close()
        browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a site built before (default: build one now)")
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    site = args.site
    tmp = None
    if site is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-site-")
        site = Path(tmp.name) / "site"
        report = build.build(REPO, site, jobs=args.jobs, say=lambda m: print(f"[site] {m}", flush=True))
        print(f"\nbuild: {report.seconds} s (execute includes the widgets' pictures)")
        for doc, seconds in sorted(report.executed.items(), key=lambda kv: -kv[1]):
            print(f"  {doc:<52} {seconds:6.1f} s")
        print(f"\n{'widget':<52} {'mode':>5} {'states':>7} {'frames':>7} {'MB':>6} {'s':>6}")
        for w in report.widgets:
            print(f"  {w['page'] + ' ' + w['type']:<50.50} {w['mode']:>5} {w['states']:7d} {w['frames']:7d} "
                  f"{w['bytes'] / 1e6:6.2f} {w['seconds']:6.1f}")
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    print(f"\nsite: {total / 1e6:.1f} MB (budget {build.SITE_BUDGET_BYTES / 1e6:.0f} MB); pages with their "
          f"pictures (budget {build.PAGE_BUDGET_BYTES / 1e6:.0f} MB):")
    for name, size in sorted(build.page_sizes(site).items(), key=lambda kv: -kv[1]):
        if size > 200_000:
            print(f"  {name:<52} {size / 1e6:6.2f} MB")
    measure(site, args.moves)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
