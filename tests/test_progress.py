"""helpers.progress: the bar of the long cells says what it does and how long is left, then closes."""

import pytest

from helpers.progress import Progress, _seconds, in_notebook


def test_outside_a_notebook_it_shows_nothing_but_keeps_its_text():
    assert not in_notebook()
    with Progress(10, "training 200 networks") as bar:
        assert bar.widget is None and bar.text == "training 200 networks: starting"
        bar.update(4, "part 4 of 10")
        assert bar.text.startswith("training 200 networks: part 4 of 10, 40%")
    assert bar.closed


def test_the_widget_shows_the_fraction_and_the_time_left_then_closes():
    bar = Progress(100.0, "measuring", show=True)
    bar._start -= 10  # as if 10 s had passed
    bar.update(25, "chunk 1")
    assert bar._bar.value == pytest.approx(0.25) and "25%" in bar._label.value
    assert "about 30 s left" in bar.text  # 10 s for a quarter: about 30 s for the rest
    bar.update(250)  # clipped to the total
    assert bar._bar.value == 1.0 and "left" not in bar.text
    bar.close()
    assert bar.closed and bar.widget.comm is None  # a closed widget: no output left behind


def test_seconds_are_rounded_for_a_reader():
    assert [_seconds(v) for v in (0.2, 7.4, 42, 200)] == ["1 s", "7 s", "about 40 s", "about 3 min"]


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="total"):
        Progress(0, "x")
    with pytest.raises(ValueError, match="description"):
        Progress(5, " ")
    with pytest.raises(ValueError, match="done"):
        Progress(5, "x").update(float("nan"))
