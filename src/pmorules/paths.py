"""Where the bundled data lives: in the wheel, or at the root of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent.parent


def _data_dir(wheel_name: str, checkout_path: str) -> Path:
    bundled = _PACKAGE / "_data" / wheel_name
    return bundled if bundled.is_dir() else _CHECKOUT / checkout_path


def default_rules_dir() -> Path:
    return _data_dir("rules", "rules")


def catalogue_dir() -> Path:
    return _data_dir("catalogue", "knowledge/catalogue")


def example_dir() -> Path:
    return _data_dir("example", "knowledge/example")


def default_templates_dir() -> Path:
    return _data_dir("templates", "templates")


def docs_dir() -> Path:
    return _data_dir("docs", "docs")
