"""Checks of assignment 06, *Regularize without a penalty*: Tasks 06.1 (inverted dropout), 06.2 (the
early-stopping epoch) and 06.3 (the ridge that input noise gives)."""

from __future__ import annotations

import numpy as np

from helpers.checks.core import _call, _Cases, task
from helpers.checks.draws import drawn


def _dropout_cases():
    """(h, rate, keep, training, words): three fixed cases, then one drawn for this run."""
    rng = np.random.default_rng(6)
    h = rng.exponential(1.0, size=(4, 5))
    for rate, training in ((0.2, True), (0.6, True), (0.25, False)):
        keep = rng.random(h.shape) >= rate
        yield h, rate, keep, training, ""
    rng, words = drawn()
    h = rng.exponential(1.0, size=(4, 5))  # the fixed cases' shape, which names a wrong one
    rate = round(float(rng.uniform(0.1, 0.8)), 2)
    yield h, rate, rng.random(h.shape) >= rate, True, f", {words}"


@task("06.1", "inverted dropout")
def _check_06_1(fn):
    answers = _Cases(shape_hint="Return the activations after dropout: the same shape as h.")
    for h, rate, keep, training, more in _dropout_cases():
        dropped = np.where(keep, h, 0.0)
        expected = dropped / (1 - rate) if training else h
        got = _call(fn, h.copy(), rate, keep.copy(), training)
        answers.add(got, expected, case=f"for rate={rate}, training={training}{more}", inputs={"h": h}, variants=[
            (dropped if training else h, "it drops units but does not divide the survivors by 1 − rate.",
             "Inverted dropout scales the kept activations by 1 / (1 − rate), so their mean is unchanged."),
            (dropped * (1 - rate) if training else h, "it multiplies the survivors by 1 − rate instead of dividing.",
             "Divide the kept activations by 1 − rate: the mean must stay the same."),
            (dropped / (1 - rate), "it drops units at inference too (training=False).",
             "At inference return h unchanged: no units dropped, no scaling."),
            (expected if training else h / (1 - rate), "it scales at inference too (training=False).",
             "Inverted dropout scales in training only; at inference return h unchanged."),
            (np.where(keep, 0.0, h) / (1 - rate) if training else h,
             "it zeroes the units that keep=True marks as kept, and keeps the others.",
             "keep is True where a unit survives: keep those, zero the rest."),
        ])
    answers.verdict()
    return ("your inverted dropout drops, scales by 1/(1 − rate) in training, and is the identity at inference "
            "(on a case drawn at random too).")


_HISTORIES = (  # (validation losses, patience): the restored epoch differs from every listed mistake
    ([0.9, 0.7, 0.6, 0.65, 0.66, 0.62, 0.61, 0.5], 3),  # stops after epoch 6, before the lower 0.5
    ([0.5, 0.4, 0.4, 0.45, 0.3], 2),  # an equal loss is no improvement: stops after epoch 4
    ([1.0, 0.8, 0.85, 0.9, 0.7, 0.75], 2),  # stops after epoch 4, one epoch before 0.7
    ([0.8, 0.6, 0.5, 0.45, 0.44], 2),  # never stops: the last epoch is the best
    ([1.0, 0.9, 0.95, 0.8], 2),  # one epoch without improvement is not yet a stop
    ([0.7, 0.5, 0.55, 0.6], 3),  # never stops, yet the best epoch (2) is not the last: restored all the same
)


def _drawn_history():
    """(losses, patience, words): a history drawn for this run (a noisy decline, ties possible)."""
    rng, words = drawn()
    epochs = int(rng.integers(5, 16))
    losses = np.round(np.exp(-np.linspace(0.0, rng.uniform(0.5, 2.0), epochs)) + rng.normal(0, 0.08, epochs), 2)
    return [float(v) for v in np.round(np.abs(losses) + 0.01, 2)], int(rng.integers(1, 5)), f", {words}"


def _drawn_full_run():
    """(losses, patience, words): a history drawn for this run that never stops, whose best epoch is
    followed by 1 to patience − 1 epochs without improvement (so it is not the last epoch)."""
    rng, words = drawn()
    patience = int(rng.integers(2, 6))
    losses, best, wait = [], round(float(rng.uniform(0.8, 1.2)), 2), 0
    for _ in range(int(rng.integers(3, 10))):  # a noisy decline, never patience epochs in a row without a new best
        if wait < patience - 1 and rng.random() < 0.4:
            losses.append(round(best + float(rng.choice([0.0, rng.uniform(0.01, 0.1)])), 2))  # a tie is no improvement
            wait += 1
        else:
            best, wait = round(best - float(rng.uniform(0.01, 0.08)), 2), 0
            losses.append(best)
    best = round(best - float(rng.uniform(0.01, 0.08)), 2)  # the best epoch, then fewer than patience others
    losses.append(best)
    losses += [round(best + float(rng.uniform(0.01, 0.1)), 2) for _ in range(int(rng.integers(1, patience)))]
    return losses, patience, f", {words}"


def _restored_epoch(losses, patience, *, ties_improve=False, extra_wait=0, zero_based=False, only_if_stopped=False):
    """The epoch (from 1) whose weights Keras 3's EarlyStopping(patience, restore_best_weights=True)
    ends with. Keras 3 restores the best weights in ``on_train_end``, whether training stopped early
    or ran every epoch (keras/src/callbacks/early_stopping.py; verified with Keras 3.15.1's ``fit`` on
    val_loss 0.8, 0.5, 0.6, 0.55 with patience 3: four epochs, no stop, the weights of epoch 2).
    ``only_if_stopped`` is tf.keras 2's rule, which restored only in the epoch that stopped training
    and otherwise kept the last epoch's weights; the other flags are the task's named mistakes."""
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        wait += 1
        if loss < best or (ties_improve and loss == best):
            best, best_epoch, wait = loss, epoch, 0
        elif wait >= patience + extra_wait:
            break
    else:
        if only_if_stopped:
            best_epoch = len(losses)
    return best_epoch - 1 if zero_based else best_epoch


@task("06.2", "the early-stopping epoch")
def _check_06_2(fn):
    answers = _Cases(scalar=True, generic=False, shape_hint="Return one epoch number (an int).")
    for losses, patience, more in [(*history, "") for history in _HISTORIES] + [_drawn_history(), _drawn_full_run()]:
        got = _call(fn, list(losses), patience)
        answers.add(got, _restored_epoch(losses, patience), case=f"for val_losses={losses}, patience={patience}{more}",
                    variants=[
            (_restored_epoch(losses, patience, zero_based=True), "it counts epochs from 0.",
             "Epochs are numbered from 1 (the first loss is epoch 1), as Keras prints them."),
            (int(np.argmin(losses)) + 1, "it takes the lowest loss of the whole history, past the stop.",
             "Training stops once `patience` epochs bring no improvement: the epochs after that never happen."),
            (_restored_epoch(losses, patience, ties_improve=True), "it counts an equal loss as an improvement.",
             "EarlyStopping needs a strictly lower loss (min_delta=0): an equal one adds to the wait."),
            (_restored_epoch(losses, patience, extra_wait=1), "it waits one epoch more than patience.",
             "Stop as soon as `patience` epochs in a row have not improved on the best."),
            (_restored_epoch(losses, patience, extra_wait=-1), "it stops one epoch early: after patience − 1 "
             "epochs without improvement.", "Stop once `patience` epochs in a row (not patience − 1) have not "
             "improved on the best."),
            (_restored_epoch(losses, patience, only_if_stopped=True), "it restores the best epoch only when "
             "training stopped early and keeps the last epoch otherwise (tf.keras 2's rule).",
             "Keras 3 restores the best weights at the end of training whether or not it stopped early: "
             "a run to the last epoch ends with the best epoch's weights too."),
        ])
    answers.verdict()
    return ("your early stopping restores the epoch Keras 3's EarlyStopping(patience, restore_best_weights=True) "
            "would, whether training stops early or runs to the end, on histories drawn at random too.")


def _noise_cases():
    """(X, y, sigma, words): three fixed cases, then one drawn for this run."""
    rng = np.random.default_rng(60)
    draw, words = drawn()
    for n, p, sigma, more in ((12, 3, 0.3, ""), (20, 4, 0.5, ""), (8, 2, 1.2, ""),
                              (int(draw.integers(6, 30)), int(draw.integers(2, 6)),
                               round(float(draw.uniform(0.1, 1.5)), 2), f", {words}")):
        if more:
            rng = draw
        X = rng.standard_normal((n, p)) + 0.5
        y = X @ rng.standard_normal(p) + 0.2 * rng.standard_normal(n) + 1.0
        yield X, y, sigma, more


def _ridge(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


@task("06.3", "the ridge that input noise gives")
def _check_06_3(fn):
    answers = _Cases(shape_hint="Return one weight per column of X.")
    for X, y, sigma, more in _noise_cases():
        n = len(y)
        Xc, yc = X - X.mean(axis=0), y - y.mean()
        got = _call(fn, X.copy(), y.copy(), sigma)
        answers.add(got, _ridge(X, y, n * sigma**2), case=f"for n={n}, sigma={sigma}{more}", inputs={"X": X},
                    variants=[
            (_ridge(X, y, sigma**2), "it uses λ = σ², without the factor n.",
             "For ‖y − Xw‖² + λ‖w‖² (a sum over n points) the noise adds nσ²‖w‖²: λ = nσ²."),
            (_ridge(X, y, (n - 1) * sigma**2), "it uses λ = (n − 1)σ² instead of nσ².",
             "Each of the n rows gets its own noise: E[EᵀE] = nσ²I, so λ = nσ²."),
            (_ridge(X, y, n * sigma), "it uses λ = nσ, not nσ² (σ is a standard deviation).",
             "Square σ: the noise's variance is σ²."),
            (_ridge(X, y, 0.0), "it returns least squares, with no penalty at all.",
             "Add λ = nσ² times the identity to XᵀX."),
            (_ridge(Xc, yc, n * sigma**2), "it centres the data (fits an intercept).",
             "No intercept in this task: solve (XᵀX + nσ²I) w = Xᵀy with X and y as given."),
        ])
    answers.verdict()
    return ("your weights are ridge with λ = nσ², what input noise of variance σ² gives in expectation (on data "
            "drawn at random too).")
