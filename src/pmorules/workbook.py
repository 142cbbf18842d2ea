"""Write knowledge as an XLSX workbook a PMO lead fills in: ``pmorules init --xlsx`` and ``pmorules export``.

One sheet per section (Organisation, Clients, Services, Goals, Outcomes).
Columns are the fields of the knowledge models, in their order, headed in
words (tables.label); the row under the header explains each column with the
field's description (so the workbook never drifts from the format), in a
spreadsheet user's words, and ends with the field's name. Drop-downs offer the
vocabularies, client ids and the catalogue's services and outcomes as
``S16 – Data analytics and reporting``, taken from two protected reference
sheets (the catalogue's services and outcomes) that the forms of ``pmorules
assess`` carry too. tables.py reads the workbook back: headers in words or as
fields, the notes row starts with ``#`` and is skipped, the reference sheets
are not read; knowledge/load.py turns a chosen ``S16 – …`` into ``S16``. The
organisation sheet is one row that also holds the horizons; list cells use the
short forms where they say everything, else a YAML flow list.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import types
import zipfile
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .config import load_config
from .knowledge.catalogue import Catalogue, load_catalogue
from .knowledge.load import chosen_ids, knowledge_files
from .knowledge.spec import Action, Client, Goal, Horizons, KnowledgeFile, Organisation, Outcome, ServiceAssessment, ServiceSpec
from .output import check_output, write_output
from .text import printable
from .tables import NOTE, REFERENCE_SHEETS, label, read_csv, read_xlsx
from .vocabulary import Vocabulary
from .yamlio import dump_yaml, read_yaml

SHEETS: tuple[tuple[str, str, type[BaseModel]], ...] = (  # (sheet title, section, model of one row)
    ("Organisation", "organisation", Organisation),
    ("Clients", "clients", Client),
    ("Services", "services", ServiceSpec),
    ("Goals", "goals", Goal),
    ("Outcomes", "outcomes", Outcome),
)
WHEN_GIVEN = (("Assessments", "assessments", ServiceAssessment), ("Actions", "actions", Action))  # sheets written only when the knowledge has items
FIRST_ROW = 3  # header, notes, then the items
NOTE_SIZE = 9  # the notes' font size; a wrapped line of it takes 12 points of row height
LAST_ROW = 500  # drop-downs cover the rows up to here
CELL_SYNTAX = {  # how a list of items with fields is written in one cell, added to the column's note
    ("services", "outcomes"): "In a cell: ids separated by ';', or a YAML list such as [{id: O12, contribution: supporting}].",
    ("services", "depends_on"): "In a cell: tools or tools:soft, separated by ';', or a YAML list such as "
                  "[{service: S16, applies: false, reason: ...}].",
    ("services", "harms"): "In a cell: target or target:severity, separated by ';', or a YAML list such as "
             "[{target: culture, severity: high, mitigated_by: [coaching]}].",
    ("services", "assessments"): "In a cell: a YAML list such as [{by: jane, term: short, probability: 0.7}].",
}
STABLE_DATE = dt.datetime(2000, 1, 1)  # the creation date written into every workbook
LIST_SYNTAX = "In a cell: separate several with ';'."


def _nested_model(field: FieldInfo) -> type[BaseModel] | None:
    """The model of a field holding one nested mapping (``target_profile``), which becomes dotted columns."""
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next((a for a in get_args(annotation) if a is not type(None)), None)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _is_list(field: FieldInfo) -> bool:
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        return any(get_origin(a) is list for a in get_args(annotation))
    return get_origin(annotation) is list


def columns(model: type[BaseModel], prefix: str = "") -> list[tuple[str, FieldInfo]]:
    """The columns of a sheet: a model's fields, with nested mappings as dotted columns."""
    found: list[tuple[str, FieldInfo]] = []
    for name, field in model.model_fields.items():
        nested = _nested_model(field)
        found += columns(nested, f"{prefix}{name}.") if nested else [(f"{prefix}{name}", field)]
    return found


def _sheet_columns(section: str, model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    return columns(model) + (columns(Horizons, "horizons.") if section == "organisation" else [])


_COMMANDS = re.compile(r"\s*\([^()]*(?:pmorules |--)[^()]*\)|\s*unless --[a-z-]+ says otherwise")  # asides on commands
_VALUES = re.compile(r"one of the [A-Z][A-Za-z]* values")
_FIELD = re.compile(r"\b[a-z]+(?:_[a-z]+)+(?:\.[a-z_]+)?\b|\b[a-z_]+\.[a-z_]+\b")


def _note(section: str, column: str, field: FieldInfo, names: set[str]) -> str:
    """A column's note for someone in a spreadsheet: the field's description, what a drop-down offers in place of
    the vocabulary's name, the sheet's other columns by their headers, no commands; then the field's name."""
    syntax = CELL_SYNTAX.get((section, column), LIST_SYNTAX) if _is_list(field) else ""
    text = _VALUES.sub("choose from the list", _COMMANDS.sub("", field.description or ""))
    text = _FIELD.sub(lambda m: _field_words(m.group(), names), text)
    listed = f"The {REFERENCE_SHEETS[0]} sheet describes each." if (section, column) == ("services", "catalogue") \
        else f"The {REFERENCE_SHEETS[1]} sheet lists them." if column == "outcomes" or (section, column) == (
            "outcomes", "id") else ""
    return " ".join(part for part in (text, syntax, listed, f"Field name: {column}.") if part)


def _field_words(token: str, names: set[str]) -> str:
    """A field named in a description, as the sheet heads it: ``short_max_months`` → 'Horizons: short max months',
    ``organisation.capacity`` → 'Capacity' on the Organisation sheet."""
    found = [n for n in names if n == token or n.endswith(f".{token}")]
    if len(found) == 1:
        return f"'{label(found[0])}'"
    sheet, _, leaf = token.partition(".")
    title = next((t for t, section, _ in SHEETS if section == sheet), None)
    return f"'{label(leaf)}' on the {title} sheet" if title and leaf else token


def _lines(text: str, width: float) -> int:
    """How many lines a wrapped text takes in a column ``width`` characters wide (a rough count that errs long)."""
    return sum(max(1, -(-len(line) // max(int(width), 1))) for line in text.split("\n"))


def notes_height(notes: list[tuple[str, float]]) -> float:
    """The height of a notes row (in points) that shows each (note, its column's width) whole, as far as a row may
    be high: spreadsheet programs do not grow a row for wrapped text they did not write."""
    lines = max((_lines(text, width * 10 / NOTE_SIZE) for text, width in notes), default=1)  # small type: more a line
    return min(409, 12 * lines + 4)  # 409 points: the most a row may be


# ------------------------------------------------------------------ values to cells


def _flow(value: Any) -> str:
    """A YAML flow text of a value (quoted where YAML needs it); tables.py reads it back."""
    return dump_yaml(value, default_flow_style=True, width=1 << 30).strip()


def _short(column: str, item: dict[str, Any]) -> str | None:
    """The short form of a list item, when it says everything the item says."""
    if column == "outcomes" and set(item) == {"id"}:
        return item["id"]
    if column == "depends_on" and set(item) <= {"service", "kind"}:
        return item["service"] + (f":{item['kind']}" if item.get("kind", "hard") != "hard" else "")
    if column == "reviews" and set(item) == {"date"}:
        return item["date"].isoformat()
    if column == "harms" and set(item) <= {"target", "severity"}:
        return item["target"] + (f":{item['severity']}" if "severity" in item else "")
    return None


def _list_cell(column: str, items: list[Any]) -> str:
    texts = [_short(column, item) if isinstance(item, dict) else str(item) for item in items]
    if items and all(t is not None and ";" not in t and not t.startswith("[") for t in texts):
        return "; ".join(texts)  # type: ignore[arg-type]
    return _flow(items)


def _cell_value(column: str, value: Any, section: str, catalogue: Catalogue) -> Any:
    """A value as its cell shows it; a catalogue service or outcome as the column's drop-down shows it; control
    characters as escapes (a workbook cannot hold them: YAML's "\\x01" reached openpyxl and ended in exit 3)."""
    shown = _shown(column, value, section, catalogue)
    return printable(shown, lines=True) if isinstance(shown, str) else shown


def _shown(column: str, value: Any, section: str, catalogue: Catalogue) -> Any:
    leaf = column.rsplit(".", 1)[-1]
    if (section, leaf) == ("services", "catalogue") and value in catalogue.services:
        return catalogue.choice(value)
    if section in ("services", "goals") and leaf == "outcomes" and isinstance(value, list):
        value = [catalogue.choice(v) if isinstance(v, str) and v in catalogue.outcomes else v for v in value]
    if isinstance(value, list):
        return _list_cell(leaf, [v if isinstance(v, dict) else _scalar(v) for v in value])
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _scalar(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{target_profile: {short: 0.4}}`` → ``{"target_profile.short": 0.4}``."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _rows(section: str, knowledge: KnowledgeFile) -> list[dict[str, Any]]:
    """The items of a section as {column: value}, with only the fields the user gave."""
    if section == "organisation":
        row: dict[str, Any] = {}
        if knowledge.organisation is not None:
            row |= _flat(knowledge.organisation.model_dump(exclude_unset=True))
        if knowledge.horizons is not None:
            row |= _flat(knowledge.horizons.model_dump(exclude_unset=True), "horizons.")
        return [row] if row else []
    return [_flat(item.model_dump(exclude_unset=True)) for item in getattr(knowledge, section)]


# ------------------------------------------------------------------ the workbook


def _vocabulary(annotation: Any) -> type[Vocabulary] | None:
    """The vocabulary a field's values come from (``Term | None`` → Term), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Vocabulary):
        return annotation
    return next((v for a in get_args(annotation) if (v := _vocabulary(a)) is not None), None)


def _choices(section: str, column: str, field: FieldInfo) -> tuple[str, bool] | None:
    """A drop-down for a column: (its list formula, whether anything else is refused)."""
    leaf = column.rsplit(".", 1)[-1]
    vocabulary = None if _is_list(field) else _vocabulary(field.annotation)
    if vocabulary is not None:
        return '"' + ",".join(vocabulary.meanings()) + '"', True
    if field.annotation is bool:
        return '"true,false"', True
    if (section, leaf) == ("services", "catalogue"):
        return _reference_range(REFERENCE_SHEETS[0], len(load_catalogue().services)), True
    if (section, leaf) in (("goals", "outcomes"), ("services", "outcomes"), ("outcomes", "id")):
        # several may be typed, or a new outcome: offer, do not refuse
        return _reference_range(REFERENCE_SHEETS[1], len(load_catalogue().outcomes)), False
    if (section, leaf) in (("services", "clients"), ("goals", "client")):
        return f"Clients!$A${FIRST_ROW}:$A${LAST_ROW}", leaf == "client"
    return None


def build_workbook(knowledge: KnowledgeFile) -> Any:
    """An openpyxl workbook of the knowledge: header, notes row and drop-downs on every sheet, then the reference
    sheets the drop-downs take the catalogue from."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    book.remove(book.active)
    catalogue = load_catalogue()
    for title, section, model in SHEETS + tuple(s for s in WHEN_GIVEN if getattr(knowledge, s[1])):
        sheet = book.create_sheet(title)
        sheet_columns = _sheet_columns(section, model)
        names = [column for column, _ in sheet_columns]
        notes: list[tuple[str, float]] = []
        for index, (column, field) in enumerate(sheet_columns, start=1):
            head = sheet.cell(1, index, label(column))
            head.font = Font(bold=True)
            head.fill = PatternFill("solid", fgColor="DCE6F2")
            head.alignment = Alignment(wrap_text=True, vertical="top")
            text = (f"{NOTE} " if index == 1 else "") + _note(section, column, field, set(names))
            note = sheet.cell(2, index, text)
            note.font = Font(italic=True, color="667085", size=NOTE_SIZE)
            note.alignment = Alignment(wrap_text=True, vertical="top")
            width = max(14, min(34, len(label(column)) + 4))
            sheet.column_dimensions[get_column_letter(index)].width = width
            notes.append((text, width))
            choices = _choices(section, column, field)
            if choices is not None:
                formula, strict = choices
                validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=strict,
                                            errorTitle=label(column),
                                            error=f"Choose a value from the list for {label(column)}.")
                last = FIRST_ROW if section == "organisation" else LAST_ROW
                validation.add(f"{get_column_letter(index)}{FIRST_ROW}:{get_column_letter(index)}{last}")
                sheet.add_data_validation(validation)
        sheet.row_dimensions[2].height = notes_height(notes)
        sheet.freeze_panes = f"B{FIRST_ROW}"
        for number, row in enumerate(_rows(section, knowledge), start=FIRST_ROW):
            for column, value in row.items():
                cell = sheet.cell(number, names.index(column) + 1, _cell_value(column, value, section, catalogue))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text as written: not a formula (=1+1), nor an error value (#N/A)
    add_reference_sheets(book)
    return book


def _reference_range(title: str, rows: int) -> str:
    """The cells of a reference sheet's last column, which holds the entries its drop-downs show."""
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(len(_SERVICE_COLUMNS if title == REFERENCE_SHEETS[0] else _OUTCOME_COLUMNS))
    return f"'{title}'!${letter}$2:${letter}${rows + 1}"


_SERVICE_COLUMNS = ("Id", "Name", "Term", "Delivers outcomes", "Depends on", "Harms", "What it does", "Drop-down entry")
_OUTCOME_COLUMNS = ("Id", "Name", "Term", "Months until perceived", "What takes time", "Drop-down entry")
_REFERENCE_WIDTHS = {"Id": 8, "Name": 30, "Term": 9, "Months until perceived": 12}


def _listed(ids: list[str], catalogue: Catalogue, how: list[str] | None = None) -> str:
    """Catalogue entries one a line, as a drop-down shows them (an id the catalogue lacks as it is)."""
    how = how or [""] * len(ids)
    return "\n".join((catalogue.choice(i) if i in catalogue.services or i in catalogue.outcomes else i) + h
                     for i, h in zip(ids, how))


def _word(value: Any) -> str:
    """A vocabulary's value as its word (models keep either)."""
    return str(getattr(value, "value", value))


def add_reference_sheets(book: Any) -> None:
    """The catalogue's services and outcomes as two protected sheets, to read while filling in the others; their last
    column (hidden) holds the drop-down entries. tables.py does not read them back."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    catalogue = load_catalogue()
    services = [(s.id, s.name, _word(s.term), _listed(s.outcomes, catalogue),
                 _listed([d.service for d in s.depends_on], catalogue,
                         [f" ({_word(d.kind)})" if _word(d.kind) != "hard" else "" for d in s.depends_on]),
                 _listed([h.target for h in s.harms], catalogue, [f" ({_word(h.severity)})" for h in s.harms]),
                 s.description or "", catalogue.choice(s.id)) for s in catalogue.services.values()]
    outcomes = [(o.id, o.name, _word(o.term), _scalar(o.months), o.time_hint or "", catalogue.choice(o.id))
                for o in catalogue.outcomes.values()]
    for title, header, rows in ((REFERENCE_SHEETS[0], _SERVICE_COLUMNS, services),
                                (REFERENCE_SHEETS[1], _OUTCOME_COLUMNS, outcomes)):
        sheet = book.create_sheet(title)
        for index, text in enumerate(header, start=1):
            head = sheet.cell(1, index, text)
            head.font = Font(bold=True)
            head.fill = PatternFill("solid", fgColor="E4E7EC")
            width = _REFERENCE_WIDTHS.get(text, 36)
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.column_dimensions[get_column_letter(len(header))].hidden = True
        for number, row in enumerate(rows, start=2):
            lines = 1
            for index, value in enumerate(row, start=1):
                cell = sheet.cell(number, index, value)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(value, str):
                    cell.data_type = "s"
                    if index < len(row):
                        lines = max(lines, _lines(value, _REFERENCE_WIDTHS.get(header[index - 1], 36)))
            sheet.row_dimensions[number].height = min(409, 15 * lines)
        sheet.freeze_panes = "C2"
        sheet.protection.sheet = True  # read-only: the catalogue changes with pmorules, not in a workbook
        sheet.protection.formatColumns = sheet.protection.formatRows = False  # widths and heights may still change


class _StableZip(zipfile.ZipFile):
    """A zip whose entries carry a fixed date: the same knowledge gives the same workbook, byte for byte."""

    def writestr(self, name: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(name, str):
            name = zipfile.ZipInfo(name, date_time=STABLE_DATE.timetuple()[:6])
            name.compress_type = self.compression
        super().writestr(name, data, *args, **kwargs)

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        """openpyxl writes each sheet from a temporary file: store its bytes under the fixed date too."""
        self.writestr(str(arcname or filename), Path(filename).read_bytes())


def workbook_bytes(knowledge: KnowledgeFile) -> bytes:
    """The workbook of the knowledge, as the bytes of an .xlsx file."""
    return book_bytes(build_workbook(knowledge))


def book_bytes(book: Any) -> bytes:
    """An openpyxl workbook as the bytes of an .xlsx file, the same bytes for the same content."""
    from openpyxl.writer.excel import ExcelWriter  # Workbook.save would stamp the time of saving into the file

    book.properties.created = book.properties.modified = STABLE_DATE
    buffer = io.BytesIO()
    ExcelWriter(book, _StableZip(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return buffer.getvalue()


def workspace_knowledge(workspace: Path, shown: str) -> KnowledgeFile:
    """The knowledge a workspace's files hold, as written (catalogue defaults not applied), in one file.

    The workspace must load without errors (the caller checks): every file is then valid on its own.
    """
    merged: dict[str, Any] = {}
    for file in knowledge_files(workspace):
        display = str(Path(shown) / file.relative_to(workspace))
        suffix = file.suffix.lower()
        if suffix in (".csv", ".xlsx"):
            raw, locator = read_csv(file, display) if suffix == ".csv" else read_xlsx(file, display)
            chosen_ids(raw, locator)  # S16 – Data analytics and reporting → S16
        else:
            raw = read_yaml(file, display)
        parsed = KnowledgeFile.model_validate(raw or {})
        for section in KnowledgeFile.model_fields:
            value = getattr(parsed, section)
            if isinstance(value, list):
                merged.setdefault(section, []).extend(value)
            elif value is not None:
                merged[section] = value
    return KnowledgeFile.model_validate(merged)


def export_workspace(workspace: Path, shown: str, output: Path) -> None:
    """Write a workspace's knowledge as one workbook, never over or among anything an analysis of it reads."""
    protected = load_config(workspace, shown).config.inputs(workspace, knowledge_files(workspace))
    check_output(output, protected, hint="choose another --xlsx path")  # before the work of building the workbook
    write_output(output, workbook_bytes(workspace_knowledge(workspace, shown)), protected, hint="choose another --xlsx path")
