"""The written recommendations report (html, md, json, pdf) of one analysis.

``context`` turns an Analysis into plain data, ``charts`` draws it as inline SVG (``charts_ahead``
in a second process while the analysis and the optimiser work, for ``report``),
``render`` runs the (organisation-overridable) Jinja templates in the sandbox.

``render_report`` is imported on first use: ``report`` forks the chart drawer from ``charts_ahead`` before it
imports the analysis, so the drawer's matplotlib import overlaps the parent's, and importing this package
must not import the whole pipeline with it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_report"]


def __getattr__(name: str) -> Any:
    if name == "render_report":
        from .render import render_report

        return render_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
