"""The figure layout check (issue 18): every figure and widget state of the lessons looks right.

Read in this order: :mod:`~coursekit.layout.checks` (what counts as a defect, measured with
matplotlib's own geometry), :mod:`~coursekit.layout.controls` (a widget's sliders and toggles),
:mod:`~coursekit.layout.recorder` (inside a notebook's kernel: each figure checked when shown, each
widget swept through its states), :mod:`~coursekit.layout.plugin` (the pytest plugin that installs
the recorder in nbval's kernels and adds ``<notebook>::figure layout``). A widget of ``helpers``
declares a series that may leave its axes with :func:`helpers.plots.allow_outside`.
"""
