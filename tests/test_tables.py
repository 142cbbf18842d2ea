"""CSV and XLSX knowledge tables: same fields as columns, ';'-separated lists, located errors."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from pmorules.errors import InputError
from pmorules.knowledge import load_workspace
from pmorules.tables import _column_letter, read_csv, read_xlsx


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


SERVICES_CSV = """\
id,name,term,probability,effort,clients,tags,depends_on,harms,outcomes
reporting,Weekly reporting,short,0.8,5,exec; board,control;reporting,tools:soft; methodology,culture:high; O22,O26
tools,Tooling,medium,0.7,3,exec,,,,
methodology,Methodology,long,0.5,4,,,,,
culture,Culture work,long,,2,,,,,
"""


def test_csv_lists_and_short_forms(make_ws) -> None:
    ws = make_ws({"services.csv": SERVICES_CSV, "clients.csv": "id,weight\nexec,0.6\nboard,1\n"})
    kb = load_workspace(ws)
    reporting = kb.services["reporting"]
    assert reporting.clients == ("exec", "board") and reporting.tags == ("control", "reporting")
    assert [(d.target, d.kind) for d in reporting.depends_on] == [("tools", "soft"), ("methodology", "hard")]
    assert [(h.target, h.target_kind, h.severity) for h in reporting.harms] == [
        ("culture", "service", "high"), ("O22", "outcome", "medium"),
    ]
    assert reporting.outcomes == ("O26",) and reporting.probability == 0.8 and reporting.effort == 5
    assert kb.services["tools"].tags == ()  # an empty cell is "not given"
    assert kb.clients["exec"].weight == 0.6
    assert str(reporting.sources["depends_on"]).endswith("services.csv:2")


def test_csv_skips_blank_rows_and_counts_physical_lines(make_ws, errors) -> None:
    ws = make_ws({"services.csv": 'id,term,name\na,short,"two\nlines"\n\n,,\nb,long,x\n'})
    assert list(load_workspace(ws).services) == ["a", "b"]
    assert errors({"services.csv": 'id,term,name\na,short,"two\nlines"\n\nb,soon,x\n'}) == [
        "ws/services.csv:5: services.term: should be 'short', 'medium' or 'long' (got 'soon')"
    ]


def test_csv_errors_cite_file_and_row(errors) -> None:
    assert errors({"services.csv": "id,term,effort,colour\na,short,1,\nb,medium,-2,red\n"}) == [
        "ws/services.csv:3: services.effort: should be greater than or equal to 0 (got '-2')",
        "ws/services.csv:3: unknown key 'colour'",
    ]


def test_csv_reference_errors_cite_the_row(errors) -> None:
    assert errors({"services.csv": "id,term,depends_on\na,short,b:soft\nb,long,\nc,long,tols\n"}) == [
        "ws/services.csv:4: unknown service 'tols'"
    ]


def test_csv_with_bom_and_header_only(make_ws) -> None:
    ws = make_ws({"services.csv": "\ufeffid,term\nx,short\n", "clients.csv": "id,weight\n", "goals.csv": ""})
    kb = load_workspace(ws)
    assert list(kb.services) == ["x"] and kb.clients == {} and kb.goals == {}


def test_csv_file_name_must_name_a_section(errors) -> None:
    assert errors({"stuff.csv": "id\na\n"}) == [
        "ws/stuff.csv: cannot tell which section 'stuff' holds (hint: name it one of organisation, clients, services, goals, outcomes, assessments, actions)"
    ]


def test_csv_not_utf8(errors) -> None:
    assert errors({"services.csv": b"id,name\na,caf\xe9\n"}) == [
        "ws/services.csv:2:6: not UTF-8 text: invalid continuation byte (byte 0xe9)"
    ]


def test_goals_from_csv(make_ws) -> None:
    ws = make_ws({
        "services.csv": "id,term\nreporting,short\n",
        "goals.csv": "id,name,outcomes,services,due_months,priority\nG1,Visibility,O26; O09,reporting,3,2\n",
    })
    goal = load_workspace(ws).goals["G1"]
    assert (goal.outcomes, goal.services, goal.due_months, goal.priority) == (["O26", "O09"], ["reporting"], 3, 2)


def test_read_csv_locator(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("id,term\n\na,short\nb,long\n")
    data, locate = read_csv(path, "services.csv")
    assert data == {"services": [{"id": "a", "term": "short"}, {"id": "b", "term": "long"}]}
    assert str(locate(("services", 1, "term"))) == "services.csv:4"
    assert str(locate(("services",))) == "services.csv:1"


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_sheets_are_sections(make_ws) -> None:
    ws = make_ws({})
    write_xlsx(ws / "knowledge.xlsx", {
        "Clients": [["id", "weight"], ["exec", 0.6]],
        "services": [
            ["id", "term", "probability", "months_to_value", "clients", "depends_on"],
            ["reporting", "short", 0.8, None, "exec", "tools:soft"],
            [None, None, None, None, None, None],
            ["tools", None, 0.7, 5, None, None],
            [12, "long", None, None, None, None],
        ],
    })
    kb = load_workspace(ws)
    assert list(kb.services) == ["reporting", "tools", "12"]
    assert kb.services["tools"].term == "medium" and kb.services["tools"].months == 5
    assert [(d.target, d.kind) for d in kb.services["reporting"].depends_on] == [("tools", "soft")]
    assert kb.clients["exec"].weight == 0.6
    assert kb.services["tools"].sources["months_to_value"].cell == "services!D4"


def test_xlsx_errors_cite_sheet_and_cell(make_ws, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_ws({}, name="ws")
    rows = [["id", "name", "effort", "term"]] + [[f"s{i}", "x", 1, "short"] for i in range(4)]
    rows += [["s9", "x", -1, "soon"]]  # row 6
    rows += [["s10", "x", 2, "long", "stray"]]  # a value under no header is an error, not dropped
    write_xlsx(ws / "k.xlsx", {"services": rows, "clients": [["id", "weight", "name"], ["exec", 2, "Executives"]]})
    monkeypatch.chdir(ws.parent)
    with pytest.raises(InputError) as info:
        load_workspace("ws")
    assert info.value.render().splitlines() == [
        "ws/k.xlsx!clients!B2: clients.weight: should be less than or equal to 1 (got '2')",
        "ws/k.xlsx!services!C6: services.effort: should be greater than or equal to 0 (got '-1')",
        "ws/k.xlsx!services!D6: services.term: should be 'short', 'medium' or 'long' (got 'soon')",
        "ws/k.xlsx!services!E7: a value in column E, which has no header "
        "(hint: name the column in the header row, or delete the value)",
    ]


def test_xlsx_reference_errors_cite_the_cell(make_ws, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_ws({}, name="ws")
    write_xlsx(ws / "k.xlsx", {"services": [["id", "term", "clients"], ["a", "short", "exce"]], "clients": [["id"], ["exec"]]})
    monkeypatch.chdir(ws.parent)
    with pytest.raises(InputError) as info:
        load_workspace("ws")
    assert info.value.render() == "ws/k.xlsx!services!C2: unknown client 'exce' (hint: did you mean 'exec'?)"


def test_xlsx_unknown_sheet_and_broken_workbook(make_ws, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_ws({"broken.xlsx": b"not a zip"}, name="ws")
    write_xlsx(ws / "k.xlsx", {"Sheet1": [["id"], ["a"]], "services": [["id", "term"], ["a", "short"]]})
    monkeypatch.chdir(ws.parent)
    with pytest.raises(InputError) as info:
        load_workspace("ws")
    assert info.value.render().splitlines() == [
        "ws/broken.xlsx: cannot read workbook: File is not a zip file",
        "ws/k.xlsx!Sheet1!A1: cannot tell which section 'Sheet1' holds "
        "(hint: name it one of organisation, clients, services, goals, outcomes, assessments, actions)",
    ]


def test_read_xlsx_empty_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "k.xlsx", {"services": []})
    data, locate = read_xlsx(path, "k.xlsx")
    assert data == {}
    assert str(locate(("services", 0))) == "k.xlsx"


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (2, "C"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(index: int, letters: str) -> None:
    assert _column_letter(index) == letters


def test_yaml_csv_and_xlsx_combine_and_clash(make_ws, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = make_ws({"a.yaml": "services:\n  - {id: a, term: short}\n", "services.csv": "id,term\nb,long\nA,short\n"}, name="ws")
    write_xlsx(ws / "k.xlsx", {"services": [["id", "term"], ["c", "medium"]]})
    monkeypatch.chdir(ws.parent)
    with pytest.raises(InputError) as info:
        load_workspace("ws")
    assert info.value.render() == "ws/services.csv:3: service id 'A' is defined twice (first at ws/a.yaml:2:5)"
    (ws / "services.csv").write_text("id,term\nb,long\n")
    assert list(load_workspace("ws").services) == ["a", "c", "b"]  # files in name order: a.yaml, k.xlsx, services.csv


def rewrite(path: Path, member: str, change) -> Path:
    """Change one part of a saved workbook, as a damaged or hand-made file would have it."""
    import zipfile

    with zipfile.ZipFile(path) as book:
        parts = {info.filename: book.read(info) for info in book.infolist()}
    parts[member] = change(parts[member].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return path


def _sheet_data(rows: str):
    return lambda xml: xml[: xml.index("<sheetData")] + f"<sheetData>{rows}</sheetData>" + xml[xml.index("</sheetData>") + 12:]


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _errors_of(ws: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_workspace(ws)
    return [line.replace(f"{ws}/", "") for line in info.value.render().splitlines()]


def test_rows_that_all_claim_one_number_are_refused(make_ws) -> None:
    ws = make_ws({})
    path = write_xlsx(ws / "k.xlsx", {"services": [["id", "term"], ["x", "short"]]})
    rows = f'<row r="1">{_cell("A1", "id")}{_cell("B1", "term")}</row>' + "".join(
        f'<row r="2">{_cell("A2", f"s{i}")}{_cell("B2", "short")}</row>' for i in range(5))
    rewrite(path, "xl/worksheets/sheet1.xml", _sheet_data(rows))
    assert _errors_of(ws) == ["k.xlsx!services!A2: row 2 comes again after row 2: the sheet is damaged"]


def test_cells_that_all_claim_one_place_are_refused(make_ws) -> None:
    ws = make_ws({})
    path = write_xlsx(ws / "k.xlsx", {"services": [["id", "term"], ["x", "short"]]})
    rows = '<row r="1">' + "".join(_cell("A1", f"c{i}") for i in range(3000)) + "</row>"
    rewrite(path, "xl/worksheets/sheet1.xml", _sheet_data(rows))
    assert _errors_of(ws) == ["k.xlsx!services!A1: cell A1 comes again in its row: the sheet is damaged"]


def test_sheets_whose_names_differ_only_in_case_are_an_error(make_ws) -> None:
    ws = make_ws({})
    path = write_xlsx(ws / "k.xlsx", {"services": [["id", "term"], ["a", "short"]], "Services1": [["id", "term"], ["b", "long"]]})
    rewrite(path, "xl/workbook.xml", lambda xml: xml.replace('name="Services1"', 'name="Services"'))
    assert _errors_of(ws) == [
        "k.xlsx!Services!A1: sheets 'services' and 'Services' both hold the services (sheet names are read without case) "
        "(hint: move the rows into one sheet and delete the other)"]


def test_an_excel_error_value_is_an_error_where_it_is(make_ws) -> None:
    ws = make_ws({})
    write_xlsx(ws / "k.xlsx", {"services": [["id", "term", "effort"], ["a", "short", 1], ["#N/A", "long", 2], ["c", "long", "#REF!"]]})
    found = set(_errors_of(ws))
    named = {"k.xlsx!services!A3: id: the cell holds the Excel error #N/A (hint: enter the value itself, or clear the cell)",
             "k.xlsx!services!C4: effort: the cell holds the Excel error #REF! (hint: enter the value itself, or clear the cell)"}
    assert named <= found  # (and what follows from the missing values)


def test_text_cells_are_text_and_number_cells_meet_the_number_policy(make_ws) -> None:
    ws = make_ws({})
    write_xlsx(ws / "k.xlsx", {"services": [["id", "name", "term", "effort"], ["a", "1e16", "short", 1], ["b", "1e400", "short", 1]]})
    kb = load_workspace(ws)
    assert (kb.services["a"].name, kb.services["b"].name) == ("1e16", "1e400")
    write_xlsx(ws / "k.xlsx", {"services": [["id", "term", "effort"], ["a", "short", 1e16]]})
    assert _errors_of(ws) == ["k.xlsx!services!C2: effort: 1e+16 is out of range (numbers are at most 1e+15 in size)"]


def test_a_hash_is_a_note_only_in_the_id_column_or_over_the_pmo_s_row(make_ws) -> None:
    ws = make_ws({})
    write_xlsx(ws / "k.xlsx", {
        "organisation": [["name", "age_months"], ["# the notes row", "# months"], ["#1 PMO", 4]],
        "services": [["id", "name", "term"], ["# a note", "", ""], ["a", "#1 service", "short"]],
    })
    kb = load_workspace(ws)
    assert kb.organisation.name == "#1 PMO" and kb.services["a"].name == "#1 service"
    write_xlsx(ws / "k.xlsx", {"organisation": [["name", "age_months"], ["#1 PMO", 4]]})
    assert load_workspace(ws).organisation.name == "#1 PMO"  # its only row is the PMO, not a note
