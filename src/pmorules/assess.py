"""``pmorules assess``: an assessment round with subject-matter experts.

Forms out: one workbook per expert (``write_forms``), a sheet ``Assessments``
with one row per service to rate, its context in words (what it does, for
whom, what it is meant to deliver, the goals it serves) and cells for the
expert's term or months to value, probability, confidence and comment, and
the catalogue's reference sheets (workbook.py) to look things up in. A
second round's forms show the first round's ratings of each service without
names, and its comments.

Ratings in (``collect``): every form in a folder is read as a knowledge table
(tables.py: the same bounds and located errors, ``DIR/r-okafor.xlsx!Assessments!E7``)
and validated against the knowledge format; then the ratings are merged into
``assessments.yaml`` in the workspace, a normal knowledge file this command
owns (the ``assessments`` section), written by the one writer (output.py).
Collecting the same forms again writes nothing. The consensus table shows the
figures of knowledge/consensus.py, the ones the rules, the mix and the report
read; a service needs a second round when a finding reads its experts'
disagreement (a rule over the ``assessment_*`` fields), never by a threshold
of this module.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .analysis import Analysis, analyze
from .estimates import consensus_rows, second_round
from .errors import Diagnostic, InputError, Location, did_you_mean
from .inputs import decode_text, list_folder, read_input
from .knowledge import KnowledgeBase, Service, knowledge_files, load_workspace
from .knowledge.consensus import consensus, counted, expert_key, term_of
from .knowledge.consensus import rated as rated_figure
from .knowledge.load import _friendly
from .knowledge.spec import Horizons, KnowledgeFile, ServiceAssessment
from .config import load_config
from .output import check_output, write_output
from .tables import NOTE, column_name, parse_xlsx
from .text import count_noun, num, pct, pct_exact, printable
from .vocabulary import CONSENSUS_WORDS, Confidence, Term
from .workbook import NOTE_SIZE, add_reference_sheets, book_bytes, notes_height, workspace_knowledge
from .yamlio import dump_yaml, locate, parse_yaml

SHEET = "Assessments"
OWNED = "assessments.yaml"
MARKER = "# Written by pmorules assess --collect"
HEADER = (f"{MARKER}: the experts' ratings, merged from their forms.\n"
          "# Collect the forms again rather than editing this file; a rating of your own belongs on the service\n"
          "# (services[].assessments), which this command never changes.\n")
MAX_EXPERTS = 100
FIRST_ROW = 3  # header, notes, then one row per service

RATING = ("term", "months_to_value", "probability", "confidence", "comment")  # what the expert fills in


@dataclass(frozen=True)
class Column:
    label: str  # the header, in words
    field: str | None  # the knowledge field it holds (None: context, not read back)
    width: int
    note: str
    filled: bool = False  # the expert writes in it (unlocked)


def _columns(blind: bool, round_: int, horizons: Horizons | None = None) -> list[Column]:
    horizons = horizons or Horizons()
    columns = [
        Column("Service", "service", 14, "The service's id in the workspace (do not change it)."),
        Column("Name", None, 30, "The service, as the PMO calls it."),
        Column("Term", "term", 11, "When its value is first perceived after the service starts: short (within "
               f"{horizons.short_max_months:g} months), medium (within {horizons.medium_max_months:g}) or long (later). "
               "Or give the months in the next column.", True),
        Column("Months to value", "months_to_value", 12, "Months from the start of the service until its value is "
               "perceived (0 to 600), instead of a term.", True),
        Column("Probability", "probability", 12, "How likely it is to deliver the value expected of it: 0% to 100%.",
               True),
        Column("Confidence", "confidence", 12, "How sure you are: low, medium or high.", True),
        Column("Comment", "comment", 40, "Your reasons, in a sentence or two: what would make it work or fail.", True),
    ]
    if not blind:
        columns.append(Column("Current estimate", None, 26, "What the PMO assumes today: a hint, not an answer."))
    if round_ > 1:
        columns += [
            Column(f"Round {round_ - 1} ratings", None, 34, f"Where the experts stand after round {round_ - 1} (each "
                   "one's latest figures), without names: revise your rating if their view convinces you, or keep it "
                   "and say why."),
            Column(f"Round {round_ - 1} comments", None, 40, f"The comments of round {round_ - 1}, without names."),
        ]
    columns += [
        Column("Description", None, 40, "What the service does."),
        Column("For whom", None, 26, "The PMO's clients whose view of its value this service serves."),
        Column("Meant to deliver", None, 36, "The outcomes it is meant to deliver."),
        Column("Goals it serves", None, 36, "The goals of the PMO's clients it contributes to."),
        Column("Expert", "by", 20, "Who rates (do not change it)."),
        Column("Round", "round", 8, "The round of this assessment (do not change it)."),
    ]
    return columns


# ------------------------------------------------------------------ experts and file names


def parse_experts(text: str) -> list[str]:
    """The experts named in ``--experts "R. Okafor; J. Lin"``; every problem located at the option."""
    where = Location("--experts")
    names = [" ".join(name.split()) for name in text.split(";")]
    names = [name for name in names if name]
    problems = []
    if not names:
        problems.append(Diagnostic(where, "names no expert", 'separate the names with ";": "R. Okafor; J. Lin"'))
    if len(names) > MAX_EXPERTS:
        problems.append(Diagnostic(where, f"names {len(names)} experts; at most {MAX_EXPERTS} per round"))
    seen: dict[str, str] = {}
    files: dict[str, str] = {}
    for index, name in enumerate(names, start=1):
        if len(name) > 200:
            problems.append(Diagnostic(where, f"expert {index}: a name of at most 200 characters"))
        if printable(name) != name:
            problems.append(Diagnostic(where, f"expert {index} ({printable(name)}): a name may not hold control "
                                              "characters"))
        if expert_key(name) in seen:
            problems.append(Diagnostic(where, f"{name!r} is named twice"))
            continue
        seen[expert_key(name)] = name
        file = form_file(name, index)
        if file in files:
            problems.append(Diagnostic(where, f"{name!r} and {files[file]!r} would get the same form ({file})",
                                       "tell them apart in the names, e.g. with an initial"))
        files[file] = name
    if problems:
        raise InputError(problems)
    return names


def form_file(name: str, index: int) -> str:
    """The form's file name: the expert's name in lower-case letters and digits joined by '-' (``r-okafor.xlsx``)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = "-".join(re.findall(r"[a-z0-9]+", ascii_name))[:60].strip("-")
    return f"{slug or f'expert-{index}'}.xlsx"


KEYWORDS = {  # what --services may name besides service ids: a set of services, by what is known of them
    "disagreement": "the services a finding says their experts disagree on",
    "unassessed": "the services no expert has rated yet",
}


def _services(kb: KnowledgeBase, chosen: str | None, disagreeing: Callable[[], set[str]]) -> list[Service]:
    """The services to rate: those not retired, in the workspace's order, or those ``--services`` names (by id, or
    by a keyword of ``KEYWORDS``; a service whose id is the keyword is that service)."""
    rated = [s for s in kb.services.values() if s.status != "retired"]
    if chosen is None:
        return rated
    by_key = {s.id.lower(): s for s in kb.services.values()}
    picked, problems = [], []
    for ref in (part.strip() for part in re.split(r"[;,]", chosen)):
        if not ref:
            continue
        if ref.lower() in by_key:
            found = [by_key[ref.lower()]]
        elif ref.lower() == "disagreement":
            disagreed = disagreeing()  # an analysis: only when asked for
            found = [s for s in rated if s.id in disagreed]
        elif ref.lower() == "unassessed":
            found = [s for s in rated if not any(map(rated_figure, s.assessments))]
        else:
            problems.append(Diagnostic(Location("--services"), f"unknown service {ref!r}",
                                       did_you_mean(ref, [*by_key, *KEYWORDS])))
            continue
        picked += [s for s in found if s not in picked]
    if not picked and not problems:
        problems.append(Diagnostic(Location("--services"), "names no service to rate",
                                   "separate the ids with ','; " + "; ".join(f"{k}: {v}" for k, v in KEYWORDS.items())))
    if problems:
        raise InputError(problems)
    order = list(kb.services.values())
    return sorted(picked, key=order.index)


# ------------------------------------------------------------------ forms out


def _months_text(value: float) -> str:
    return f"{num(value)} month" + ("" if value == 1 else "s")


def _current(service: Service) -> str:
    probability = pct(service.probability) + ("" if service.probability_given else " (a default)")
    return f"{service.term}, {_months_text(service.months_to_value)} to value; probability {probability}"


def distribution(service: Service, round_: int, kb: KnowledgeBase) -> tuple[str, str]:
    """Where the experts stand after a round (each one's latest figures, as the consensus counts them), without
    names, and that round's comments (sorted, so no order gives anyone away)."""
    earlier = [a for a in service.assessments if a.round <= round_]
    agreed = consensus(earlier, "median", kb.horizons)
    if agreed is None:
        return f"no ratings by round {round_}", ""
    parts = [count_noun(len(agreed.assessors), "expert")]
    terms: dict[str, int] = {}
    for assessment in counted(earlier):
        if (term := term_of(assessment, kb.horizons)) is not None:
            terms[term] = terms.get(term, 0) + 1
    if terms:
        parts.append("terms " + ", ".join(f"{t} {terms[t]}" for t in ("short", "medium", "long") if t in terms))
    if agreed.months_range is not None:
        low, high = agreed.months_range
        parts.append(f"months to value {num(low)}" if low == high else
                     f"months to value {num(low)} to {num(high)} (median {num(agreed.months or 0)})")
    if agreed.probability_range is not None:
        low, high = agreed.probability_range
        parts.append(f"probability {pct(low)}" if low == high else
                     f"probability {pct(low)} to {pct(high)} (median {pct(agreed.probability or 0)})")
    comments = sorted({" ".join(a.comment.split()) for a in service.assessments if a.round == round_ and a.comment})
    return "; ".join(parts), "\n".join(f"- {comment}" for comment in comments)


def _context(service: Service, kb: KnowledgeBase, descriptions: dict[str, str]) -> dict[str, str]:
    goals = [g.name or g.id for g in kb.goals.values()
             if service.id in g.services or set(g.outcomes) & set(service.outcomes)]
    return {
        "Name": service.name,
        "Description": descriptions.get(service.id.lower(), ""),
        "For whom": "; ".join(kb.clients[c].name or c for c in service.clients if c in kb.clients),
        "Meant to deliver": "; ".join(kb.outcomes[o].name or o for o in service.outcomes if o in kb.outcomes),
        "Goals it serves": "; ".join(goals),
    }


def _descriptions(workspace: Path, shown: str, kb: KnowledgeBase) -> dict[str, str]:
    """Each service's description: the workspace's own, else the catalogue's."""
    from .knowledge.catalogue import load_catalogue

    catalogue = load_catalogue()
    found = {s.id.lower(): catalogue.services[s.catalogue].description or ""
             for s in kb.services.values() if s.catalogue in catalogue.services}
    for spec in workspace_knowledge(workspace, shown).services:
        if spec.description:
            found[spec.id.lower()] = spec.description
    return found


def _cell_text(value: Any) -> Any:
    """Workspace text for a cell: control characters shown as escapes (a workbook cannot hold them)."""
    return printable(value, lines=True) if isinstance(value, str) else value


def form_bytes(expert: str, services: list[Service], kb: KnowledgeBase, descriptions: dict[str, str],
               blind: bool, round_: int) -> bytes:
    """One expert's form, the same bytes for the same workspace and options."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = _columns(blind, round_, kb.horizons)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    last = FIRST_ROW + max(len(services), 1) - 1
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        head = sheet.cell(1, index, column.label)
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor="FFF2CC" if column.filled else "DCE6F2")
        head.alignment = Alignment(wrap_text=True, vertical="top")
        note = sheet.cell(2, index, (f"{NOTE} " if index == 1 else "") + column.note)
        note.font = Font(italic=True, color="667085", size=NOTE_SIZE)
        note.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = column.width
        validation = _validation(column, DataValidation)
        if validation is not None:
            validation.add(f"{letter}{FIRST_ROW}:{letter}{last}")
            sheet.add_data_validation(validation)
    sheet.row_dimensions[2].height = notes_height([(c.note, c.width) for c in columns])
    labels = [c.label for c in columns]
    for number, service in enumerate(services, start=FIRST_ROW):
        values: dict[str, Any] = _context(service, kb, descriptions) | {
            "Service": service.id, "Expert": expert, "Round": round_}
        if not blind:
            values["Current estimate"] = _current(service)
        if round_ > 1:
            ratings, comments = distribution(service, round_ - 1, kb)
            values[f"Round {round_ - 1} ratings"] = ratings
            values[f"Round {round_ - 1} comments"] = comments
        lines = 1
        for index, column in enumerate(columns, start=1):
            cell = sheet.cell(number, index, _cell_text(values.get(column.label)))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
                lines = max(lines, sum(len(line) // max(column.width, 1) + 1 for line in cell.value.split("\n")))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if column.filled:
                cell.protection = Protection(locked=False)
                cell.fill = PatternFill("solid", fgColor="FFFBEA")
            if column.field == "probability":
                cell.number_format = "0%"
        sheet.row_dimensions[number].height = min(300, 15 * min(lines, 20))
    sheet.freeze_panes = sheet.cell(FIRST_ROW, labels.index("Term") + 1).coordinate
    sheet.protection.sheet = True  # only the rating cells can be changed; columns and rows may still be resized
    sheet.protection.formatColumns = sheet.protection.formatRows = False
    add_reference_sheets(book)
    return book_bytes(book)


def _validation(column: Column, validation_type: Any) -> Any:
    bounds = {"months_to_value": ("0", "600", "a number of months from 0 to 600"),
              "probability": ("0", "1", "a probability from 0% to 100%")}
    vocabularies = {"term": Term, "confidence": Confidence}
    if column.field in vocabularies:
        choices = '"' + ",".join(vocabularies[column.field].meanings()) + '"'
        return validation_type(type="list", formula1=choices, allow_blank=True, showErrorMessage=True,
                               errorTitle=column.label, error=f"Choose a value from the list for {column.label}.",
                               showInputMessage=True, promptTitle=column.label, prompt=column.note[:255])
    if column.field in bounds:
        low, high, what = bounds[column.field]
        return validation_type(type="decimal", operator="between", formula1=low, formula2=high, allow_blank=True,
                               showErrorMessage=True, errorTitle=column.label, error=f"Give {what}.",
                               showInputMessage=True, promptTitle=column.label, prompt=column.note[:255])
    return None


def _forms_folder(workspace: Path, folder: Path, option: str) -> None:
    """Forms may not lie where the workspace reads knowledge: they would be read as knowledge files."""
    real = folder.resolve()
    if real in (workspace.resolve(), (workspace / "knowledge").resolve()):
        raise InputError([Diagnostic(Location(str(folder)), "the workspace would read the forms as knowledge files",
                                     f"give {option} a folder of its own, e.g. {workspace / 'round-1'}")])


def write_forms(workspace: Path, shown: str, experts: list[str], folder: Path, today: dt.date | None, blind: bool,
                chosen: str | None, round_: int) -> list[Path]:
    """Write one form per expert into ``folder`` (created if missing, its parent must exist); never replace a file
    there (it may be a filled form). Every problem is reported before anything is written."""
    kb = load_workspace(workspace, today, shown)
    services = _services(kb, chosen, lambda: set(second_round(analyze(workspace, today))))
    _forms_folder(workspace, folder, "-o")
    targets = [folder / form_file(name, index) for index, name in enumerate(experts, start=1)]
    problems = [Diagnostic(Location(str(t)), "exists: it may be a filled form, and is not replaced",
                           "write this round's forms to a new folder") for t in targets if t.exists() or t.is_symlink()]
    if folder.exists() and not folder.is_dir():
        problems = [Diagnostic(Location(str(folder)), "exists and is not a folder")]
    elif not folder.exists() and not folder.parent.is_dir():
        problems.append(Diagnostic(Location(str(folder)), f"its folder {folder.parent} does not exist"))
    if problems:
        raise InputError(problems)
    descriptions = _descriptions(workspace, shown, kb)
    forms = [form_bytes(name, services, kb, descriptions, blind, round_) for name in experts]
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError([Diagnostic(Location(str(folder)), exc.strerror or str(exc))]) from None
    protected = load_config(workspace, shown).config.inputs(workspace, knowledge_files(workspace))  # the one list
    for target, data in zip(targets, forms):
        write_output(target, data, protected)
    return targets


# ------------------------------------------------------------------ ratings in


@dataclass
class Collection:
    """What one collection did."""

    forms: list[str] = field(default_factory=list)  # the forms merged
    skipped: list[str] = field(default_factory=list)  # forms left out (--partial) for their errors
    ratings: int = 0  # ratings read from the merged forms
    withdrawn: int = 0  # ratings kept before that a merged form now leaves blank (the expert took them back)
    changed: bool = False  # whether assessments.yaml was written
    owned: str = ""
    problems: list[Diagnostic] = field(default_factory=list)


Rated = tuple[ServiceAssessment, Location]  # a rating and the cell of its service


def _number(value: Any) -> float | None:
    """A cell's value as a number, when it is one (a form's cells come as text or numbers)."""
    try:
        return float(str(value))
    except ValueError:
        return None


def _other_name(record: dict[str, Any], service: str, kb: KnowledgeBase, locate: Callable, index: int) -> Diagnostic | None:
    """The problem of a form's row whose Name column names the service otherwise than the workspace does."""
    written, name = record.get(column_name("Name")), _cell_text(kb.services[service].name)
    if not written or " ".join(str(written).split()) == " ".join(name.split()):
        return None
    return Diagnostic(locate(("assessments", index, column_name("Name"))), f"the form names {service!r} {str(written)!r}, the "
                      f"workspace {name!r}", "a form of another workspace? If the service was renamed since the form "
                      "was written, type its name as the workspace gives it")


def _current_id(kb: KnowledgeBase) -> Callable[[str], str | None]:
    """A service id as written on a form or in assessments.yaml, as the workspace calls the service now (through
    a rename with ``was``); None for a service it does not have."""
    ids = {s.lower(): s for s in kb.services}
    renamed = {s.was.lower(): s.id for s in kb.services.values() if s.was and s.was.lower() not in ids}
    return lambda ref: ids.get(ref.lower()) or renamed.get(ref.lower())


_CONTEXT = re.compile(r"round_\d+_(ratings|comments)")  # the previous round's columns of a later round's form


def _header(data: bytes) -> set[str]:
    """The column names of the form's Assessments sheet (a row's record leaves its blank cells out)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        row = next(book[SHEET].iter_rows(min_row=1, max_row=1, values_only=True), ())
        return {column_name(str(cell or "").strip()) for cell in row}
    finally:
        book.close()


def _columns_problem(records: list[dict[str, Any]], present: set[str], display: str, locate: Callable
                     ) -> Diagnostic | None:
    """A form whose columns were renamed or deleted: its ratings cannot all be read (a renamed Probability column
    dropped every probability of the form, and withdrew ratings left with nothing else, without a word)."""
    wanted = [c.label for c in _columns(blind=False, round_=1) if c.field and column_name(c.label) not in present]
    if wanted:
        return Diagnostic(Location(display), f"the {SHEET} sheet has no column {', '.join(map(repr, wanted))}",
                          "a renamed or deleted column cannot be read: restore its header, or write the forms again")
    known = {column_name(c.label) for blind in (True, False) for c in _columns(blind, 1)}
    for index, record in enumerate(records):
        for name, value in record.items():
            if name not in known and not _CONTEXT.fullmatch(name) and value not in (None, ""):
                return Diagnostic(locate(("assessments", index, name)), f"a column pmorules does not read ({name!r}) "
                                  "holds a value", "write ratings in the form's own columns; put remarks under Comment")
    return None


def _read_form(path: Path, display: str, kb: KnowledgeBase
               ) -> tuple[list[Rated], list[Diagnostic], set[tuple[str, str, int]]]:
    """The ratings of one form (with where each is), or the problems of its cells; and the services it lists
    unrated (service, expert, round), so that a rating cleared on the form is withdrawn."""
    try:
        data = read_input(path, display)
        sections, locate, problems = parse_xlsx(data, display, blanks_allowed=True)
    except InputError as exc:
        return [], exc.diagnostics, set()
    problems = list(problems)
    other = sorted(set(sections) - {"assessments"})
    if other:
        problems.append(Diagnostic(Location(display), f"a form holds only the {SHEET} sheet, not {', '.join(other)}"))
    if "assessments" not in sections:
        problems.append(Diagnostic(Location(display), f"no {SHEET} sheet", "collect the forms pmorules assess wrote"))
        return [], problems, set()
    labels = {column_name(c.label): c.field for c in _columns(blind=False, round_=1) if c.field}  # as tables reads them
    field_label = {v: k for k, v in labels.items()}
    if problem := _columns_problem(sections["assessments"], _header(data), display, locate):
        return [], problems + [problem], set()
    ratings, unrated = [], set()
    current = _current_id(kb)
    for index, record in enumerate(sections["assessments"]):
        given = {labels[label]: value for label, value in record.items() if label in labels}
        for name in ("term", "confidence"):  # a drop-down's word typed with a capital ("Medium") is the word
            if isinstance(given.get(name), str):
                given[name] = given[name].strip().lower()
        if not any(name in given for name in RATING):  # a service the expert did not rate, or no longer does
            service = current(given["service"]) if isinstance(given.get("service"), str) else None
            if service is not None and isinstance(given.get("by"), str):
                if (mismatch := _other_name(record, service, kb, locate, index)) is not None:
                    problems.append(mismatch)
                    continue
                number = given.get("round") or 1
                unrated.add((service.lower(), expert_key(given["by"]), int(number) if str(number).isdigit() else 1))
            continue
        try:
            rating = ServiceAssessment.model_validate(given)
        except ValidationError as exc:
            for error in exc.errors():
                name = next((str(p) for p in error["loc"] if isinstance(p, str)), "service")
                message, hint = _friendly(error)
                given_number, typed = _number(error.get("input")), str(error.get("input", "")).strip()
                if name == "probability" and given_number is not None and 2 <= given_number <= 100:
                    hint = f"a probability is from 0 to 1: {given_number:g}% is {given_number / 100:g}"
                elif name == "probability" and typed.endswith("%") and (share := _number(typed[:-1])) is not None:
                    hint = f"type it as a number: {share:g}% is {share / 100:g} (or format the cell as a percentage)"
                problems.append(Diagnostic(locate(("assessments", index, field_label.get(name, "Service"))), message, hint))
            continue
        service_id = current(rating.service)  # through a rename since the form was written
        if service_id is None:
            problems.append(Diagnostic(locate(("assessments", index, "Service")), f"unknown service {rating.service!r}",
                                       did_you_mean(rating.service, list(kb.services))))
            continue
        if (mismatch := _other_name(record, service_id, kb, locate, index)) is not None:
            problems.append(mismatch)
            continue
        ratings.append((rating.model_copy(update={"service": service_id}), locate(("assessments", index, "Service"))))
    return ratings, problems, unrated


def _owned(workspace: Path, shown: str) -> tuple[Path, str, list[ServiceAssessment], bytes | None]:
    """The file this command owns in the workspace and the ratings it holds; a file of someone else's is refused."""
    path = workspace / OWNED
    display = str(Path(shown) / OWNED)
    if not (path.exists() or path.is_symlink()):
        return path, display, [], None
    data = read_input(path, display, inside=workspace)
    text = decode_text(data, display)
    if not text.startswith(MARKER):
        raise InputError([Diagnostic(Location(display, 1, 1), "was not written by pmorules assess, so it is not "
                                     "replaced", f"rename it: {OWNED} holds the ratings collected from the forms")])
    raw = parse_yaml(text, display) or {}
    foreign = [key for key in raw if key != "assessments"] if isinstance(raw, dict) else []
    if foreign:  # the loader reads any section here; collecting rewrote the file with the ratings alone
        raise InputError([Diagnostic(locate(raw, (key,), display), f"{key!r} is written in the file pmorules assess "
                                     "replaces with the ratings it collects, so it would be lost",
                                     f"move it to another knowledge file; {OWNED} holds the ratings only")
                          for key in foreign])
    return path, display, list(KnowledgeFile.model_validate(raw).assessments), data


def _key(rating: ServiceAssessment) -> tuple[str, str, int]:
    return rating.service.lower(), expert_key(rating.by), rating.round


def _same(a: ServiceAssessment, b: ServiceAssessment) -> bool:
    keep = ("by", "service", *RATING, "round")
    return a.model_dump(include=set(keep)) == b.model_dump(include=set(keep))


def _file_text(ratings: list[ServiceAssessment], kb: KnowledgeBase) -> str:
    order = {s.lower(): i for i, s in enumerate(kb.services)}
    ratings = sorted(ratings, key=lambda r: (order.get(r.service.lower(), len(order)), r.service.lower(), r.round,
                                             expert_key(r.by)))
    items = []
    for rating in ratings:
        item: dict[str, Any] = {"service": rating.service, "by": rating.by, "round": rating.round}
        for name in (*RATING, "date"):
            value = getattr(rating, name)
            if value is not None:
                item[name] = value
        items.append(item)
    body = dump_yaml({"assessments": items}, width=100, default_flow_style=False)
    return HEADER + body


OTHER_SHEETS = (".ods", ".xlsm", ".xls", ".xlsb", ".csv", ".numbers")  # a form saved in another format


def collect(workspace: Path, shown: str, folder: Path, today: dt.date | None, stamp: dt.date, partial: bool) -> Collection:
    """Read every form in ``folder`` and merge the ratings into the workspace's assessments.yaml, the workspace
    judged as of ``today`` (None: the date of its data), each new or revised rating dated ``stamp``.

    Every problem of every form is reported at once, and nothing is written when there is one, unless
    ``partial``: then the valid forms are merged and the problems returned."""
    kb = load_workspace(workspace, today, shown)
    owned, display, kept, before = _owned(workspace, shown)
    result = Collection(owned=display)
    if not folder.is_dir():
        raise InputError([Diagnostic(Location(str(folder)), "no such folder of forms")])
    _forms_folder(workspace, folder, "--collect")
    listed = [e for e in list_folder(folder, str(folder)) if not e.name.startswith((".", "~$"))]
    entries = sorted((e for e in listed if e.name.lower().endswith(".xlsx")), key=lambda e: e.name)
    for entry in sorted((e for e in listed if e.name.lower().endswith(OTHER_SHEETS)), key=lambda e: e.name):
        result.problems.append(Diagnostic(Location(str(folder / entry.name)), "not read: a form is read as .xlsx only",
                                          "save it as an Excel workbook (.xlsx)"))  # it was skipped without a word
        result.skipped.append(str(folder / entry.name))
    if not entries and not result.problems:
        raise InputError([Diagnostic(Location(str(folder)), "holds no forms (.xlsx)",
                                     "give the folder pmorules assess -o wrote the forms to")])
    collected: dict[tuple[str, str, int], Rated] = {}
    withdrawn: set[tuple[str, str, int]] = set()  # listed on a form, rated before, blank now
    for entry in entries:
        display_form = str(folder / entry.name)
        ratings, problems, unrated = _read_form(Path(entry.path), display_form, kb)
        seen: dict[tuple[str, str, int], Location] = {}
        for rating, where in ratings:
            first = collected.get(_key(rating), (None, None))[1] or seen.get(_key(rating))
            if first is not None:
                problems.append(Diagnostic(where, f"{rating.by} rates {rating.service} in round {rating.round} "
                                                  f"twice (also at {first})"))
            seen[_key(rating)] = where
        if problems:
            result.problems += problems
            result.skipped.append(display_form)
            continue
        for rating, where in ratings:
            collected[_key(rating)] = (rating, where)
        withdrawn |= unrated
        result.forms.append(display_form)
        result.ratings += len(ratings)
    if result.problems and not partial:
        raise InputError(result.problems)
    current = _current_id(kb)  # a rating already in the file, under the id the service has now
    kept = [r.model_copy(update={"service": current(r.service)}) if current(r.service) else r for r in kept]
    merged = []
    for rating in kept:  # each one kept, unless a form rates it anew or left it blank
        if _key(rating) in collected:
            continue
        if _key(rating) in withdrawn:
            result.withdrawn += 1
            continue
        merged.append(rating)
    before_by_key = {_key(r): r for r in kept}
    for key, (rating, _) in collected.items():
        old = before_by_key.get(key)
        merged.append(old if old is not None and _same(old, rating) else rating.model_copy(update={"date": stamp}))
    text = _file_text(merged, kb)
    data = text.encode("utf-8")
    KnowledgeFile.model_validate(parse_yaml(text, display))  # the file the loader will read obeys the format
    if data != before and (merged or before is not None):
        analysis = analyze(workspace, today)
        inputs = analysis.inputs()  # the one list, less the file this command owns (new or its own)
        protected = replace(inputs, files=tuple(f for f in inputs.files if Path(f).resolve() != owned.resolve()),
                            knowledge_folders=())
        check_output(owned, protected)
        write_output(owned, data, protected)
        result.changed = True
    return result


# ------------------------------------------------------------------ the consensus table


def _range(low_high: tuple[float, float] | None, show: Any) -> str:
    if low_high is None:
        return "-"
    low, high = low_high
    return show(low) if low == high else f"{show(low)} to {show(high)}"


def consensus_text(analysis: Analysis) -> str:
    """The consensus table for the terminal (names shown as escapes where they hold control characters)."""
    rows = consensus_rows(analysis)
    if not rows:
        return "No service has an expert assessment yet.\n"
    method = rows[0]["method"]
    table = [("Service", "Experts", "Round", "Term (months to value)", "Probability", "Farthest from the consensus",
              "Second round")]
    for row in rows:
        term = f"{row['term']} {num(row['months'])} ({_range(row['months_range'], num)})" if row["term"] else "-"
        probability = (f"{pct_exact(row['probability'])} ({_range(row['probability_range'], pct)})"
                       if row["probability"] is not None else "-")
        farthest = [f"{name} (probability)" for name in row["farthest_probability"]] + \
                   [f"{name} (months)" for name in row["farthest_months"]]
        table.append((row["name"], str(len(row["experts"])), str(row["rounds"]), term, probability,
                      "; ".join(farthest) or "-", "yes" if row["second_round"] else "no"))
    table = [tuple(printable(cell) for cell in line) for line in table]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    widths[0] = min(36, widths[0])  # a long service name is cut; who is farthest from the consensus never is
    lines = [f"Consensus of the experts ({CONSENSUS_WORDS[method]}; range in brackets):", ""]
    for line in table:
        cells = [(cell if len(cell) <= width else cell[: width - 1] + "…").ljust(width) for cell, width in zip(line, widths)]
        lines.append("  ".join(cells).rstrip())
    again = [row for row in rows if row["second_round"]]
    if again:
        lines += ["", "A second round would help with:"]
        lines += [f"- {printable(row['name'])}: {printable(' '.join(row['second_round']))}" for row in again]
    return "\n".join(lines) + "\n"
