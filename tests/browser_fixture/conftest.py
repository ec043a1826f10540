"""The notebooks here are fixtures of the browser test (tests/test_browser.py), not lessons:
keep nbval from collecting them as notebook tests."""

collect_ignore_glob = ["*.ipynb"]
