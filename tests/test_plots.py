"""helpers.plots: the course's plot defaults and how an ipympl figure is shown (issue 18)."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from helpers.plots import FIGURE_HOOK, setup, widget_canvas


def _ipympl_figure():
    """A figure on an ipympl canvas with no browser view (pyplot's backend left as it was)."""
    backend = plt.get_backend()
    try:
        from ipympl.backend_nbagg import Canvas, FigureManager  # importing it selects ipympl
    finally:
        plt.switch_backend(backend)
    fig = Figure(figsize=(3, 2), dpi=50)
    canvas = Canvas(fig)
    FigureManager(canvas, 1)
    return fig, canvas


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ipympl's Toolbar, not ours
def test_widget_canvas_shows_the_picture_alone():
    """No "Figure N" header, no toolbar floating over the axis labels, no resize handle."""
    fig, canvas = _ipympl_figure()
    assert canvas.header_visible and canvas.toolbar_visible == "fade-in-fade-out"  # ipympl's defaults
    assert widget_canvas(fig) is canvas
    assert (canvas.header_visible, canvas.toolbar_visible, canvas.resizable) == (False, False, False)
    assert canvas.footer_visible  # the mouse's coordinates, under the figure


def test_widget_canvas_is_none_without_ipympl_and_refuses_a_non_figure():
    fig, _ = plt.subplots()
    assert widget_canvas(fig) is None
    plt.close(fig)
    with pytest.raises(ValueError, match="fig"):
        widget_canvas("not a figure")


def test_setup_styles_every_pyplot_figure_once():
    """setup() adds the hook that styles every pyplot figure (static ones too), once however often
    it is called; the hook leaves a non-ipympl figure alone."""
    with mpl.rc_context():
        assert setup(7) == 7 and setup() == 42
        assert mpl.rcParams["figure.hooks"].count(FIGURE_HOOK) == 1
        fig = plt.figure()  # Agg here: the hook runs and changes nothing
        assert mpl.rcParams["figure.dpi"] == 90 and fig.dpi == 90
        plt.close(fig)
    assert FIGURE_HOOK not in mpl.rcParams["figure.hooks"]
