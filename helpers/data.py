"""The course's datasets: deterministic generators, shipped CSV files and checksum-verified loaders.

Every file in ``data/`` is produced by a generator below from a fixed seed and listed with its
SHA-256 sum in ``data/SHA256SUMS``. Loaders verify the sum before parsing, so a damaged file
never turns into a silently wrong lesson. Regenerate everything with
``python -m coursekit.make_data --write`` (or ``python3 course.py data``). Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers._counts import check_int, check_seed, check_size
from helpers._validate import check_array, check_choice, check_scalar

REGENERATE = ("python3 course.py data  (or, inside the course environment: "
              "python -m coursekit.make_data --write)")
MANIFEST = "SHA256SUMS"


class DataFileError(OSError):
    """A shipped data file is missing or does not match its recorded checksum."""


def data_dir() -> Path:
    """Folder holding the shipped datasets: ``$COURSE_DATA_DIR`` or the repository's ``data/``."""
    return Path(os.environ.get("COURSE_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))


# --------------------------------------------------------------------------------------------
# Generators (pure: same arguments, same arrays)
# --------------------------------------------------------------------------------------------

def true_curve(x) -> np.ndarray:
    r"""The noiseless function behind the 1-D set: :math:`f(x) = \sin(2\pi x)` on [0, 1]."""
    x = check_array(x, "x", allow_empty=True)
    if np.abs(x).max(initial=0.0) > 1e6:  # far outside [0, 1]; 2πx would lose every digit
        raise ValueError(f"x must lie within ±1e6 (the curve is meant for [0, 1]), got values up to "
                         f"{np.abs(x).max():.3g}")
    return np.sin(2 * np.pi * x)


def _check_generator(n, noise, seed, min_n: int = 1, columns: int = 2):
    """The arguments every generator shares: ``n`` points (at most what a helper may allocate for
    ``columns`` numbers per point), a noise level >= 0 and a seed."""
    n = check_int(n, "n", min_value=min_n)
    check_size(n * columns, "n")
    return n, check_scalar(noise, "noise", max_value=1e6), check_seed(seed)


def make_curve_1d(n: int, noise: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points ``x ~ U(0, 1)``, ``y = sin(2πx) + N(0, noise²)``. Used in notebooks 01-02."""
    n, noise, seed = _check_generator(n, noise, seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    y = true_curve(x) + noise * rng.standard_normal(n)
    return x, y


def make_moons_2d(n: int, noise: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half-moons in 2-D with Gaussian noise; labels 0/1, classes balanced.

    Same construction as scikit-learn's ``make_moons`` (written out so the shipped bytes do not
    depend on another library's version). Used in notebooks 01 and 05.
    """
    n, noise, seed = _check_generator(n, noise, seed, min_n=2, columns=3)
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.vstack([
        np.column_stack([np.cos(t_out), np.sin(t_out)]),
        np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]),
    ])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def make_sparse_regression(n: int = 200, n_features: int = 100, n_informative: int = 5,
                           noise: float = 1.0, seed: int = 0):
    """Regression with a known sparse truth: ``y = X @ coef + N(0, noise²)``, ``X ~ N(0, 1)``.

    ``coef`` has ``n_informative`` nonzeros of decreasing size (3, -2.5, 2, -1.5, 1, ...) at
    random positions. Returns ``(X, y, coef)``. Used in notebook 04.
    """
    n_features = check_int(n_features, "n_features", min_value=1)
    n, noise, seed = _check_generator(n, noise, seed, columns=n_features + 1)
    n_informative = check_int(n_informative, "n_informative", min_value=0)
    if n_informative > n_features:
        raise ValueError(f"n_informative must be <= n_features, got {n_informative} > {n_features}")
    rng = np.random.default_rng(seed)
    coef = np.zeros(n_features)
    support = np.sort(rng.choice(n_features, n_informative, replace=False))
    sizes = 3.0 - 0.5 * np.arange(n_informative)
    signs = np.where(np.arange(n_informative) % 2 == 0, 1.0, -1.0)
    coef[support] = np.maximum(sizes, 0.5) * signs
    X = rng.standard_normal((n, n_features))
    y = X @ coef + noise * rng.standard_normal(n)
    return X, y, coef


# --------------------------------------------------------------------------------------------
# The shipped files: name -> function returning the CSV text
# --------------------------------------------------------------------------------------------

def _csv(columns: dict[str, np.ndarray], split: list[str] | None = None) -> str:
    names = list(columns) + (["split"] if split is not None else [])
    kinds = ["d" if np.asarray(c).dtype.kind in "iu" else "f" for c in columns.values()]
    rows = np.column_stack(list(columns.values()))
    out = io.StringIO()
    out.write(",".join(names) + "\n")
    for i, row in enumerate(rows):
        cells = [f"{v:.6f}" if fmt == "f" else f"{int(v)}" for v, fmt in zip(row, kinds, strict=True)]
        if split is not None:
            cells.append(split[i])
        out.write(",".join(cells) + "\n")
    return out.getvalue()


def _curve_1d_csv() -> str:
    x_tr, y_tr = make_curve_1d(30, noise=0.3, seed=101)
    x_te, y_te = make_curve_1d(200, noise=0.3, seed=102)
    return _csv({"x": np.r_[x_tr, x_te], "y": np.r_[y_tr, y_te]}, ["train"] * 30 + ["test"] * 200)


_MOONS_SPLITS = {"train": (100, 201), "val": (500, 202), "test": (1000, 203)}


def _moons_2d_csv() -> str:
    parts = [make_moons_2d(n, noise=0.3, seed=seed) for n, seed in _MOONS_SPLITS.values()]
    split = [name for name, (n, _) in _MOONS_SPLITS.items() for _ in range(n)]
    X = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return _csv({"x1": X[:, 0], "x2": X[:, 1], "label": y.astype(int)}, split)


def _sparse_parts():
    return make_sparse_regression(n=200, n_features=100, n_informative=5, noise=1.0, seed=301)


def _sparse_100_csv() -> str:
    X, y, _ = _sparse_parts()
    cols = {f"x{j}": X[:, j] for j in range(X.shape[1])}
    cols["y"] = y
    return _csv(cols, ["train"] * 100 + ["test"] * 100)


def _sparse_100_coef_csv() -> str:
    coef = _sparse_parts()[2]
    return _csv({"feature": np.arange(coef.size), "coef": coef})


FILES = {
    "curve_1d.csv": _curve_1d_csv,
    "moons_2d.csv": _moons_2d_csv,
    "sparse_100.csv": _sparse_100_csv,
    "sparse_100_coef.csv": _sparse_100_coef_csv,
}


def generate(name: str) -> bytes:
    """The exact bytes of shipped file ``name``, regenerated from its seeds."""
    return FILES[check_choice(name, "name", sorted(FILES))]().encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_DIGEST = re.compile(r"[0-9a-f]{64}")


def read_manifest(folder: Path | None = None) -> dict[str, str]:
    """``{file name: sha256}`` from ``data/SHA256SUMS`` (``sha256sum -c`` can read it too).

    Every non-blank line must be ``<64 hex digits>  <file name>``; a missing, unreadable or
    malformed manifest raises :class:`DataFileError` naming it and the command that rebuilds it.
    """
    path = Path(folder or data_dir()) / MANIFEST
    if path.is_dir():
        raise DataFileError(f"{path} is a folder, not the list of checksums: move it away, then regenerate the "
                            f"data with: {REGENERATE}")
    if not path.is_file():
        raise DataFileError(f"{path} is missing. Regenerate the data with: {REGENERATE}")
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path} cannot be read ({exc}). Regenerate the data with: {REGENERATE}") from None
    sums = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not _DIGEST.fullmatch(parts[0]) or not parts[1].strip():
            raise DataFileError(f"{path} is malformed (line {number}: {line[:80]!r} is not "
                                f"'<sha256>  <file name>'). Regenerate the data with: {REGENERATE}")
        sums[parts[1].strip().lstrip("*")] = parts[0]
    return sums


def write_all(folder: Path | None = None) -> list[Path]:
    """Regenerate every shipped file and the manifest in ``folder``; returns the paths written.

    A path in the way (``data/`` itself a file, or a folder where a data file belongs) raises
    :class:`DataFileError` saying what to move; nothing is deleted.
    """
    folder = Path(folder or data_dir())
    if folder.exists() and not folder.is_dir():
        raise DataFileError(f"{folder} should be the data folder but is a file: move it away, "
                            f"then run: {REGENERATE}")
    blocked = [folder / name for name in (*FILES, MANIFEST) if (folder / name).is_dir()]
    if blocked:
        raise DataFileError(f"{', '.join(map(str, blocked))} should be a file but is a folder: move it "
                            f"away, then run: {REGENERATE}")
    written, lines = [], []
    target = folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            data = generate(name)
            target = folder / name
            target.write_bytes(data)
            written.append(target)
            lines.append(f"{_sha256(data)}  {name}\n")
        target = folder / MANIFEST
        target.write_text("".join(lines))
    except OSError as exc:
        raise DataFileError(f"{target} cannot be written ({exc.strerror or exc}): make {folder} writable for you "
                            f"(e.g. chmod -R u+w {folder}), then run: {REGENERATE}") from None
    return written


def verified_bytes(name: str) -> bytes:
    """Read shipped file ``name`` after checking it against the manifest."""
    folder = data_dir()
    sums = read_manifest(folder)
    if name not in sums:
        raise DataFileError(f"{name} is not listed in {folder / MANIFEST}. "
                            f"Regenerate the data with: {REGENERATE}")
    path = folder / name
    if path.is_dir():
        raise DataFileError(f"data file {path} is a folder, not a file: move it away, then run: {REGENERATE}")
    if not path.is_file():
        raise DataFileError(f"data file {path} is missing. Regenerate it with: {REGENERATE}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"data file {path} cannot be read ({exc.strerror or exc}): make it readable "
                            f"(chmod u+r {path}) or regenerate it with: {REGENERATE}") from None
    if _sha256(data) != sums[name]:
        raise DataFileError(f"data file {path} is corrupt (its SHA-256 does not match "
                            f"{MANIFEST}). Regenerate it with: {REGENERATE}")
    return data


def verify_data() -> dict[str, str]:
    """Check every dataset the course ships (:data:`FILES`, not whatever the manifest lists) against
    its checksum in the manifest; returns ``{name: 'ok'}`` or raises :class:`DataFileError`.

    So an empty or partial manifest fails here, naming the first file it does not vouch for.
    """
    return {name: (verified_bytes(name), "ok")[1] for name in FILES}


def _read_csv(name: str):
    """The columns, values and split of a shipped CSV file; a file that is not the course's CSV (a
    manifest edited to match a damaged file lets it past the checksum) raises DataFileError naming it."""
    try:
        text = verified_bytes(name).decode()
        header, *lines = text.strip().split("\n")
        cols = header.split(",")
        has_split = cols[-1] == "split"
        rows = [line.split(",") for line in lines]
        if not rows or any(len(r) != len(cols) for r in rows):
            raise ValueError("its rows do not all have one value per column")
        values = np.array([r[: len(cols) - has_split] for r in rows], dtype=float)
        if not np.all(np.isfinite(values)):
            raise ValueError("it holds values that are not finite numbers")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFileError(f"data file {data_dir() / name} cannot be read as the course's data ({exc}): its "
                            f"checksum matches, so {MANIFEST} was changed too. Regenerate both with: "
                            f"{REGENERATE}") from None
    split = np.array([r[-1] for r in rows]) if has_split else None
    return cols, values, split


@dataclass(frozen=True)
class Dataset:
    """Arrays of one shipped dataset, already split. ``X_val``/``coef`` are ``None`` if absent."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    coef: np.ndarray | None = None


def _split(name, X, y, split, **extra) -> Dataset:
    parts = {}
    for part in ("train", "val", "test"):
        mask = split == part
        parts[f"X_{part}"] = X[mask] if mask.any() else None
        parts[f"y_{part}"] = y[mask] if mask.any() else None
    return Dataset(name=name, **parts, **extra)


def load_curve_1d() -> Dataset:
    """The 1-D noisy regression set (30 train, 200 test); ``X_*`` are 1-D arrays of x. Notebook 01."""
    _, values, split = _read_csv("curve_1d.csv")
    return _split("curve_1d", values[:, 0], values[:, 1], split)


def load_moons_2d() -> Dataset:
    """The 2-D two-class moons (100 train, 500 val, 1000 test; noise 0.3). Notebooks 01 and 05."""
    _, values, split = _read_csv("moons_2d.csv")
    return _split("moons_2d", values[:, :2], values[:, 2].astype(int), split)


def load_sparse_100() -> Dataset:
    """100-feature regression (100 train, 100 test) with its true sparse ``coef``. Notebook 04."""
    _, values, split = _read_csv("sparse_100.csv")
    _, coef_values, _ = _read_csv("sparse_100_coef.csv")
    return _split("sparse_100", values[:, :-1], values[:, -1], split, coef=coef_values[:, 1])
