"""Shards on several cores: :class:`StackShards` uses a few reused :class:`StackedMLP` as one stack of
any number of members, trained in parts, the shards side by side in threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from helpers._counts import check_int
from helpers._validate import check_array, check_choice
from helpers.keras_stack.config import WEIGHTS, StackConfig
from helpers.keras_stack.model import NonFiniteTraining, StackedMLP


class StackShards:
    """Several :class:`StackedMLP` ("shards") used as one stack of ``members`` networks, trained
    side by side in ``workers`` threads. Build the shards once and reuse them for any number of
    members: each one compiles its steps once, and a new run with other settings or data does
    not retrace (:class:`StackedMLP`)::

        pool = [StackedMLP(20) for _ in range(2)]   # 2 compilations, once
        big = StackShards(pool, members=240)        # a run of 240 members: 12 parts of 20
        small = StackShards(pool, members=70)       # later, 70: parts of 20, 20, 20 and 10

    Without ``members``, the shards hold exactly the sum of their sizes, one part each. With
    ``members``, the members are cut into **parts** of a shard's size and each shard trains its
    parts one after the other, the shards side by side (a short last part is padded with copies
    of its last member, whose results are dropped). After every part its weights are kept, so :meth:`measure`,
    :meth:`use_weights` and :meth:`hidden_kernels` see every member, whichever part it was in.

    Why shards (``bench/bench_stack.py``, 2-core AVX-512 CPU, article networks, 300 epochs): a
    stack's per-network cost grows with its size (its Adam state outgrows the caches: 16-28
    members cost about 0.05 s per network on two cores, 100 members 0.07 s, 240 members about
    twice that), and XLA does not always spread one large stack over both cores; shards in two
    threads keep both busy (100 networks as four shards of 25: 5.5 s per run instead of 7.2 s;
    on two shards of 20 taking parts in turn: 6.1 s). Each shard compiles its own steps (about
    3 s of CPU), so reuse a few small shards for many parts rather than building many.

    The same interface as :class:`StackedMLP` for what :func:`helpers.moons_experiment.run_design`
    uses (``members``, :meth:`run`, :meth:`measure`, :meth:`use_weights`, :meth:`hidden_kernels`),
    with every array over members in the caller's order, whichever shard trained a member
    (:meth:`run` deals the members to the parts grouped by what their training needs). Each
    member's training depends only on its own settings and data (module docstring), so shards
    give the same networks as one stack, up to float32 rounding (XLA may order a sum
    differently for another ``K``; ``tests/test_keras_stack.py``).
    """

    def __init__(self, stacks, workers: int = 2, members: int | None = None):
        if isinstance(stacks, StackedMLP) or not isinstance(stacks, (list, tuple)) or not stacks \
                or not all(isinstance(stack, StackedMLP) for stack in stacks):
            raise ValueError(f"stacks must be a non-empty list of StackedMLP, got {stacks!r}")
        if len({id(stack) for stack in stacks}) != len(stacks):
            raise ValueError("stacks must be distinct StackedMLP (a shard cannot train two parts at once)")
        self.stacks = list(stacks)
        self.workers = check_int(workers, "workers", min_value=1, max_value=64)
        capacity = sum(stack.members for stack in self.stacks)
        self.members = capacity if members is None else check_int(members, "members", min_value=1,
                                                                   max_value=100_000)
        # parts: (shard, first, stop) over the members in run order; each goes to the shard that
        # would finish it first, so equal shards take turns and each shard's parts run in turn
        load, self.plan, start = [0] * len(self.stacks), [], 0
        while start < self.members:
            i = min(range(len(self.stacks)), key=lambda j: (load[j] + self.stacks[j].members, j))
            stop = min(start + self.stacks[i].members, self.members)
            self.plan.append((i, start, stop))
            load[i] += self.stacks[i].members
            start = stop
        self._order = np.arange(self.members)  # member k trains in position _order.argsort()[k] (see run)
        self._config = None  # the last run's config, in run order
        self._kept = []  # per part: {"final": weights, "best": ..., "stopped": ...} (real members only)
        self._which = "final"

    # ----------------------------------------------------------------------- parts

    def _rows(self, p: int) -> np.ndarray:
        """Part ``p``'s members in run order, the last one repeated up to its shard's size."""
        i, first, stop = self.plan[p]
        return np.minimum(np.arange(first, first + self.stacks[i].members), stop - 1)

    def _member_value(self, value, ndim_per_member: int):
        """``value`` in run order when it is per member (``ndim_per_member`` dimensions), else ``None``."""
        if value is None or np.ndim(value) != ndim_per_member:
            return None
        value = np.asarray(value)
        if len(value) != self.members:
            raise ValueError(f"per-member arrays must have {self.members} members, got shape {value.shape}")
        return value[self._order]

    def _part_value(self, value, ordered, p: int):
        """What part ``p``'s shard gets of ``value``: its members' rows (padded), or the shared value."""
        return value if ordered is None else ordered[self._rows(p)]

    def _each_part(self, call) -> list:
        """``call(p, stack)`` for every part, each shard's parts in turn, the shards in threads;
        the results in part order."""
        def shard(i):
            return [(p, call(p, self.stacks[i])) for p, plan in enumerate(self.plan) if plan[0] == i]

        used = sorted({i for i, _, _ in self.plan})
        if self.workers == 1 or len(used) == 1:
            results = [shard(i) for i in used]
        else:
            with ThreadPoolExecutor(min(self.workers, len(used))) as pool:
                results = list(pool.map(shard, used))
        return [result for _, result in sorted((item for r in results for item in r), key=lambda item: item[0])]

    def _joined(self, parts, axis: int = 0) -> np.ndarray:
        """The parts' per-member arrays (real members only) as one, in the members' order."""
        return np.take(np.concatenate(parts, axis=axis), np.argsort(self._order), axis=axis)

    def _real(self, p: int, value, axis: int = 0):
        """Part ``p``'s real members of a per-member array of its (padded) shard."""
        _, first, stop = self.plan[p]
        return np.take(value, np.arange(stop - first), axis=axis)

    # ----------------------------------------------------------------------- public API

    def run(self, config: StackConfig, X, y, *, snapshots=None, X_val=None, y_val=None, progress=None,
            **kwargs) -> dict:
        """:meth:`StackedMLP.run` of every part; returns the same dict, over all members.
        ``progress``: called as ``progress(parts_done, parts)`` after each part (from the shards'
        threads; a progress bar, lesson 05).

        The members are dealt to the parts grouped by what their training needs: first those
        without dropout, input noise or max-norm, so a part with none of those members skips
        that work (a stack draws dropout masks for all its members when one of them needs them)."""
        if not isinstance(config, StackConfig) or len(config) != self.members:
            raise ValueError(f"config must be a StackConfig of {self.members} members (see stack_config)")
        order = np.lexsort((config.max_norm > 0, config.noise > 0, config.dropout > 0))  # stable
        position = np.argsort(order)
        snap = None
        if snapshots is not None:
            snap = check_array(snapshots, "snapshots", ndim=1)
            if snap.size == 0 or np.any(snap != np.round(snap)) or snap.min() < 0 or snap.max() >= self.members:
                raise ValueError(f"snapshots must hold member indices in [0, {self.members})")
            snap = position[snap.astype(int)]  # in run order
        self._order, self._kept = order, []  # a failed run leaves nothing to measure
        data = [(value, self._member_value(value, nd)) for value, nd in ((X, 3), (y, 2), (X_val, 3), (y_val, 2))]
        self._config = config.take(order)

        def train(p, stack):
            _, first, stop = self.plan[p]
            mine = None if snap is None else snap[(snap >= first) & (snap < stop)] - first
            X_p, y_p, X_val_p, y_val_p = (self._part_value(v, o, p) for v, o in data)
            try:
                out = stack.run(self._config.take(self._rows(p)), X_p, y_p, X_val=X_val_p, y_val=y_val_p,
                                snapshots=mine if mine is not None and mine.size else None, **kwargs)
            except NonFiniteTraining as exc:  # name the member as the caller numbers them
                k = int(self._order[self._rows(p)[exc.member]])
                raise NonFiniteTraining(k, str(exc).replace(f"member {exc.member} ", f"member {k} ", 1)) from None
            kept = {"final": [self._real(p, w.numpy()) for w in stack._weights()]}
            if "stopped" in out:
                for which in ("best", "stopped"):
                    stack.use_weights(which)
                    kept[which] = [self._real(p, w.numpy()) for w in stack._weights()]
                stack.use_weights("final")
            if progress is not None:
                finished.append(p)
                progress(len(finished), len(self.plan))
            return out, kept

        finished = []  # parts done, appended from the shards' threads

        results = self._each_part(train)
        outs = [out for out, _ in results]
        self._kept = [kept for _, kept in results]
        self._which = "final"
        out = {key: outs[0][key] for key in ("steps", "epochs", "curve_epochs") if key in outs[0]}
        out["member_loss"] = self._joined([self._real(p, o["member_loss"]) for p, o in enumerate(outs)])
        out["loss"] = float(out["member_loss"].sum())  # Keras's loss is a sum over members
        for key, axis in (("curve_train", 1), ("curve_val", 1), ("best_epoch", 0), ("stop_epoch", 0), ("stopped", 0)):
            if key in outs[0]:
                out[key] = None if outs[0][key] is None else self._joined(
                    [self._real(p, o[key], axis) for p, o in enumerate(outs)], axis=axis)
        if snap is not None:  # every part's snapshots, back in the order asked for
            rows = {}
            for p, o in enumerate(outs):
                _, first, stop = self.plan[p]
                for j, member in enumerate(snap[(snap >= first) & (snap < stop)]):
                    rows[int(member)] = [array[:, j] for array in o["snapshots"]]
            n_weights = len(rows[int(snap[0])])
            out["snapshots"] = [np.stack([rows[int(m)][w] for m in snap], axis=1) for w in range(n_weights)]
        return out

    def use_weights(self, which: str = "final") -> None:
        """As :meth:`StackedMLP.use_weights`, for every member of the last run."""
        which = check_choice(which, "which", WEIGHTS)
        if not self._kept:
            raise ValueError("which: run the stack first (use_weights switches a finished run's weights)")
        if which not in self._kept[0]:
            raise ValueError(f"which={which!r} needs a run with patience (early stopping)")
        self._which = which

    def measure(self, X, y, *, grid=None, tol: float = 1e-3) -> dict:
        """:meth:`StackedMLP.measure` of every part (its weights loaded into its shard), arrays over all members."""
        if not self._kept:
            raise ValueError("X: run the stack first (measure reads a finished run's networks)")
        data = [(value, self._member_value(value, nd)) for value, nd in ((X, 3), (y, 2))]

        def measure(p, stack):
            for var, value in zip(stack._weights(), self._kept[p][self._which], strict=True):
                var.assign(value[self._rows(p) - self.plan[p][1]])
            stack.config = self._config.take(self._rows(p))
            got = stack.measure(*(self._part_value(v, o, p) for v, o in data), grid=grid, tol=tol)
            return {key: value if key == "n_weights" else self._real(p, value) for key, value in got.items()}

        outs = self._each_part(measure)
        return {key: outs[0][key] if key == "n_weights" else self._joined([o[key] for o in outs]) for key in outs[0]}

    def hidden_kernels(self) -> list[np.ndarray]:
        """The two stacked hidden kernels over all members, as :meth:`StackedMLP.hidden_kernels`."""
        if not self._kept:
            raise ValueError("run the stack first (hidden_kernels reads a finished run's networks)")
        return [self._joined([kept[self._which][index] for kept in self._kept]) for index in (0, 2)]
