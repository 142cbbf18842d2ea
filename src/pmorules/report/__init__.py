"""The written recommendations report (html, md, json, pdf) of one analysis.

``context`` turns an Analysis into plain data, ``charts`` draws it as inline SVG (``charts_ahead``
in a second process while the analysis and the optimiser work, for ``report``),
``render`` runs the (organisation-overridable) Jinja templates in the sandbox.
"""

from .render import render_report

__all__ = ["render_report"]
