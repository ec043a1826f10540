"""The course as a static website (issue 24; ``python3 course.py site``, :mod:`coursekit.site.build`).

Read in this order: :mod:`~coursekit.site.pages` (the pages, from the lesson registry),
:mod:`~coursekit.site.execute` (each notebook run once in a fresh kernel), the kernel side of that
run — :mod:`~coursekit.site.capture` (figures and widgets recorded), :mod:`~coursekit.site.sweep`
(a widget's states drawn through its controls), :mod:`~coursekit.site.render` (a picture at twice its
resolution, lossless WebP) —, :mod:`~coursekit.site.staging` (the Sphinx project: links, folded
cells, static widgets, configuration), :mod:`~coursekit.site.build` (Sphinx, budgets, the swap into
``site/``), then the test side: :mod:`~coursekit.site.plugin` (the pictures drawn during nbval's run)
and :mod:`~coursekit.site.browser` (the site checked in Chromium, offline). The static widget's
script and style are in ``coursekit/site/assets/``.
"""
