"""Read CSV and XLSX knowledge tables into the same shape as YAML sections.

A table's section comes from its file name (``services.csv``) or, in a
workbook, from each sheet's name. Columns are the YAML field names; a dotted
column (``target_profile.short``) fills a nested field, and the organisation
table's ``horizons.*`` columns fill the horizons section. List cells are
``;``-separated (``tools:soft; methodology``), or a YAML flow list (``[...]``)
for items with more fields. A row whose first cell starts with ``#`` is a note
(the workbooks pmorules writes have one under the header) and is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import Diagnostic, InputError, Location
from .yamlio import parse_yaml

SECTIONS = ("organisation", "clients", "services", "goals", "outcomes")
SINGLE = "organisation"  # the section that is one item (one row), not a list
LIST_FIELDS = {"tags", "clients", "outcomes", "depends_on", "services", "reviews_months", "mitigated_by"}
FLOW_FIELDS = LIST_FIELDS | {"harms", "assessments"}  # columns whose cell may be a YAML flow list
NOTE = "#"

Locator = Callable[[tuple[Any, ...]], Location]
CellAt = Callable[[int, int], Location]  # (row number, column index) -> where that cell is


def _cell_value(column: str, text: str) -> Any:
    text = text.strip()
    if column in LIST_FIELDS:
        return [item.strip() for item in text.split(";") if item.strip()]
    if column == "harms":
        return [_harm(item) for item in text.split(";") if item.strip()]
    return text


def _harm(item: str) -> dict[str, str]:
    """``culture:high`` → a harm of ``culture`` with severity high."""
    target, _, severity = item.strip().partition(":")
    harm = {"target": target.strip()}
    if severity.strip():
        harm["severity"] = severity.strip()
    return harm


def _flow(text: str, where: Location) -> Any:
    """A YAML flow list written in a cell; a syntax error points at the cell."""
    try:
        return parse_yaml(text, str(where))
    except InputError as exc:
        problem = exc.diagnostics[0].message
        raise InputError([Diagnostic(where, f"cannot read the list in this cell: {problem}")]) from None


def _record(header: list[str], row: list[Any], number: int, cell_at: CellAt, errors: list[Diagnostic]) -> dict:
    """One row as an item: ``a.b`` columns nest; empty cells (and cells under blank headers) are not given."""
    record: dict[str, Any] = {}
    for index, (column, cell) in enumerate(zip(header, row)):
        if not column or cell is None or str(cell).strip() == "":
            continue
        text = str(cell).strip()
        try:
            value = _flow(text, cell_at(number, index)) if column in FLOW_FIELDS and text.startswith("[") \
                else _cell_value(column, text)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        *parents, leaf = column.split(".")
        target = record
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return record


def _rows_to_section(
    header: list[str], rows: list[list[Any]], numbers: list[int], cell_at: CellAt
) -> tuple[list[dict[str, Any]], list[int], list[Diagnostic]]:
    """Records of the non-blank rows that are not notes, the row number of each, and the cells that cannot be read."""
    records, kept, errors = [], [], []
    for row, number in zip(rows, numbers):
        if row and str(row[0] or "").lstrip().startswith(NOTE):
            continue
        record = _record(header, row, number, cell_at, errors)
        if record:  # a blank row (or one with values only under blank headers) is not an item
            records.append(record)
            kept.append(number)
    return records, kept, errors


def _sections(
    section: str, header: list[str], rows: list[list[Any]], numbers: list[int], cell_at: CellAt
) -> tuple[dict[str, Any], list[int], list[Diagnostic]]:
    """The sections one table holds: a list of items, or the organisation (one row) and its horizons."""
    records, kept, errors = _rows_to_section(header, rows, numbers, cell_at)
    if section != SINGLE:
        return {section: records}, kept, errors
    errors += [Diagnostic(cell_at(number, 0), "the organisation table holds one row: the PMO", "keep one row")
               for number in kept[1:]]
    if not records:
        return {}, kept, errors
    organisation = records[0]
    horizons = organisation.pop("horizons", None)
    given = ({SINGLE: organisation} if organisation else {}) | ({"horizons": horizons} if horizons is not None else {})
    return given, kept[:1], errors


def _section_for(name: str, where: Location) -> str:
    section = name.lower()
    if section not in SECTIONS:
        raise InputError(
            [Diagnostic(where, f"cannot tell which section {name!r} holds", f"name it one of {', '.join(SECTIONS)}")]
        )
    return section


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _row_and_column(loc: tuple[Any, ...], section: str, rows: list[int], header: list[str]) -> tuple[int, int] | None:
    """The row number and column index a pydantic error location points at, if the table holds it."""
    if not loc or loc[0] not in (section, "horizons") or (loc[0] == "horizons" and section != SINGLE):
        return None
    if section == SINGLE:
        index, path = 0, [str(p) for p in loc[1:] if isinstance(p, str)]
        path = ["horizons", *path] if loc[0] == "horizons" else path
    elif len(loc) >= 2 and isinstance(loc[1], int):
        index, path = loc[1], [p for p in loc[2:3] if isinstance(p, str)]
    else:
        return None
    if not 0 <= index < len(rows):
        return None
    for end in range(len(path), 0, -1):  # the longest dotted prefix that is a column: target_profile.short
        if ".".join(path[:end]) in header:
            return rows[index], header.index(".".join(path[:end]))
    nested = [i for i, column in enumerate(header) if path and column.startswith(".".join(path) + ".")]
    return rows[index], nested[0] if nested else 0  # a whole nested mapping (horizons): its first column


def read_csv(path: Path, display: str) -> tuple[dict[str, Any], Locator]:
    """A CSV table; errors point at ``file:row``."""
    section = _section_for(path.stem, Location(display))
    table: list[list[str]] = []
    starts: list[int] = []  # the line each record starts on (a quoted cell may span lines)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            previous_end = 0
            for row in reader:
                table.append(row)
                starts.append(previous_end + 1)
                previous_end = reader.line_num
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        where = Location(display, reader.line_num + 1) if isinstance(exc, csv.Error) else Location(display)
        raise InputError([Diagnostic(where, f"cannot read CSV: {exc}")]) from None
    if not table:
        return {}, lambda _path: Location(display)
    header = [column.strip() for column in table[0]]
    data, rows, errors = _sections(section, header, table[1:], starts[1:], lambda number, _: Location(display, number))
    if errors:
        raise InputError(errors)

    def locate(loc: tuple[Any, ...]) -> Location:
        found = _row_and_column(loc, section, rows, header)
        return Location(display, found[0] if found else 1)

    return data, locate


def _text(value: Any) -> str:
    """A workbook cell as the text a CSV cell would hold: a date as YYYY-MM-DD, a boolean as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def read_xlsx(path: Path, display: str) -> tuple[dict[str, Any], Locator]:
    """An XLSX workbook, one section per sheet; errors point at ``file!Sheet!C7``."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputError([Diagnostic(Location(display), f"cannot read workbook: {exc}")]) from None
    data: dict[str, Any] = {}
    tables: dict[str, tuple[str, list[str], list[int]]] = {}  # section -> (sheet title, header, row numbers)
    errors: list[Diagnostic] = []
    for sheet in workbook.worksheets:
        try:
            section = _section_for(sheet.title, Location(display, cell=f"{sheet.title}!A1"))
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        rows = [[_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        if not rows:
            continue
        header = [column.strip() for column in rows[0]]

        def cell_at(number: int, column: int, title: str = sheet.title) -> Location:
            return Location(display, cell=f"{title}!{_column_letter(column)}{number}")

        sections, numbers, problems = _sections(section, header, rows[1:], list(range(2, len(rows) + 1)), cell_at)
        data |= sections
        errors += problems
        tables[section] = (sheet.title, header, numbers)
    workbook.close()
    if errors:
        raise InputError(errors)

    def locate(loc: tuple[Any, ...]) -> Location:
        for section, (title, header, numbers) in tables.items():
            found = _row_and_column(loc, section, numbers, header)
            if found:
                return Location(display, cell=f"{title}!{_column_letter(found[1])}{found[0]}")
        return Location(display)

    return data, locate
