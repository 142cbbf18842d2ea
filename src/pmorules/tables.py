"""Read CSV and XLSX knowledge tables into the same shape as YAML sections.

A table's section comes from its file name (``services.csv``) or, in a
workbook, from each sheet's name. Columns are the YAML field names or the same
names in words, as the workbooks pmorules writes head them (``Months to value``
is ``months_to_value``, ``Horizons: short max months`` is
``horizons.short_max_months``, ``label``/``column_name``); a dotted
column (``target_profile.short``) fills a nested field, and the organisation
table's ``horizons.*`` columns fill the horizons section. List cells are
``;``-separated (``tools:soft; methodology``), or a YAML flow list (``[...]``)
for items with more fields. A row whose first cell starts with ``#`` is a note
and is skipped where that cannot be a value (``_is_note``): in the id column,
or right under the header of a table without ids (the workbooks pmorules
writes have one there). A workbook's text cells stay text (never numbers).
The reference sheets pmorules writes beside the sections (``REFERENCE_SHEETS``:
the catalogue's services and outcomes, protected) are not knowledge and are
not read.

Nothing in a table is dropped silently: a blank header row, a column named
twice, or a value in a column without a header (beyond the last one, too) is a
located error, and so are an Excel error value and two sheets whose names
differ only in case. A table is bounded (``MAX_ROWS`` rows, ``MAX_COLUMNS``
cells a row, counted as read, and for a workbook the size its archive expands
to), so a small file cannot make the loader run for minutes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import Diagnostic, InputError, Location
from .inputs import decode_text, read_input
from .numbers import number_problem
from .yamlio import parse_yaml

SECTIONS = ("organisation", "clients", "services", "goals", "outcomes", "assessments", "actions")
SINGLE = "organisation"  # the section that is one item (one row), not a list
LIST_FIELDS = {"tags", "clients", "outcomes", "depends_on", "services", "reviews", "reviews_months", "mitigated_by"}
FLOW_FIELDS = LIST_FIELDS | {"harms", "assessments"}  # columns whose cell may be a YAML flow list
NOTE = "#"
REFERENCE_SHEETS = ("Catalogue", "Catalogue outcomes")  # written for reading, never read back
WORDS = {"id": "Id", "capacity_fte": "Capacity (FTE)"}  # labels the field name in words would say badly
MAX_ROWS = 100_000
MAX_COLUMNS = 100
MAX_EXPANDED_BYTES = 256 * 1024 * 1024  # what a workbook's archive may expand to
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")



class Text(str):
    """A workbook cell the workbook stores as text: read as written, never as a number (``1e16`` is a name)."""


class ExcelError(str):
    """A workbook cell holding an Excel error value (``#N/A``, ``#REF!``): an error where it is, never a note."""


Locator = Callable[[tuple[Any, ...]], Location]
CellAt = Callable[[int, int], Location]  # (row number, column index) -> where that cell is
Table = tuple[dict[str, Any], Locator, list[Diagnostic]]
"""A table's sections, where its values are, and the problems of single cells (the rest is still read)."""


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


def label(column: str) -> str:
    """A column's header in words: ``horizons.short_max_months`` → ``Horizons: short max months``."""
    text = ": ".join(WORDS.get(part, part.replace("_", " ")) for part in column.split("."))
    return text[:1].upper() + text[1:]


def column_name(header: str) -> str:
    """The column a header names, as the field (``months_to_value``) or in words (``Months to value``)."""
    words = " ".join(header.split())
    parts = [next((f for f, w in WORDS.items() if w.lower() == part.lower()), part) for part in words.split(": ")]
    return ".".join(part.lower().replace(" ", "_") if " " in part or part[:1].isupper() else part for part in parts)


def _header(row: list[Any], cell_at: CellAt, has_data: bool) -> tuple[list[str], list[Diagnostic]]:
    """The column names of a table's first row; a blank header over data, or a name used twice, is an error."""
    header = [column_name(str(column or "").strip()) for column in row]
    errors = []
    if has_data and not any(header):
        errors.append(Diagnostic(cell_at(1, 0), "the header row is blank", "name the columns in the first row: id, name, ..."))
    seen: dict[str, int] = {}
    for index, column in enumerate(header):
        if column and column in seen:
            errors.append(Diagnostic(cell_at(1, index),
                                     f"column {column!r} is named twice (first in column {_column_letter(seen[column])})"))
        seen.setdefault(column, index)
    return header, errors


def _record(header: list[str], row: list[Any], number: int, cell_at: CellAt, errors: list[Diagnostic]) -> dict:
    """One row as an item: ``a.b`` columns nest; empty cells are not given; a value under no header is an error."""
    record: dict[str, Any] = {}
    for index, cell in enumerate(row):
        if cell is None or str(cell).strip() == "":
            continue
        column = header[index] if index < len(header) else ""
        if not column:
            errors.append(Diagnostic(cell_at(number, index), f"a value in column {_column_letter(index)}, which has no header",
                                     "name the column in the header row, or delete the value"))
            continue
        if isinstance(cell, ExcelError):
            errors.append(Diagnostic(cell_at(number, index), f"{column}: the cell holds the Excel error {cell}",
                                     "enter the value itself, or clear the cell"))
            continue
        text = str(cell).strip()
        if not isinstance(cell, Text) and _NUMBER.fullmatch(text) and (problem := number_problem(float(text), text)) is not None:
            errors.append(Diagnostic(cell_at(number, index), f"{column}: {problem}"))
            continue
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
    for position, (row, number) in enumerate(zip(rows, numbers)):
        if _is_note(header, rows, position):
            continue
        record = _record(header, row, number, cell_at, errors)
        if record:  # a blank row is not an item
            records.append(record)
            kept.append(number)
    return records, kept, errors


def _is_note(header: list[str], rows: list[list[Any]], position: int) -> bool:
    """A row is a note when its first cell starts with ``#`` and that cannot be a value: in the id column (an id
    starts with a letter or digit), or, in a table without ids (the organisation), the row right under the header
    with a row after it (where pmorules writes its notes row; the PMO's own row then follows), or alone there when
    it starts as pmorules' notes do ("# ")."""
    row = rows[position]
    first = row[0] if row else None
    if not isinstance(first, str) or isinstance(first, ExcelError) or not first.lstrip().startswith(NOTE):
        return False
    if header and header[0] == "id":
        return True
    if position != 0:
        return False
    # the notes row pmorules writes starts "# " and may stand alone (a workbook with no organisation yet)
    return first.lstrip().startswith(f"{NOTE} ") or any(any(str(cell or "").strip() for cell in later) for later in rows[1:])


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


def _whole(table: Table) -> tuple[dict[str, Any], Locator]:
    data, locate, problems = table
    if problems:
        raise InputError(problems)
    return data, locate


def read_csv(path: Path, display: str) -> tuple[dict[str, Any], Locator]:
    """A CSV table; errors point at ``file:row``."""
    return _whole(parse_csv(read_input(path, display), path.stem, display))


def parse_csv(data: bytes, name: str, display: str) -> Table:
    """A CSV table named ``name`` (its section) from its bytes; errors point at ``file:row``."""
    section = _section_for(name, Location(display))
    text = decode_text(data, display)
    table: list[list[str]] = []
    starts: list[int] = []  # the line each record starts on (a quoted cell may span lines)
    reader = csv.reader(io.StringIO(text, newline=""))
    previous_end = 0
    try:
        for row in reader:
            table.append(row)
            starts.append(previous_end + 1)
            previous_end = reader.line_num
            if len(table) > MAX_ROWS + 1:
                raise InputError([Diagnostic(Location(display, previous_end), f"more than {MAX_ROWS:,} rows")])
            if len(row) > MAX_COLUMNS:
                raise InputError([Diagnostic(Location(display, previous_end), f"more than {MAX_COLUMNS} columns")])
    except csv.Error as exc:
        raise InputError([Diagnostic(Location(display, reader.line_num + 1), f"cannot read CSV: {exc}")]) from None
    if not table:
        return {}, lambda _path: Location(display), []

    def cell_at(number: int, _column: int) -> Location:
        return Location(display, number)

    header, errors = _header(table[0], cell_at, any(any(cell.strip() for cell in row) for row in table[1:]))
    if errors:
        raise InputError(errors)
    data_out, rows, problems = _sections(section, header, table[1:], starts[1:], cell_at)

    def locate(loc: tuple[Any, ...]) -> Location:
        found = _row_and_column(loc, section, rows, header)
        return Location(display, found[0] if found else 1)

    return data_out, locate, problems


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
    return _whole(parse_xlsx(read_input(path, display), display))


def _check_archive(data: bytes, display: str) -> None:
    """Refuse a workbook whose archive expands beyond ``MAX_EXPANDED_BYTES`` (a decompression bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError([Diagnostic(Location(display), f"cannot read workbook: {exc}")]) from None
    if expanded > MAX_EXPANDED_BYTES:
        raise InputError([Diagnostic(
            Location(display), f"cannot read workbook: it expands to {expanded:,} bytes (at most {MAX_EXPANDED_BYTES:,})"
        )])


def _formulas_without_values(data: bytes, display: str) -> list[Diagnostic]:
    """The cells holding a formula whose result the workbook does not store. A spreadsheet program saves the
    result with the formula; a workbook written by a script does not, and its value would read as blank."""
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # most workbooks hold no formula: a scan of their sheets
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(b"<f>" in text or b"<f " in text for text in map(archive.read, sheets)):
            return []
    values = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    problems = []
    try:
        for sheet in formulas.worksheets:
            if sheet.title.lower() in {name.lower() for name in REFERENCE_SHEETS}:
                continue
            saved = values[sheet.title].iter_rows(values_only=True)
            for number, (written, stored) in enumerate(zip(sheet.iter_rows(values_only=True), saved), start=1):
                for column, (formula, value) in enumerate(zip(written, stored)):  # 0: column A
                    if value is None and isinstance(formula, str) and formula.startswith("="):
                        problems.append(Diagnostic(
                            Location(display, cell=f"{sheet.title}!{_column_letter(column)}{number}"),
                            "a formula whose result the workbook does not store (it would read as blank)",
                            "open and save the workbook in a spreadsheet program, or type the value"))
    finally:
        values.close()
        formulas.close()
    return problems


def parse_xlsx(data: bytes, display: str, blanks_allowed: bool = False) -> Table:
    """An XLSX workbook from its bytes, one section per sheet; errors point at ``file!Sheet!C7``.

    A formula without a stored result reads as blank: where a blank is an error of its own (a knowledge
    workbook: a missing effort, found at the row's id), those formulas are reported alone, first; where any cell
    may be blank (``blanks_allowed``: an expert's form), they are reported with the other problems at once, as is
    a sheet that holds no section."""
    import openpyxl

    _check_archive(data, display)
    try:
        unsaved = _formulas_without_values(data, display)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputError([Diagnostic(Location(display), f"cannot read workbook: {exc}")]) from None
    if unsaved and not blanks_allowed:
        raise InputError(unsaved)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputError([Diagnostic(Location(display), f"cannot read workbook: {exc}")]) from None
    data_out: dict[str, Any] = {}
    tables: dict[str, tuple[str, list[str], list[int]]] = {}  # section -> (sheet title, header, row numbers)
    errors: list[Diagnostic] = []
    cells: list[Diagnostic] = list(unsaved)
    titles: dict[str, str] = {}  # section -> the sheet that holds it
    try:
        for sheet in workbook.worksheets:
            if sheet.title.lower() in {name.lower() for name in REFERENCE_SHEETS}:
                continue
            where = Location(display, cell=f"{sheet.title}!A1")
            if blanks_allowed and sheet.title.lower() not in SECTIONS:  # a form: reported with its cells, not alone
                cells.append(Diagnostic(where, f"a sheet pmorules does not read ({sheet.title!r})",
                                        "delete it: the form's own sheet holds every rating"))
                continue
            try:
                section = _section_for(sheet.title, where)
                if section in titles:
                    raise InputError([Diagnostic(where, f"sheets {titles[section]!r} and {sheet.title!r} both hold the "
                                                        f"{section} (sheet names are read without case)",
                                                 "move the rows into one sheet and delete the other")])
                titles[section] = sheet.title
                rows = _sheet_rows(sheet, display)
            except InputError as exc:
                errors.extend(exc.diagnostics)
                continue
            if not rows:
                continue

            def cell_at(number: int, column: int, title: str = sheet.title) -> Location:
                return Location(display, cell=f"{title}!{_column_letter(column)}{number}")

            header, problems = _header(rows[0], cell_at, any(any(cell for cell in row) for row in rows[1:]))
            if problems:
                errors += problems
                continue
            sections, numbers, more = _sections(section, header, rows[1:], list(range(2, len(rows) + 1)), cell_at)
            data_out |= sections
            cells += more
            tables[section] = (sheet.title, header, numbers)
    except InputError:
        raise
    except Exception as exc:  # a sheet that openpyxl cannot parse
        raise InputError([Diagnostic(Location(display), f"cannot read workbook: {exc}")]) from None
    finally:
        workbook.close()
    if errors:
        raise InputError(unsaved + errors)

    def locate(loc: tuple[Any, ...]) -> Location:
        for section, (title, header, numbers) in tables.items():
            found = _row_and_column(loc, section, numbers, header)
            if found:
                return Location(display, cell=f"{title}!{_column_letter(found[1])}{found[0]}")
        return Location(display)

    return data_out, locate, cells


def _sheet_rows(sheet: Any, display: str) -> list[list[str]]:
    """A sheet's cells as text, at most ``MAX_ROWS`` rows and ``MAX_COLUMNS`` cells a row; anything beyond is an error.

    The cells are read as the sheet holds them, with openpyxl's own sheet
    parser: its public rows pad every row to the sheet's widest column, so one
    cell in column XFD would make each row 16,384 cells long. The declared
    dimension is checked first; what is read is bounded too, since the
    dimension, row numbers and cell references may all be wrong: rows and cells
    must come in order, each once (as every spreadsheet program writes them), so
    the rows and cells read are at most the bounds. A text cell is kept as
    ``Text``, an error value as ``ExcelError``.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    def refuse(cell: str, message: str) -> InputError:
        return InputError([Diagnostic(Location(display, cell=f"{sheet.title}!{cell}"), message)])

    if (sheet.max_row or 0) > MAX_ROWS + 1:
        raise refuse("A1", f"the sheet declares {sheet.max_row:,} rows; at most {MAX_ROWS:,} are read")
    book = sheet.parent
    rows: list[list[str]] = []
    with sheet._get_source() as source:
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for number, cells in parser.parse():
            if number > MAX_ROWS + 1:
                raise refuse("A1", f"more than {MAX_ROWS:,} rows")
            if number <= len(rows):
                raise refuse(f"A{number}", f"row {number} comes again after row {len(rows)}: the sheet is damaged")
            rows.extend([] for _ in range(number - 1 - len(rows)))  # rows the sheet leaves out are blank
            row: list[str] = []
            for cell in cells:
                value = _text(cell["value"])
                column = cell["column"]
                if column > MAX_COLUMNS:
                    if value.strip():
                        raise refuse(f"{_column_letter(column - 1)}{number}",
                                     f"a value beyond column {MAX_COLUMNS}: more than {MAX_COLUMNS} columns")
                    continue
                if column <= len(row):
                    raise refuse(f"{_column_letter(column - 1)}{number}",
                                 f"cell {_column_letter(column - 1)}{number} comes again in its row: the sheet is damaged")
                row.extend([""] * (column - 1 - len(row)))
                kind = cell["data_type"]
                row.append(ExcelError(value) if kind == "e" else Text(value) if kind == "s" else value)
            rows.append(row)
    return rows
