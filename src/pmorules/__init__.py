"""pmorules: find where a PMO's mix of services is out of balance, and why."""

from __future__ import annotations

import sys

__version__ = "0.1.0"

if sys.version_info >= (3, 13):  # pragma: no cover - guarded by requires-python too
    raise ImportError("pmorules needs Python 3.11 or 3.12: durable_rules 2.0.28 does not import on 3.13 or later")
