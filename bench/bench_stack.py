"""Time K article networks trained together (helpers.keras_stack) against one at a time (lesson 05).

    python bench/bench_stack.py [--members 100] [--epochs 300] [--shards 4] [--pool 20] [--fast-runs 4]
                                [--plain-runs 1] [--knob-epochs 50] [--no-knobs] [--no-sizes]

All in one process, on the 100 training points of ``load_moons_2d`` (hidden 128, batch 32,
Adam 1e-3), a quarter of the members each of none / l1 / l2 / prox at λ = 0.001:

* **stacked**: ``StackedMLP(K).run(...)``, all K networks in one ``fit``; the first run includes
  building, tracing and XLA compilation, the second is the steady cost of a new run (new settings
  or data do not retrace);
* **shards**: the same K networks as a ``StackShards`` of ``--shards`` stacks of about
  K / shards members, trained in two threads;
* **pool**: the same K networks on two stacks of ``--pool`` members (one per thread) that train
  parts of that size in turn (``StackShards(pool, members=K)``, as lessons 05 and 06 do);
* **fit_fast one at a time**: ``reset_model`` + ``fit_fast`` on one compiled model per kind
  (tracing excluded: warmed up first), ``--fast-runs`` networks timed and **extrapolated** to K;
* **straightforward**: ``model.fit(X, y, epochs=E, batch_size=32, validation_data=...)`` on a model
  with ``steps_per_execution=1`` (``fit_plain``), ``--plain-runs`` networks, extrapolated to K;
* **knobs** (steady per-step cost, ``--knob-epochs`` epochs): XLA on/off, einsum vs matmul, batch
  indices gathered in the graph vs materialized batches, the number of steps per XLA call
  (``chunk``) and of blocks per graph execution;
* **sizes**: K networks on training sets of n = 30, 100, 300, 1000 (one per member, resampled)
  for a fixed number of gradient steps (1200), with the validation curve about every 40 steps.

Every timing prints wall and CPU seconds and the machine's 1-minute load average (as ``uptime``
shows it) before and after. The machine is shared: compare rows measured under similar load.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from helpers import load_moons_2d
from helpers.data import make_moons_2d
from helpers.keras_stack import CHUNK, StackedMLP, StackShards, stack_grid, steps_per_epoch
from helpers.keras_tools import accuracy, build_mlp, fit_fast, fit_plain, predict_proba, reset_model

KINDS = [("none", 0.0), ("l1", 1e-3), ("l2", 1e-3), ("prox", 1e-3)]


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


class Timer:
    """Wall and CPU seconds of a block, with the load average before and after."""

    def __enter__(self):
        self.load_before = load()
        self.cpu, self.start = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu
        self.load_after = load()

    def __str__(self) -> str:
        return f"wall {self.wall:6.2f} s, cpu {self.cpu:6.2f} s (load {self.load_before} -> {self.load_after})"


def config_for(members: int):
    per_kind = -(-members // len(KINDS))
    config = stack_grid(KINDS, range(per_kind))
    if len(config) != members:
        raise SystemExit(f"--members must be a multiple of {len(KINDS)}")
    return config


def stacked(data, members: int, epochs: int, shards: int = 1, pool: int = 0) -> dict:
    config = config_for(members)
    with Timer() as first:
        if pool:
            stack = StackShards([StackedMLP(pool) for _ in range(2)], members=members)
        elif shards == 1:
            stack = StackedMLP(members)
        else:
            stack = StackShards([StackedMLP(len(part)) for part in np.array_split(range(members), shards)])
        stack.run(config, data.X_train, data.y_train, epochs=epochs)
    with Timer() as second:
        stack.run(config, data.X_train, data.y_train, epochs=epochs)
    with Timer() as measure:
        scores = stack.measure(data.X_test, data.y_test)
    curve_runs = []
    for _ in range(2):  # the first compiles the evaluation for the new shapes
        with Timer() as curves:
            stack.run(config, data.X_train, data.y_train, epochs=epochs, X_val=data.X_val, y_val=data.y_val,
                      every=10)
        curve_runs.append(curves)
    label = f"two stacks of {pool} taking parts in turn" if pool else (
        "one stack" if shards == 1 else f"{shards} shards in threads")
    print(f"stacked, K = {members}, {label}, {epochs} epochs ({epochs * 4} steps):")
    print(f"  first run (build, trace, XLA compile): {first}  -> {first.wall / members:.3f} s per network")
    print(f"  second run (steady):                   {second}  -> {second.wall / members:.3f} s per network")
    print(f"  measure(test, 1000 points), all K:     {measure}")
    for i, curves in enumerate(curve_runs):
        print(f"  run with curves every 10 epochs (train 100 + val 500 points), {'first' if i == 0 else 'again'}: "
              f"{curves}")
    acc = {kind: scores["accuracy"][config.kind == kind].mean() for kind, _ in KINDS}
    print("  mean test accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()), flush=True)
    return {"first": first.wall, "second": second.wall, "acc": acc}


def one_at_a_time(data, epochs: int, runs: int, fast: bool) -> dict:
    """Per-network seconds of fit_fast (fast) or the straightforward fit, tracing excluded for
    fit_fast (one warm-up run per kind) and included for the straightforward fit (as the article runs it)."""
    kinds = [KINDS[i % len(KINDS)] for i in range(runs)]
    models = {}
    if fast:
        for kind, lam in KINDS:
            models[kind] = build_mlp(kind, lam)
            fit_fast(models[kind], data.X_train, data.y_train, 1)  # trace once
    walls, accs = [], []
    for seed, (kind, lam) in enumerate(kinds):
        with Timer() as t:
            if fast:
                model = models[kind]
                reset_model(model, seed)
                fit_fast(model, data.X_train, data.y_train, epochs, seed=seed)
            else:
                model = build_mlp(kind, lam, steps_per_execution=1)
                reset_model(model, seed)
                fit_plain(model, data.X_train, data.y_train, epochs, data.X_val, data.y_val)
        walls.append(t.wall)
        accs.append(accuracy(data.y_test, predict_proba(model, data.X_test)))
        print(f"  {'fit_fast' if fast else 'straightforward fit'} {kind:>4} seed {seed}: {t}", flush=True)
    return {"per_network": float(np.mean(walls)), "acc": float(np.mean(accs))}


def knobs(data, members: int, epochs: int, repeats: int = 3) -> None:
    """Steady per-step cost of each variant: all built and warmed up first, then timed in
    ``repeats`` interleaved rounds (so a change of the machine's load hits every variant)."""
    config = config_for(members)
    steps = epochs * 4
    variants = [
        (f"default: XLA, einsum, indices, blocks of {CHUNK} steps", {}, "indices"),
        ("XLA off", {"jit_compile": False}, "indices"),
        ("matmul instead of einsum", {"contraction": "matmul"}, "indices"),
        ("materialized (steps, K, 32, 2) batches", {}, "batches"),
        ("one step per XLA call (chunk = 1)", {"chunk": 1}, "indices"),
        ("blocks of 10 steps (chunk = 10)", {"chunk": 10}, "indices"),
        ("one block per graph execution", {"steps_per_execution": 1}, "indices"),
    ]
    stacks = []
    for _, kwargs, feed in variants:
        stacks.append(StackedMLP(members, **kwargs))
        stacks[-1].run(config, data.X_train, data.y_train, epochs=1, feed=feed)  # trace and compile
    walls, cpus, loads = ([[] for _ in variants] for _ in range(3))
    for _ in range(repeats):
        for i, (stack, (_, _, feed)) in enumerate(zip(stacks, variants, strict=True)):
            with Timer() as t:
                stack.run(config, data.X_train, data.y_train, epochs=epochs, feed=feed)
            walls[i].append(1000 * t.wall / steps)
            cpus[i].append(1000 * t.cpu / steps)
            loads[i].append(t.load_after)
    print(f"\nknobs, K = {members}, {steps} steps, steady, ms per step (min and median of {repeats} interleaved):")
    for i, (label, _, _) in enumerate(variants):
        print(f"  {label:58s} wall {min(walls[i]):6.2f} / {np.median(walls[i]):6.2f}, "
              f"cpu {min(cpus[i]):6.2f} / {np.median(cpus[i]):6.2f} (load {', '.join(loads[i])})", flush=True)


def sizes(members: int, steps: int = 1200, budget: float = 40.0) -> None:
    """K networks per training size, a fixed number of steps each; then what ``budget`` seconds buy."""
    config = config_for(members)
    print(f"\ntraining sizes, K = {members} (a resampled training set per member), {steps} steps each, "
          "validation curve (500 points) about every 40 steps:")
    stack = StackedMLP(members)
    X_val, y_val = make_moons_2d(500, seed=10_000)
    per_network = []
    for n in (30, 100, 300, 1000):
        sets = [make_moons_2d(n, seed=1 + k) for k in range(members)]
        X, y = np.stack([s[0] for s in sets]), np.stack([s[1] for s in sets])
        every = max(1, round(40 / steps_per_epoch(n, 32)))  # about every 40 steps
        with Timer() as first:
            stack.run(config, X, y, steps=steps, X_val=X_val, y_val=y_val, every=every)
        with Timer() as second:
            run = stack.run(config, X, y, steps=steps, X_val=X_val, y_val=y_val, every=every)
        per_network.append(second.wall / members)
        print(f"  n = {n:4d} ({run['epochs']:6.1f} epochs, {len(run['curve_epochs'])} evaluations): "
              f"first {first}\n  {'':58s} again {second}", flush=True)
    cost = float(np.mean(per_network))
    print(f"  {budget:.0f} s buy about {budget / cost:.0f} networks of {steps} steps at this load "
          f"({cost:.3f} s each, mean over the sizes): about {budget / cost / 4:.0f} per size for the four sizes "
          f"(one run per size; add ~3 s for the first run's XLA compile)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--pool", type=int, default=20)
    parser.add_argument("--fast-runs", type=int, default=4)
    parser.add_argument("--plain-runs", type=int, default=1)
    parser.add_argument("--knob-epochs", type=int, default=50)
    parser.add_argument("--no-knobs", action="store_true")
    parser.add_argument("--no-sizes", action="store_true")
    args = parser.parse_args(argv)
    import tensorflow as tf  # after helpers.keras_tools has set TF_CPP_MIN_LOG_LEVEL

    tf.get_logger().setLevel("ERROR")
    print(f"{os.cpu_count()} CPUs, TensorFlow {tf.__version__}, load at start {load()}\n", flush=True)
    data = load_moons_2d()
    k, epochs = args.members, args.epochs
    st = stacked(data, k, epochs)
    sh = stacked(data, k, epochs, args.shards) if args.shards > 1 else st
    po = stacked(data, k, epochs, pool=args.pool) if args.pool else st
    print(f"\nfit_fast one network at a time ({args.fast_runs} timed, extrapolated to {k}):")
    fast = one_at_a_time(data, epochs, args.fast_runs, fast=True)
    print(f"straightforward model.fit(..., validation_data=...) ({args.plain_runs} timed, extrapolated to {k}):")
    plain = one_at_a_time(data, epochs, args.plain_runs, fast=False)
    print(f"\n{k} networks, {epochs} epochs:")
    print(f"  stacked, first run incl. tracing: {st['first']:7.1f} s")
    print(f"  stacked, steady:                  {st['second']:7.1f} s")
    print(f"  fit_fast one at a time:           {k * fast['per_network']:7.1f} s (extrapolated from "
          f"{fast['per_network']:.3f} s per network)")
    print(f"  straightforward fit:              {k * plain['per_network']:7.1f} s (extrapolated from "
          f"{plain['per_network']:.2f} s per network)")
    print(f"  {args.shards} shards, first run:          {sh['first']:7.1f} s")
    print(f"  {args.shards} shards, steady:             {sh['second']:7.1f} s")
    print(f"  pool of 2 x {args.pool}, first run:       {po['first']:7.1f} s")
    print(f"  pool of 2 x {args.pool}, steady:          {po['second']:7.1f} s")
    for name, run in (("one stack", st), (f"{args.shards} shards", sh), (f"pool of 2 x {args.pool}", po)):
        print(f"  throughput vs fit_fast, {name}: {k * fast['per_network'] / run['first']:.1f}x incl. tracing, "
              f"{k * fast['per_network'] / run['second']:.1f}x steady; "
              f"vs straightforward: {k * plain['per_network'] / run['second']:.0f}x steady")
    print(f"  mean test accuracy: stacked {np.mean(list(st['acc'].values())):.3f}, fit_fast {fast['acc']:.3f}, "
          f"straightforward {plain['acc']:.3f} (same kinds, other seeds and batch orders)")
    if not args.no_knobs:
        knobs(data, k, args.knob_epochs)
    if not args.no_sizes:
        sizes(k)
    print(f"\nload at end {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
