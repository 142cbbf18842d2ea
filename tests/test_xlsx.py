"""The spreadsheet path: `pmorules init --xlsx`, filling in the workbook, `pmorules export` and reading it back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

from pmorules.analysis import analyze
from pmorules.cli import app
from pmorules.errors import InputError, Location
from pmorules.knowledge import load_workspace
from pmorules.knowledge.catalogue import load_catalogue
from pmorules.knowledge.spec import Horizons
from pmorules.paths import example_dir
from pmorules.tables import column_name, label
from pmorules.workbook import SHEETS, columns
from strategies import scalar, workspaces, write_workspace

AS_OF = dt.date(2026, 3, 20)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def rows_of(path: Path, title: str) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(path)[title]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def fields_of(path: Path, title: str) -> list[list[Any]]:
    """A sheet's rows, its header read back to field names as the importer reads it."""
    header, *rows = rows_of(path, title)
    return [[column_name(h) for h in header], *rows]


def cell(ref: str) -> str:
    """``Services!probability7`` as the sheet's cell (``Services!I7``), from the workbook's own column order."""
    from openpyxl.utils import get_column_letter

    from pmorules.workbook import SHEETS, _sheet_columns

    title, rest = ref.split("!")
    if re.fullmatch(r"[A-Z]+\d+", rest):  # already a cell
        return ref
    column, row = re.fullmatch(r"([a-z_.]+)(\d+)", rest).groups()
    section, model = next((section, model) for sheet, section, model in SHEETS if sheet == title)
    names = [name for name, _ in _sheet_columns(section, model)]
    return f"{title}!{get_column_letter(names.index(column) + 1)}{row}"


def set_cells(path: Path, cells: dict[str, Any]) -> None:
    """``{"Services!probability7": 2}``: fill in cells as a PMO lead would in a spreadsheet program."""
    book = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        title, ref = cell(ref).split("!")
        book[title][ref] = value
    book.save(path)


@pytest.fixture
def workbook_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace made by `pmorules init ws --xlsx`, with the working directory beside it."""
    monkeypatch.chdir(tmp_path)
    result = invoke("init", "ws", "--xlsx")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == ["created ws/pmorules.toml", "created ws/pmo.xlsx",
                                          "created ws/rules/organisation.yaml"]
    return tmp_path / "ws"


# ------------------------------------------------------------------ init --xlsx


def test_init_xlsx_writes_a_workbook_that_explains_itself(workbook_ws: Path) -> None:
    path = workbook_ws / "pmo.xlsx"
    assert not (workbook_ws / "knowledge.yaml").exists()
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Organisation", "Clients", "Services", "Goals", "Outcomes", "Catalogue",
                               "Catalogue outcomes"]
    for title, section, model in SHEETS:
        header, notes, example = rows_of(path, title)[:3]
        expected = columns(model) + (columns(Horizons, "horizons.") if section == "organisation" else [])
        assert header == [label(name) for name, _ in expected]  # in words ...
        assert notes[0].startswith("# ")  # the notes row is skipped when the workbook is read
        for note, (name, field) in zip(notes, expected):
            assert note.endswith(f"Field name: {name}.")  # ... with the field's name in the note
            assert field.description[:12] in note  # the notes are the field descriptions: they cannot drift
            assert "--" not in note and "pmorules" not in note and " values)" not in note, note  # no commands
        assert example[0] is not None, f"{title} has no example row"
        # the notes row is as high as its longest note needs (about 12 points a line of 9-point type)
        sheet = book[title]
        longest = max(len(n) / sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width
                      for i, n in enumerate(notes, start=1))
        assert sheet.row_dimensions[2].height >= 12 * longest * 0.9
    services = rows_of(path, "Services")
    assert services[2][:3] == ["reporting", None, "S16 – Data analytics and reporting"]
    assert "In a cell: tools or tools:soft" in services[1][services[0].index("Depends on")]
    effort = services[1][services[0].index("Effort")]
    assert "'Capacity' on the Organisation sheet" in effort  # another field, as the workbook heads it


def test_init_xlsx_offers_drop_downs(workbook_ws: Path) -> None:
    book = openpyxl.load_workbook(workbook_ws / "pmo.xlsx")

    def validations(title: str) -> dict[str, tuple[str, bool]]:
        sheet = book[title]
        header = [c.value for c in sheet[1]]
        found = {}
        for validation in sheet.data_validations.dataValidation:
            column = header[openpyxl.utils.column_index_from_string(str(validation.sqref)[0]) - 1]
            found[column] = (validation.formula1, bool(validation.showErrorMessage))
        return found

    def entries(formula: str) -> list[str]:
        """The values a drop-down over a reference sheet's cells shows."""
        title, cells = formula.rsplit("!", 1)
        return [c.value for row in book[title.strip("'")][cells.replace("$", "")] for c in row]

    services = validations("Services")
    assert services["Status"] == ('"active,proposed,retired"', True)
    assert services["Term"] == ('"short,medium,long"', True)
    assert services["Approach"][0].count(",") == 5
    assert services["Keep"] == ('"true,false"', True)
    assert services["Catalogue"][1] is True
    catalogue = load_catalogue()
    shown = entries(services["Catalogue"][0])
    assert shown == [f"{s.id} – {s.name}" for s in catalogue.services.values()]
    assert "S16 – Data analytics and reporting" in shown
    assert services["Clients"] == ("Clients!$A$3:$A$500", False)  # several clients may be typed into one cell
    assert validations("Organisation")["Context"][0].startswith('"potential,kickoff,')
    goals = validations("Goals")
    assert goals["Client"] == ("Clients!$A$3:$A$500", True)
    assert goals["Outcomes"][1] is False  # several may be typed: offered, not enforced
    assert entries(goals["Outcomes"][0]) == [f"{o.id} – {o.name}" for o in catalogue.outcomes.values()]
    assert entries(services["Outcomes"][0]) == entries(goals["Outcomes"][0])
    assert validations("Outcomes")["Term"] == ('"short,medium,long"', True)


def test_the_new_workbook_runs_through_validate_analyze_and_report(workbook_ws: Path) -> None:
    assert invoke("validate", "ws").stdout.startswith("ws: OK - 3 services (3 active), 2 clients, 2 goals in 1 file")
    assert invoke("analyze", "ws", "--format", "json").exit_code == 0
    result = invoke("report", "ws", "-o", "report.md")
    assert result.exit_code == 0, result.stderr
    kb = load_workspace("ws")
    assert kb.organisation.name == "My PMO" and kb.organisation.reviews_months == pytest.approx([3.0, 6.0], abs=0.02)
    assert [r.name for r in kb.reviews] == ["First steering committee", "Half-year review"]
    assert kb.outcomes["O26"].months == 1
    assert str(kb.services["reporting"].sources["effort"]) == f"ws/pmo.xlsx!{cell('Services!effort3')}"


def test_the_yaml_and_the_xlsx_stub_say_the_same(tmp_path: Path, workbook_ws: Path) -> None:
    assert invoke("init", str(tmp_path / "yaml")).exit_code == 0
    assert _plain(load_workspace(tmp_path / "yaml")) == _plain(load_workspace(workbook_ws))


def test_filled_in_errors_point_at_sheet_and_cell(workbook_ws: Path) -> None:
    set_cells(workbook_ws / "pmo.xlsx", {
        "Services!id7": "audits", "Services!catalogue7": "S13", "Services!probability7": 2, "Services!clients5": "pm; exce",
        "Services!effort4": -5,
        "Organisation!target_profile.short3": 1.5, "Organisation!target_profile.medium3": 0.3,
        "Organisation!target_profile.long3": 0.2,
        "Organisation!horizons.short_max_months3": 6, "Organisation!horizons.medium_max_months3": 2,  # out of order
        "Goals!A4": "G2", "Goals!C4": "O266", cell("Goals!due_months4"): 6,
    })
    result = invoke("validate", "ws")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "ws/pmo.xlsx!Goals!C4: unknown outcome 'O266' (hint: did you mean 'O26'?)",
        f"ws/pmo.xlsx!{cell('Organisation!target_profile.short3')}: organisation.target_profile.short: should be less "
        "than or equal to 1 (got '1.5')",
        f"ws/pmo.xlsx!{cell('Organisation!horizons.short_max_months3')}: horizons: medium_max_months must not be "
        "below short_max_months",
        f"ws/pmo.xlsx!{cell('Services!effort4')}: services.effort: should be greater than or equal to 0 (got '-5')",
        f"ws/pmo.xlsx!{cell('Services!clients5')}: unknown client 'exce' (hint: did you mean 'exec'?)",
        # validation in one pass: the record with a bad probability is still checked, and it has no effort
        f"ws/pmo.xlsx!{cell('Services!id7')}: service 'audits' has no effort while others do (hint: give 'effort' "
        "for every service, or for none (then each service counts as 1))",
        f"ws/pmo.xlsx!{cell('Services!probability7')}: services.probability: should be less than or equal to 1 (got '2')",
        "7 errors found",
    ]


def test_a_catalogue_entry_is_read_as_its_drop_down_shows_it_or_as_its_id(workbook_ws: Path) -> None:
    set_cells(workbook_ws / "pmo.xlsx", {
        "Services!catalogue4": "S09",  # the bare id, as before
        "Services!catalogue5": "S12 -  training AND development",  # typed by hand: a hyphen, spaces and case differ
        "Goals!outcomes3": "O26 – Increased visibility of project progress; O05 – Better project prioritisation",
    })
    kb = load_workspace(workbook_ws)
    assert (kb.services["methodology"].catalogue, kb.services["training"].catalogue) == ("S09", "S12")
    assert kb.services["reporting"].catalogue == "S16"  # the workbook writes "S16 – Data analytics and reporting"
    assert kb.goals["G1"].outcomes == ["O26", "O05"]

    set_cells(workbook_ws / "pmo.xlsx", {
        "Services!catalogue4": "S09 – Risk management",  # the name of another entry
        "Services!catalogue5": "Training and development",  # the name alone
        "Goals!outcomes3": "O77 – Something else",
    })
    result = invoke("validate", "ws")
    assert result.exit_code == 2 and "Traceback" not in result.output
    hint = " (hint: choose it from the list, or write the id alone)"
    assert result.stderr.splitlines()[:3] == [
        f"ws/pmo.xlsx!{cell('Goals!outcomes3')}: goals.outcomes: not a valid id (got 'O77 – Something else') (hint: "
        "use letters, digits, '_', '-' or '.', starting with a letter or digit)",
        f"ws/pmo.xlsx!{cell('Services!catalogue4')}: 'S09 – Risk management': S09 is 'Methodologies and frameworks "
        f"management', not 'Risk management'{hint}",
        f"ws/pmo.xlsx!{cell('Services!catalogue5')}: services.catalogue: not a valid id (got 'Training and "
        "development') (hint: use letters, digits, '_', '-' or '.', starting with a letter or digit)",
    ]


def test_headers_in_words_and_field_names_read_the_same(tmp_path: Path) -> None:
    for _, section, model in SHEETS:
        from pmorules.workbook import _sheet_columns

        for name, _ in _sheet_columns(section, model):
            assert column_name(label(name)) == name and column_name(name) == name
            assert " " in label(name) or label(name)[0].isupper()  # words, not the field's name
    (tmp_path / "services.csv").write_text("Id,Term,Months to value,Probability,effort\na,short,2,0.5,10\n")
    (tmp_path / "organisation.csv").write_text("Name,Capacity (FTE),Horizons: short max months\nP,3,4\n")
    kb = load_workspace(tmp_path, AS_OF)
    assert (kb.services["a"].months_to_value, kb.services["a"].probability) == (2, 0.5)
    assert (kb.organisation.capacity_fte, kb.horizons.short_max_months) == (3, 4)
    (tmp_path / "services.csv").write_text("id,Months to value,months_to_value\na,2,3\n")
    with pytest.raises(InputError) as info:
        load_workspace(tmp_path, AS_OF)
    assert "services.csv:1: column 'months_to_value' is named twice (first in column B)" in str(info.value)


def test_the_catalogue_sheets_are_read_only_and_list_the_whole_catalogue(workbook_ws: Path) -> None:
    book = openpyxl.load_workbook(workbook_ws / "pmo.xlsx")
    catalogue = load_catalogue()
    services, outcomes = book["Catalogue"], book["Catalogue outcomes"]
    assert services.protection.sheet and outcomes.protection.sheet
    header = [c.value for c in services[1]]
    assert header[:6] == ["Id", "Name", "Term", "Delivers outcomes", "Depends on", "Harms"]
    rows = [dict(zip(header, row)) for row in services.iter_rows(min_row=2, values_only=True)]
    assert [r["Id"] for r in rows] == list(catalogue.services)
    s01 = rows[0]
    assert s01["Name"] == catalogue.services["S01"].name
    assert "O05 – Better project prioritisation" in s01["Delivers outcomes"].split("\n")
    assert "S16 – Data analytics and reporting (soft)" in s01["Depends on"].split("\n")
    assert any(r["Harms"] for r in rows)
    assert [r[0] for r in outcomes.iter_rows(min_row=2, values_only=True)] == list(catalogue.outcomes)
    # a row as high as its longest text needs: the outcomes one a line
    assert services.row_dimensions[2].height >= 15 * len(s01["Delivers outcomes"].split("\n"))
    # what is typed into them (the protection taken off) is not knowledge
    before = _plain(load_workspace(workbook_ws))
    services.protection.sheet = False
    services["B2"] = "Advice"
    services["A40"] = "S99"
    book.save(workbook_ws / "pmo.xlsx")
    assert _plain(load_workspace(workbook_ws)) == before


def test_the_organisation_sheet_holds_one_row(workbook_ws: Path) -> None:
    set_cells(workbook_ws / "pmo.xlsx", {"Organisation!A4": "Another PMO"})
    result = invoke("validate", "ws")
    assert result.stderr.splitlines()[0] == (
        "ws/pmo.xlsx!Organisation!A4: the organisation table holds one row: the PMO (hint: keep one row)"
    )


def test_a_yaml_list_in_a_cell(workbook_ws: Path) -> None:
    set_cells(workbook_ws / "pmo.xlsx", {
        "Services!harms3": "[{target: O22, applies: false, reason: 'our figures come from the ERP: nobody is chased'}]",
        "Services!assessments3": "[{by: jane, term: short, probability: 0.7}, {by: raj, term: medium}]",
        "Services!depends_on4": "S16:soft; S11",
    })
    kb = load_workspace(workbook_ws)
    reporting = kb.services["reporting"]
    assert "O22" not in [h.target for h in reporting.harms]
    assert [s.reason for s in kb.switched_off if s.target == "O22"] == ["our figures come from the ERP: nobody is chased"]
    assert [(a.by, a.term) for a in reporting.assessments] == [("jane", "short"), ("raj", "medium")]
    assert [(d.target, d.kind) for d in kb.services["methodology"].depends_on][:2] == [("reporting", "soft"), ("S11", "hard")]
    set_cells(workbook_ws / "pmo.xlsx", {"Services!assessments3": "[{by: jane"})
    with pytest.raises(InputError) as info:
        load_workspace(workbook_ws)
    assert str(info.value).startswith(f"{workbook_ws}/pmo.xlsx!{cell('Services!assessments3')}: cannot read the list in this cell:")


def test_a_date_typed_into_a_cell(workbook_ws: Path) -> None:
    set_cells(workbook_ws / "pmo.xlsx", {cell("Organisation!assessed_on3"): dt.datetime(2026, 3, 20),
                                         "Services!since4": dt.date(2024, 1, 15)})
    kb = load_workspace(workbook_ws, AS_OF)
    assert kb.organisation.assessed_on == dt.date(2026, 3, 20)
    assert kb.services["methodology"].running_months > 26  # 15 January 2024 to 20 March 2026


def test_csv_tables_skip_note_rows_and_read_the_organisation(make_ws) -> None:
    ws = make_ws({
        "organisation.csv": "name,capacity,target_profile.short,target_profile.medium,target_profile.long,"
                            "horizons.short_max_months\n# the PMO,effort unit,,,,\nCSV PMO,40,0.5,0.3,0.2,2\n",
        "services.csv": "id,term,effort\n# id,when,how much\na,short,20\n",
    })
    kb = load_workspace(ws)
    assert (kb.organisation.name, kb.organisation.capacity, kb.horizons.short_max_months) == ("CSV PMO", 40, 2)
    assert kb.organisation.target_profile.short == 0.5
    assert list(kb.services) == ["a"] and str(kb.services["a"].sources["effort"]).endswith("services.csv:3")


def test_init_never_overwrites(workbook_ws: Path, tmp_path: Path) -> None:
    before = (workbook_ws / "pmo.xlsx").read_bytes()
    result = invoke("init", "ws", "--xlsx")
    assert result.exit_code == 0 and "kept existing ws/pmo.xlsx" in result.stderr
    assert (workbook_ws / "pmo.xlsx").read_bytes() == before
    (tmp_path / "notes.txt").write_text("mine")
    result = invoke("init", "notes.txt", "--xlsx")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "notes.txt: exists and is not a directory (hint: give the folder of a new workspace)", "1 error found",
    ]
    assert (tmp_path / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------ export


def _plain(value: Any) -> Any:
    """A knowledge base (or part) as plain data without where things were written: YAML and XLSX differ there."""
    if isinstance(value, Location):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name not in ("sources", "files", "workspace")}
    if isinstance(value, BaseModel):
        return {"fields": _plain(value.model_dump()), "set": sorted(value.model_fields_set)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _findings(workspace: Path) -> list[tuple]:
    analysis = analyze(workspace, AS_OF)
    return [(f.rule, f.level, f.subjects, f.message, f.recommendation) for f in analysis.findings]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example workspace exported to a workbook, beside a copy of its config and rules."""
    root = tmp_path_factory.mktemp("export")
    result = CliRunner().invoke(app, ["export", str(example_dir()), "--xlsx", str(root / "ws" / "pmo.xlsx")])
    assert result.exit_code == 2, "the folder of the output does not exist yet"
    (root / "ws").mkdir()
    result = CliRunner().invoke(app, ["export", str(example_dir()), "--xlsx", str(root / "ws" / "pmo.xlsx")])
    assert result.exit_code == 0, result.output
    shutil.copy(example_dir() / "pmorules.toml", root / "ws")
    shutil.copytree(example_dir() / "rules", root / "ws" / "rules")
    return root / "ws"


def test_export_round_trip_gives_the_same_knowledge_and_findings(exported: Path) -> None:
    assert _plain(load_workspace(exported, AS_OF)) == _plain(load_workspace(example_dir(), AS_OF))
    assert _findings(exported) == _findings(example_dir())


def test_export_writes_what_the_user_wrote(exported: Path) -> None:
    header, _, *rows = fields_of(exported / "pmo.xlsx", "Services")
    reporting = dict(zip(header, rows[0]))
    assert reporting["status"] is None and reporting["term"] is None  # defaults and catalogue values stay unwritten
    assert (reporting["clients"], reporting["effort"], reporting["probability"]) == ("exec; pm", 12, 0.8)
    assert reporting["harms"].startswith("[{target: culture, severity: high, reason:")
    organisation = dict(zip(*fields_of(exported / "pmo.xlsx", "Organisation")[::2]))
    assert organisation["target_profile.short"] == 0.4 and organisation["horizons.medium_max_months"] == 12
    assert organisation["assessed_on"] == "2026-03-20"


def test_export_of_an_export_is_the_same_workbook(exported: Path, tmp_path: Path) -> None:
    assert invoke("export", str(exported), "--xlsx", str(tmp_path / "again.xlsx")).exit_code == 0
    assert (tmp_path / "again.xlsx").read_bytes() == (exported / "pmo.xlsx").read_bytes()


def test_a_workbook_exported_again_is_the_same_workbook(workbook_ws: Path, tmp_path: Path) -> None:
    """Headers in words, catalogue entries with their names, notes: all read back to what was written."""
    assert invoke("export", "ws", "--xlsx", str(tmp_path / "again.xlsx")).exit_code == 0
    assert (tmp_path / "again.xlsx").read_bytes() == (workbook_ws / "pmo.xlsx").read_bytes()


def test_export_refuses_bad_input_and_its_own_workspace(make_ws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_ws({"services.yaml": "services:\n  - {id: a, term: soon}\n"}, name="ws")
    monkeypatch.chdir(tmp_path)
    result = invoke("export", "ws", "--xlsx", "out.xlsx")
    assert result.exit_code == 2 and not (tmp_path / "out.xlsx").exists()
    assert result.stderr.splitlines()[0] == "ws/services.yaml:2:13: services.term: should be 'short', 'medium' or 'long' (got 'soon')"
    (tmp_path / "ws" / "services.yaml").write_text("services:\n  - {id: a, term: short}\n")
    result = invoke("export", "ws", "--xlsx", "ws/pmo.xlsx")
    assert result.exit_code == 2 and not (tmp_path / "ws" / "pmo.xlsx").exists()
    assert "the workspace would read as knowledge" in result.stderr


def test_export_keeps_formula_like_text_as_text(make_ws, tmp_path: Path) -> None:
    ws = make_ws({"services.yaml": "services:\n  - {id: a, term: short, description: '=1+1 is not a formula'}\n"})
    assert invoke("export", str(ws), "--xlsx", str(tmp_path / "out.xlsx")).exit_code == 0
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx")["Services"]
    cell = sheet.cell(3, [c.value for c in sheet[1]].index("Description") + 1)
    assert (cell.value, cell.data_type) == ("=1+1 is not a formula", "s")


# ------------------------------------------------------------------ round trip of random workspaces

TRICKY = st.one_of(
    st.sampled_from(["#1 PMO", "# not a note", "=1+1", "=SUM(A1:A3)", "1e16", "1E400", "-1e-7", "0012", "1.50", "+1", "#N/A",
                     "#REF!", "TRUE", "null", "~", "2026-01-01", "[a]", "a; b", "'quoted", "@x", "-", ".5", "1_000"]),
    st.text(alphabet="#=+-.eE0123456789 ab;:[]{}'\"@", min_size=1, max_size=10).map(str.strip).filter(bool),
)


@st.composite
def tricky_workspaces(draw: Any) -> dict[str, str]:
    """A random workspace whose organisation, clients, goals and one service carry names a spreadsheet or the
    workbook reader could take for something else: notes, formulas, numbers, errors, lists."""
    files = draw(workspaces())
    org_file = next(path for path, text in files.items() if text.startswith("# generated workspace\n\norganisation"))
    name = draw(TRICKY)
    for old in ("Acme IT PMO", "Northwind PMO", "PMO: Finance & Ops", "NO"):
        files[org_file] = files[org_file].replace(f"name: {scalar(old)}", f"name: {scalar(name)}", 1)
    texts = [draw(TRICKY) for _ in range(5)]
    effort = ", effort: 1" if any("effort" in text for path, text in files.items() if "services" in path) else ""
    files["tricky.yaml"] = (
        f"clients:\n  - {{id: tx1, name: {scalar(texts[0])}}}\n"
        f"services:\n  - {{id: tricky, term: short{effort}, name: {scalar(texts[1])}, description: {scalar(texts[2])}, "
        f"tags: [{scalar(texts[3])}]}}\n"
        f"goals:\n  - {{id: TG1, name: {scalar(texts[4])}, outcomes: [O26], due_months: 3}}\n")
    return files


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=tricky_workspaces())
def test_export_then_load_gives_the_same_knowledge(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as temp:
        ws = write_workspace(files, Path(temp) / "ws")
        (Path(temp) / "back").mkdir()
        assert invoke("export", str(ws), "--xlsx", str(Path(temp) / "back" / "pmo.xlsx")).exit_code == 0
        assert _plain(load_workspace(Path(temp) / "back", AS_OF)) == _plain(load_workspace(ws, AS_OF))


def _with_stored_result(path: Path, formula: str, result: str) -> None:
    """As a spreadsheet program saves it: the formula's result beside it (openpyxl writes an empty one)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    for name, text in parts.items():
        parts[name] = text.replace(f"<f>{formula}</f><v />".encode(), f"<f>{formula}</f><v>{result}</v>".encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)


def test_a_formula_is_read_by_the_result_the_workbook_stores_and_refused_without_one(workbook_ws: Path) -> None:
    book = openpyxl.load_workbook(workbook_ws / "pmo.xlsx")
    assert (book["Services"]["A4"].value, book["Services"]["J1"].value) == ("methodology", "Effort")
    book["Services"]["J4"] = "=20+20"
    book["Services"]["B4"] = '=CONCAT("Method", "ology")'
    book.save(workbook_ws / "pmo.xlsx")
    with pytest.raises(InputError) as caught:
        load_workspace(workbook_ws)
    assert sorted(str(d.location).split("!", 1)[1] for d in caught.value.diagnostics) == ["Services!B4", "Services!J4"]
    assert all("a formula whose result the workbook does not store" in d.message for d in caught.value.diagnostics)
    book["Services"]["B4"] = "Methodology"
    book.save(workbook_ws / "pmo.xlsx")
    _with_stored_result(workbook_ws / "pmo.xlsx", "20+20", "40")
    kb = load_workspace(workbook_ws)
    assert kb.services["methodology"].effort == 40 and kb.services["methodology"].name == "Methodology"


def test_export_shows_control_characters_as_escapes(tmp_path: Path) -> None:
    """YAML's "\\x01" escape passes the loader (a raw control byte does not); a workbook cannot hold it, and
    openpyxl's refusal ended the export in exit 3."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "pmo.yaml").write_text(
        "organisation: {name: E3 PMO, assessed_on: 2026-03-20, founded: 2025-11-03, context: kickoff}\n"
        "clients:\n  - {id: exec, name: Executives, weight: 0.6}\n"
        'services:\n  - {id: reporting, name: "Weekly\\x01pack", catalogue: S16, probability: 0.8, effort: 22, '
        "clients: [exec]}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["export", str(workspace), "--xlsx", str(tmp_path / "pmo.xlsx")])
    assert result.exit_code == 0, result.output
    names = [row[1] for row in openpyxl.load_workbook(tmp_path / "pmo.xlsx")["Services"].iter_rows(values_only=True)]
    assert "Weekly\\x01pack" in names
