"""Read CSV and XLSX knowledge tables into the same shape as YAML sections.

A table's section comes from its file name (``services.csv``) or, in a
workbook, from each sheet's name. Columns are the YAML field names; list
cells are ``;``-separated (``tools:soft; methodology``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import Diagnostic, InputError, Location

SECTIONS = ("clients", "services", "goals", "outcomes")
LIST_FIELDS = {"tags", "clients", "outcomes", "depends_on", "services", "reviews_months", "mitigated_by"}

Locator = Callable[[tuple[Any, ...]], Location]


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


def _rows_to_section(
    header: list[str], rows: list[list[str]], numbers: list[int]
) -> tuple[list[dict[str, Any]], list[int]]:
    """Records of the non-blank rows, and the sheet/file row number of each record."""
    records, kept = [], []
    for row, number in zip(rows, numbers):
        record = {}
        for column, cell in zip(header, row):
            if column and cell is not None and str(cell).strip() != "":
                record[column] = _cell_value(column, str(cell))
        if record:  # a blank row (or one with values only under blank headers) is not an item
            records.append(record)
            kept.append(number)
    return records, kept


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
    data, rows = _rows_to_section(header, table[1:], starts[1:])

    def locate(loc: tuple[Any, ...]) -> Location:
        if len(loc) >= 2 and loc[0] == section and isinstance(loc[1], int) and 0 <= loc[1] < len(rows):
            return Location(display, rows[loc[1]])
        return Location(display, 1)

    return {section: data}, locate


def read_xlsx(path: Path, display: str) -> tuple[dict[str, Any], Locator]:
    """An XLSX workbook, one section per sheet; errors point at ``file!Sheet!C7``."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputError([Diagnostic(Location(display), f"cannot read workbook: {exc}")]) from None
    data: dict[str, Any] = {}
    headers: dict[str, tuple[str, list[str]]] = {}
    numbers: dict[str, list[int]] = {}
    errors: list[Diagnostic] = []
    for sheet in workbook.worksheets:
        try:
            section = _section_for(sheet.title, Location(display, cell=f"{sheet.title}!A1"))
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        rows = [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        if not rows:
            continue
        header = [column.strip() for column in rows[0]]
        data[section], numbers[section] = _rows_to_section(header, rows[1:], list(range(2, len(rows) + 1)))
        headers[section] = (sheet.title, header)
    workbook.close()
    if errors:
        raise InputError(errors)

    def locate(loc: tuple[Any, ...]) -> Location:
        if len(loc) >= 2 and loc[0] in headers and isinstance(loc[1], int) and 0 <= loc[1] < len(numbers[loc[0]]):
            title, header = headers[loc[0]]
            column = header.index(loc[2]) if len(loc) >= 3 and loc[2] in header else 0
            return Location(display, cell=f"{title}!{_column_letter(column)}{numbers[loc[0]][loc[1]]}")
        return Location(display)

    return data, locate
