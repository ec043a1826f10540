"""The controls of a course widget (an object with a matplotlib ``fig`` and an ipywidgets ``ui``):
which sliders and toggles its ``ui`` holds, the values each can take, the text it shows. Shared by
the layout check's sweep (:mod:`coursekit.layout.recorder`) and the website's capture
(:mod:`coursekit.site.capture`), which set every widget through these same controls."""

from __future__ import annotations

import math

__all__ = ["control_name", "control_problems", "controls", "format_value", "is_widget_owner", "slider_ends",
           "toggle_values", "value_text"]


def is_widget_owner(obj) -> bool:
    """A course widget: an object with a ``fig`` (Figure) and a ``ui`` (ipywidgets widget)."""
    from matplotlib.figure import Figure

    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - ipywidgets is pinned
        return False
    if isinstance(obj, type):
        return False
    try:
        return isinstance(getattr(obj, "fig", None), Figure) and isinstance(getattr(obj, "ui", None),
                                                                             ipywidgets.Widget)
    except Exception:  # an object whose attributes raise is not a widget
        return False


def controls(widget) -> list:
    """The sliders and toggles in a widget tree, in display order."""
    found = []
    if slider_ends(widget) is not None or toggle_values(widget) is not None:
        found.append(widget)
    for child in getattr(widget, "children", ()) or ():
        found += controls(child)
    return found


def slider_ends(widget):
    """The two ends of a slider widget, or None for anything else."""
    import ipywidgets as w

    if isinstance(widget, w.FloatLogSlider):
        return widget.base ** widget.min, widget.base ** widget.max
    if isinstance(widget, (w.IntSlider, w.FloatSlider)):
        return widget.min, widget.max
    if isinstance(widget, w.SelectionSlider):
        values = [value for _label, value in widget._options_full]
        return values[0], values[-1]
    return None


def toggle_values(widget):
    import ipywidgets as w

    if isinstance(widget, (w.ToggleButtons, w.Dropdown, w.RadioButtons)):
        return [value for _label, value in widget._options_full]
    if isinstance(widget, (w.Checkbox, w.ToggleButton)):
        return [False, True]
    return None


def control_name(widget) -> str:
    return widget.description or type(widget).__name__


def format_value(value) -> str:
    if isinstance(value, float) and value != 0 and math.isfinite(value) and (abs(value) < 1e-2 or abs(value) >= 1e4):
        return f"{value:.1e}"
    return f"{value:g}" if isinstance(value, float) else repr(value) if isinstance(value, str) else str(value)


def value_text(widget) -> str:
    """The value a control shows: the option's label for a selection, else the value."""
    label = getattr(widget, "label", None)
    return repr(label) if isinstance(label, str) and slider_ends(widget) is None else (
        label if isinstance(label, str) else format_value(widget.value))


def control_problems(controls) -> list[str]:
    """A disabled slider that still shows a value (the value means nothing then)."""
    return [f"the slider {control_name(c)!r} is disabled but still shows the value {format_value(c.value)}"
            for c in controls if slider_ends(c) is not None and c.disabled and c.readout]
