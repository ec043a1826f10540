"""The floor under the stack's cost: a minimal stacked training loop, one core, per network.

    python bench/bench_floor.py [--members 8 24] [--epochs 300] [--fast-runs 6]

``helpers.keras_stack.StackedMLP`` does more than the least work one Adam step needs (penalties,
proximal steps, dropout and noise switches, masks for partial batches, curves, Keras's loop).
This script measures what is left without any of it: K stacked article networks (2 → 128 relu →
128 relu → 1, batches of 32 gathered from 100 points, Adam 1e-3, sigmoid cross-entropy), every
step of the run inside one XLA-compiled ``tf.while_loop``. It runs in a child process with **one**
intra-op thread, so its CPU seconds are one core's work per network. Then, in this process with
TensorFlow's default threads, ``fit_fast`` one network at a time (the lessons' way, wall seconds).

The ratio printed last is the ceiling of the stack's throughput against ``fit_fast`` on this
machine: even with no overhead and every core busy all the time, ``cores`` networks' worth of this
floor per second is the most one can train. Each timing prints the 1-minute load average.

It also times, on the same one thread, the three batched products of the 128 × 128 layer alone
(forward, weight gradient, input gradient), which no correct engine can skip: how much of the
floor is arithmetic that only a faster core would shorten.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def second_call(run) -> tuple[float, float]:
    """Wall and CPU seconds of ``run()``'s second call (the first traces and compiles it)."""
    run()
    cpu, wall = time.process_time(), time.perf_counter()
    run().numpy()
    return time.perf_counter() - wall, time.process_time() - cpu


def floor(members: int, epochs: int, n: int = 100, batch: int = 32, hidden: int = 128) -> dict:
    """CPU and wall seconds of ``epochs`` epochs of ``members`` stacked networks (second call)."""
    import numpy as np
    import tensorflow as tf

    steps = epochs * -(-n // batch)
    rng = np.random.default_rng(0)
    X = tf.constant(rng.normal(size=(members, n, 2)).astype("float32"))
    y = tf.constant((rng.random((members, n)) > 0.5).astype("float32"))
    rows = tf.constant(rng.integers(0, n, size=(steps, members, batch)).astype("int32"))
    shapes = [(members, 2, hidden), (members, hidden), (members, hidden, hidden), (members, hidden),
              (members, hidden, 1), (members, 1)]
    w = [tf.Variable(0.1 * rng.normal(size=s).astype("float32")) for s in shapes]
    m = [tf.Variable(tf.zeros(s)) for s in shapes]
    v = [tf.Variable(tf.zeros(s)) for s in shapes]

    def loss(xb, yb):
        h = tf.nn.relu(tf.einsum("kbi,kio->kbo", xb, w[0]) + w[1][:, None])
        h = tf.nn.relu(tf.einsum("kbi,kio->kbo", h, w[2]) + w[3][:, None])
        z = tf.einsum("kbi,kio->kbo", h, w[4])[..., 0] + w[5]
        return tf.reduce_sum(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(yb, z), axis=1))

    @tf.function(jit_compile=True)
    def run():
        def body(t, _):
            xb, yb = tf.gather(X, rows[t], batch_dims=1), tf.gather(y, rows[t], batch_dims=1)
            with tf.GradientTape() as tape:
                value = loss(xb, yb)
            step = tf.cast(t + 1, tf.float32)
            alpha = 1e-3 * tf.sqrt(1 - 0.999**step) / (1 - 0.9**step)
            for wi, mi, vi, g in zip(w, m, v, tape.gradient(value, w), strict=True):
                mi.assign(0.9 * mi + 0.1 * g)
                vi.assign(0.999 * vi + 0.001 * g * g)
                wi.assign_sub(alpha * mi / (tf.sqrt(vi) + 1e-7))
            return t + 1, value

        return tf.while_loop(lambda t, _: t < steps, body, (0, 0.0))[1]

    wall, cpu = second_call(run)
    return {"members": members, "steps": steps, "wall": wall, "cpu": cpu, "load": os.getloadavg()[0]}


def products(members: int, steps: int, batch: int = 32, hidden: int = 128) -> dict:
    """CPU seconds of ``steps`` rounds of the hidden layer's three batched products for ``members``
    networks (forward ``x W``, weight gradient ``xᵀ δ``, input gradient ``δ Wᵀ``), each round
    depending on the last so that XLA cannot hoist any of them out of the loop (second call)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = tf.constant(rng.random((members, batch, hidden)).astype("float32"))
    w = tf.constant(0.01 * rng.random((members, hidden, hidden)).astype("float32"))

    @tf.function(jit_compile=True)
    def run():
        def body(t, a, g):
            z = tf.einsum("kbi,kio->kbo", a, w + 1e-9 * g)       # forward
            grad = tf.einsum("kbi,kbo->kio", a, z)               # weight gradient
            back = tf.einsum("kbo,kio->kbi", z, w)               # input gradient
            return t + 1, x + 1e-9 * back, grad

        return tf.while_loop(lambda t, *_: t < steps, body, (0, x, tf.zeros_like(w)))[1]

    cpu = second_call(run)[1]
    return {"cpu": cpu, "gflops": 3 * 2 * members * batch * hidden**2 * steps / cpu / 1e9}


def fit_fast_seconds(epochs: int, runs: int) -> list[float]:
    """Wall seconds of ``fit_fast`` per network, one network at a time (traced first)."""
    from helpers import load_moons_2d
    from helpers.keras_tools import build_mlp, fit_fast, reset_model

    data = load_moons_2d()
    model = build_mlp("none")
    fit_fast(model, data.X_train, data.y_train, 1)
    walls = []
    for seed in range(runs):
        reset_model(model, seed)
        start = time.perf_counter()
        fit_fast(model, data.X_train, data.y_train, epochs, seed=seed)
        walls.append(time.perf_counter() - start)
    return walls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[8, 24])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--fast-runs", type=int, default=6)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # one intra-op thread, set before TensorFlow runs anything
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        for k in args.members:
            row = floor(k, args.epochs)
            row["products"] = products(k, row["steps"])
            print(json.dumps(row), flush=True)
        return 0
    cmd = [sys.executable, __file__, "--child", "--epochs", str(args.epochs), "--members", *map(str, args.members)]
    child = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    print(f"minimal stacked loop, one intra-op thread, {args.epochs} epochs of 100 points:")
    for r in rows:
        print(f"  K = {r['members']:3d}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU "
              f"-> {r['cpu'] / r['members']:.3f} CPU s per network (load {r['load']:.2f})")
        mm = r["products"]
        print(f"          of which the 128x128 layer's three products alone: {mm['cpu'] / r['members']:.3f} CPU s "
              f"per network ({mm['cpu'] / r['cpu']:.0%} of the loop, {mm['gflops']:.0f} GFLOP/s)")
    best = min(r["cpu"] / r["members"] for r in rows)
    walls = sorted(fit_fast_seconds(args.epochs, args.fast_runs))
    median = walls[len(walls) // 2]
    cores = os.cpu_count() or 1
    print(f"fit_fast, one network at a time, default threads: median {median:.3f} s per network "
          f"(min {walls[0]:.3f}, max {walls[-1]:.3f}; load {os.getloadavg()[0]:.2f})")
    print(f"ceiling on {cores} cores: {median:.3f} / ({best:.3f} / {cores}) = {median * cores / best:.1f}x "
          "the throughput of fit_fast, with no overhead and every core busy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
