"""Load a workspace into a resolved, cross-checked KnowledgeBase.

Reads every knowledge file (YAML, CSV, XLSX), validates each against the
format, merges them, applies catalogue defaults and resolves every reference.
All problems are collected and raised together as one located InputError;
only a workspace beyond ``MAX_ITEMS`` items of a section is refused at once,
as soon as a file is parsed (before validation, facts or the engine), so a
huge input costs seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ..dates import date_after, months_between
from ..errors import Diagnostic, InputError, Location, did_you_mean, plain_message
from ..gcpause import gc_paused
from ..inputs import decode_text, folder_inside, list_folder, read_input
from ..output import KNOWLEDGE_FOLDER, KNOWLEDGE_SUFFIXES
from ..tables import Locator, parse_csv, parse_xlsx
from ..yamlio import PosDict, PosList, locate, long_list, parse_yaml
from .base import (
    DEFAULT_PROBABILITY, OUTCOME_MONTHS, AgreedAction, InputFile, KnowledgeBase, ReviewDate, Service, term_for_months,
)
from .catalogue import Catalogue, chosen_id, load_catalogue
from .resolve import Collected, Entry, Resolver
from .spec import Goal, KnowledgeFile, Organisation, Outcome

MAX_ITEMS = 120_000  # services, clients, goals or outcomes in a workspace: above the largest shape benchmarked (100,000)
LIST_SECTIONS = ("clients", "services", "goals", "outcomes", "actions")



def knowledge_files(workspace: Path) -> list[Path]:
    """The knowledge files of a workspace (its top folder and ``knowledge/``), in a stable order.

    Every entry with a knowledge suffix (in any case: ``SERVICES.YAML`` too) is
    listed, whatever it is: a broken symlink, a FIFO or a directory named like a
    knowledge file is reported when it is read, never skipped silently.
    """
    return [path for path, _ in _knowledge_entries(workspace, str(workspace))]


def _knowledge_entries(workspace: Path, shown: str) -> list[tuple[Path, str]]:
    """(path, display) of every knowledge file; a knowledge folder outside the workspace or unreadable is an error."""
    found: list[tuple[Path, str]] = []
    for rel in ("", KNOWLEDGE_FOLDER):
        folder = workspace / rel
        display = str(Path(shown) / rel) if rel else shown
        if rel and folder_inside(folder, display, workspace) is None:
            continue
        for entry in list_folder(folder, display):
            if entry.name.lower().endswith(KNOWLEDGE_SUFFIXES) and not entry.name.startswith((".", "~$")):
                path = Path(entry.path)
                found.append((path, str(Path(shown) / path.relative_to(workspace))))
    return sorted(found)


def _friendly(error: dict[str, Any]) -> tuple[str, str | None]:
    """A pydantic error as a message a PMO lead understands, plus a hint."""
    loc = error["loc"]
    kind = error["type"]
    got = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return f"unknown key {key!r}", did_you_mean(key, _fields_at(loc[:-1]))
    if kind == "invalid_key":  # pydantic puts the offending key, as text, last in loc
        return f"key {got!r} is not a name: keys must be text", None
    name = ".".join(p for p in loc if isinstance(p, str) and p != "[key]") or "document"
    if kind == "missing":
        return f"{name}: required field is missing", None
    shown = f" (got {got!r})" if isinstance(got, (str, int, float, bool)) or got is None else ""
    if kind == "string_pattern_mismatch" and name.endswith("finding"):  # a fingerprint, not an id
        return (f"{name}: not a finding's fingerprint{shown}",
                "16 lower-case hexadecimal digits, as `pmorules analyze --format json` gives it (findings[].fingerprint)")
    if kind == "string_pattern_mismatch":
        return f"{name}: not a valid id{shown}", "use letters, digits, '_', '-' or '.', starting with a letter or digit"
    message = plain_message(error["msg"], "a mapping (key: value)")
    hint = f"quote it: '{got}'" if kind == "string_type" and isinstance(got, (int, float)) else None
    return f"{name}: {message}{shown}", hint


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[Harm] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if (found := _model_in(arg)) is not None:
            return found
    return None


@lru_cache(maxsize=256)
def _fields_at_path(path: tuple[str, ...]) -> frozenset[str]:
    model: type[BaseModel] | None = KnowledgeFile
    for step in path:
        info = model.model_fields.get(step) if model else None
        model = _model_in(info.annotation) if info else None
        if model is None:
            return frozenset()
    return frozenset(model.model_fields)


def _fields_at(loc: tuple[Any, ...]) -> frozenset[str]:
    """The field names of the model at a pydantic error location (list indexes skipped)."""
    return _fields_at_path(tuple(p for p in loc if isinstance(p, str)))


CHOSEN_FROM = (("services", "catalogue", "services"), ("services", "outcomes", "outcomes"),
               ("goals", "outcomes", "outcomes"), ("outcomes", "id", "outcomes"))  # (section, field, catalogue part)


def chosen_ids(sections: Any, locator: Locator) -> list[Diagnostic]:
    """Turn the catalogue entries a table names as its drop-downs show them (``S16 – Data analytics and reporting``)
    into their ids, in place. An entry with another name than its id's is a problem of its cell; an id the catalogue
    lacks stays as written, for the format or the references to refuse."""
    catalogue = load_catalogue()
    problems = []
    for section, name, part in CHOSEN_FROM:
        items = sections.get(section) if isinstance(sections, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            value = item.get(name) if isinstance(item, dict) else None
            places: list[tuple[Any, Any]] = [(item, name)] if isinstance(value, str) else []  # (holder, key)
            for at, element in enumerate(value if isinstance(value, list) else []):  # a list: ids, or {id: ...}
                places += [(value, at)] if isinstance(element, str) else [(element, "id")] if isinstance(
                    element, dict) and isinstance(element.get("id"), str) else []
            for holder, key in places:
                holder[key], problem = chosen_id(holder[key], getattr(catalogue, part))
                if problem is not None:
                    problems.append(Diagnostic(locator((section, index, name)), problem,
                                               "choose it from the list, or write the id alone"))
    return problems


_NEXT_LINE = re.compile(r"\n( *)([^ \n#])")  # the next line that is neither blank nor a comment: its indent, first


def could_hold_more(text: str, limit: int) -> bool:
    """Whether a top-level list of the YAML ``text`` could hold more than ``limit`` items (streaming the events to
    count them took five seconds at 100,000 services; this takes a few hundredths).

    An item of a block list starts with "-", a flow list's first follows its "[" and every other a ",", so
    together they bound every list. When they do not settle it, and the top-level mapping is in block style
    with each top-level list a block list: every item of such a list starts a line with "-" at the column of
    its first item, so the lines starting so bound it. Anything else (a flow list or an anchor or tag on a
    top-level key, a quoted or complex key, line breaks other than "\n") leaves the events to count."""
    if text.count("-") + text.count(",") + text.count("[") <= limit:
        return False
    if text.count("\r") != text.count("\r\n") or any(c in text for c in "\x85\u2028\u2029"):
        return True
    body = "\n" + text
    root = _root_column(body)
    if root is None:
        return True
    columns = set()
    for line in re.finditer(r"\n" + " " * root + r"(?=[^ \n#])([^\n]*)", body):
        words = line.group(1)
        if _is_item(words):
            continue  # an item of a list at the keys' column
        if words.startswith(("---", "...")) or words[0] in "{[&!*?|>%@`\"'\t":
            return True  # another document, a flow mapping, an anchor, a tag, a complex or quoted key
        key, colon, value = words.partition(": ")
        if not colon and not key.rstrip().endswith(":"):
            return True  # not a key
        value = value.strip() if colon else ""
        if value[:1] in ("[", "&", "!"):
            return True
        if value[:1] not in ("", "#"):
            continue  # a scalar or a flow mapping: not a list
        following = _NEXT_LINE.search(body, line.end())
        if following is None:
            continue
        indent, first = len(following.group(1)), following.group(2)
        if indent < root or first in "[&!" and indent > root:
            return True
        if first == "-" and _is_item(body[following.start(2):following.start(2) + 2]):
            columns.add(indent)
    return any(body.count("\n" + " " * column + "-") > limit for column in columns)


def _is_item(words: str) -> bool:
    return words.startswith(("- ", "-\t")) or words.rstrip() == "-"


def _root_column(body: str) -> int | None:
    """The column of the top-level mapping's keys; None when the text does not start with a key in block style."""
    position = 0
    while (line := _NEXT_LINE.search(body, position)) is not None:
        start = line.start(2)
        end = body.find("\n", start)
        words = body[start:end if end >= 0 else None]
        if words.startswith("---") and words[3:].strip()[:1] in ("", "#"):
            position = line.end()
            continue
        if _is_item(words) or words.startswith(("---", "...", "%")):
            return None
        return len(line.group(1))
    return None


def _read_one(path: Path, display: str, workspace: Path) -> tuple[bytes, Any, Locator, list[Diagnostic]]:
    """A knowledge file's bytes, parsed content, locator, and problems of single table cells."""
    data = read_input(path, display, inside=workspace)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx"):
        raw, locator, problems = parse_csv(data, path.stem, display) if suffix == ".csv" else parse_xlsx(data, display)
        return data, raw, locator, problems + chosen_ids(raw, locator)
    text = decode_text(data, display)
    if could_hold_more(text, MAX_ITEMS) and (found := long_list(text, MAX_ITEMS, LIST_SECTIONS)):
        # counted before the document is built
        raise InputError([Diagnostic(Location(display, found[1], found[2]), _too_many(found[0]))])
    raw = parse_yaml(text, display)
    return data, raw, lambda loc: locate(raw, loc, display), []


def _too_many(section: str) -> str:
    return f"more than {MAX_ITEMS:,} {section} (a workspace holds at most {MAX_ITEMS:,} of each)"


def _count_items(raw: Any, locator: Locator, counts: dict[str, int]) -> None:
    """Add a file's items to the workspace's counts; refuse the item beyond ``MAX_ITEMS`` in any section, before
    any of them is validated, measured or evaluated."""
    for section in LIST_SECTIONS:
        items = raw.get(section) if isinstance(raw, dict) else None
        if not isinstance(items, list):
            continue
        if counts[section] + len(items) > MAX_ITEMS:
            where = locator((section, MAX_ITEMS - counts[section]))
            raise InputError([Diagnostic(where, _too_many(section))])
        counts[section] += len(items)


def _validate_file(raw: Any, locator: Locator, into: Collected) -> list[Diagnostic]:
    """Validate one file's sections; valid items are collected even when others in the file are not."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        return [Diagnostic(locator(()), "a knowledge file must be a mapping of sections", "start with 'services:'")]
    try:
        parsed = KnowledgeFile.model_validate(raw)
    except ValidationError as exc:
        _collect_valid_items(raw, locator, into)
        return [Diagnostic(locator(tuple(e["loc"])), *_friendly(e)) for e in exc.errors()]
    for section in ("clients", "services", "goals", "outcomes", "assessments", "actions"):
        nodes = raw.get(section) if isinstance(raw, PosDict) else None
        for index, item in enumerate(getattr(parsed, section)):
            node = nodes[index] if isinstance(nodes, PosList) and isinstance(nodes[index], PosDict) else None
            getattr(into, section).append(Entry(item, locator((section, index)), locator, (section, index), node))
    for section in ("organisation", "horizons"):
        value = getattr(parsed, section)
        if value is not None:
            getattr(into, section).append(Entry(value, locator((section,)), locator, (section,)))
    return []


_ITEM_MODELS = {name: _model_in(KnowledgeFile.model_fields[name].annotation) for name in KnowledgeFile.model_fields}


def _collect_valid_items(raw: dict[str, Any], locator: Locator, into: Collected) -> None:
    """After a file failed validation: keep every item, each with only its valid parts, so that its id
    (defined twice?) and its references (misspelt?) are checked in the same run. Its errors are reported
    already; what is left out is remembered, so nothing that only follows from them is said again."""
    for section, model in _ITEM_MODELS.items():
        value = raw.get(section)
        items = value if isinstance(value, list) else [value] if section in ("organisation", "horizons") else []
        for index, item in enumerate(items):
            if item is None:
                continue
            loc = (section, index) if isinstance(value, list) else (section,)
            salvaged = _salvage(model, item)
            if salvaged is None:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    into.unreadable.add(item["id"])
                continue
            parsed, node, dropped = salvaged
            getattr(into, section).append(Entry(parsed, locator(loc), locator, loc, node, dropped))


def _salvage(model: type[BaseModel], item: Any) -> tuple[Any, PosDict | None, frozenset[str]] | None:
    """An item validated without its faulty parts: (model, the parts kept with their positions, the fields
    left out or shortened), or None when what is left is no item (its id is faulty, or the error is the whole
    item's). A faulty item of a YAML list is left out of the list alone; elsewhere the whole field goes."""
    dropped: set[str] = set()
    for _ in range(3):  # a second pass may find a field the first one hid behind another error
        try:
            parsed = model.model_validate(item)
        except ValidationError as exc:
            bad: dict[str, set[int] | None] = {}
            for error in exc.errors():
                loc = error["loc"]
                if not loc or not isinstance(item, dict) or loc[0] not in item or loc[0] == "id":
                    return None
                field, rest = loc[0], loc[1:]
                if not (isinstance(item[field], PosList) and rest and isinstance(rest[0], int)):
                    bad[field] = None  # the whole field
                elif field not in bad:
                    bad[field] = {rest[0]}
                elif (indexes := bad[field]) is not None:
                    indexes.add(rest[0])
            item = _without(item, bad)
            dropped |= {str(field) for field in bad}
            continue
        return parsed, item if isinstance(item, PosDict) else None, frozenset(dropped)
    return None


def _without(item: dict[str, Any], bad: dict[str, set[int] | None]) -> dict[str, Any]:
    """A copy of an item without the given fields (None) or list items (their indexes), positions kept."""
    out: dict[str, Any] = PosDict(item.line, item.col) if isinstance(item, PosDict) else {}
    for key, value in item.items():
        indexes = bad.get(key, set())
        if indexes is None:
            continue
        if indexes:
            kept = PosList(value.line, value.col)
            for i, element in enumerate(value):
                if i not in indexes:
                    kept.append(element)
                    kept.item_pos.append(value.item_pos[i])
            value = kept
        out[key] = value
        if isinstance(item, PosDict) and key in item.key_pos:
            out.key_pos[key] = item.key_pos[key]
    return out


_ID_WRITTEN = re.compile(r"(?:^|[\s{,-])id\s*:\s*[\"']?([A-Za-z0-9][A-Za-z0-9_.-]*)", re.MULTILINE)


def _ids_written(path: Path, display: str, workspace: Path) -> set[str]:
    """The ids a knowledge file that could not be parsed seems to define (``id: x`` anywhere in its text), so
    that a reference to one of them elsewhere says where it is instead of calling it unknown."""
    try:
        data = read_input(path, display, inside=workspace)
    except InputError:
        return set()  # not a file that can be read at all: its own error says so
    return set(_ID_WRITTEN.findall(data.decode("utf-8", errors="replace")))


def _check_efforts(services: dict[str, Entry], errors: list[Diagnostic]) -> None:
    """Effort is given for every service or for none (then every service counts 1)."""
    given = [e for e in services.values() if e.value.effort is not None]
    if given and len(given) < len(services):
        for entry in services.values():
            if entry.value.effort is None and "effort" not in entry.dropped:  # a faulty effort is reported already
                errors.append(Diagnostic(
                    entry.where, f"service {entry.value.id!r} has no effort while others do",
                    "give 'effort' for every service, or for none (then each service counts as 1)",
                ))


def _notes(services: dict[str, Service], resolver: Resolver) -> tuple[str, ...]:
    notes = list(resolver.notes)
    for service in services.values():
        if service.active and not service.probability_given:
            notes.append(f"{service.id}: no probability given; the neutral default {DEFAULT_PROBABILITY} is used")
        for harm in service.harms:
            if harm.approaches is not None and service.approach is None:
                notes.append(
                    f"{service.id}: harm to {harm.target} applies only in approaches "
                    f"{', '.join(harm.approaches)}; the service gives no approach, so it is not counted"
                )
    return tuple(sorted(notes))


def load_workspace(path: str | Path, today: dt.date | None = None, shown: str | None = None,
                   undated: dt.date | None = None) -> KnowledgeBase:
    """Read, validate and resolve a workspace directory, or raise InputError with every problem found.

    ``today`` is the evaluation date (default: the workspace's ``organisation.assessed_on``, else ``undated``,
    else the current date): ages, deadlines, reviews and a service's ``since`` are counted to it.
    ``shown`` names the workspace in messages and sources (default: the path as given), e.g. ``v1.0:ws``
    for a snapshot read from git into a temporary folder.
    """
    with gc_paused():
        return _load_workspace(Path(path), shown or str(path), today, undated)


def _read_files(workspace: Path, shown: str, into: Collected, errors: list[Diagnostic]) -> list[InputFile]:
    """Read and validate every knowledge file; the files read, with their hashes."""
    if not workspace.exists():
        raise InputError([Diagnostic(Location(shown), "no such workspace directory")])
    if not workspace.is_dir():
        raise InputError([Diagnostic(Location(shown), "a workspace must be a directory of knowledge files")])
    files = _knowledge_entries(workspace, shown)
    if not files:
        raise InputError(
            [Diagnostic(Location(shown), "the workspace holds no knowledge files", "add services.yaml, or run 'pmorules init'")]
        )
    inputs = []
    counts = dict.fromkeys(LIST_SECTIONS, 0)
    for file, display in files:
        try:
            data, raw, locator, problems = _read_one(file, display, workspace)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            into.unread |= {ref.lower(): display for ref in _ids_written(file, display, workspace)}
            continue
        _count_items(raw, locator, counts)
        inputs.append(InputFile(display, hashlib.sha256(data).hexdigest()))
        errors.extend(problems)
        errors.extend(_validate_file(raw, locator, into))
    return inputs


def _load_workspace(workspace: Path, shown: str, today: dt.date | None, undated: dt.date | None) -> KnowledgeBase:
    errors: list[Diagnostic] = []
    collected = Collected()
    inputs = _read_files(workspace, shown, collected, errors)
    catalogue = load_catalogue()
    resolver = Resolver(catalogue, collected, errors, today, undated)
    _check_efforts(resolver.services, errors)
    services = {}
    for entry in resolver.services.values():
        service = resolver.service(entry, 1.0)
        if service is not None:
            services[service.id] = service
            for name, where in service.sources.items():
                resolver.sources[("service", service.id, name)] = where
    clients = {e.value.id: e.value for e in resolver.clients.values()}
    for entry in resolver.clients.values():
        resolver.remember("client", entry.value.id, entry, entry.value.model_fields_set)
    goals = {entry.value.id: _goal(entry, resolver) for entry in resolver.goals.values()}
    outcomes = _outcomes(catalogue, resolver)
    absent = dict(sorted(resolver.absent.items()))
    if errors:
        raise InputError(errors)
    reviews = _reviews(resolver.organisation, resolver.today)
    return KnowledgeBase(
        workspace=shown,
        today=resolver.today,
        clock=resolver.clock,
        organisation=_organisation(resolver.organisation, resolver.today, reviews),
        horizons=resolver.horizons,
        clients=clients,
        services=services,
        goals=goals,
        outcomes=outcomes,
        absent_catalogue=absent,
        sources=resolver.sources,
        files=tuple(inputs),
        notes=_notes(services, resolver),
        switched_off=tuple(resolver.switched_off),
        candidates=_catalogue_candidates(catalogue, resolver, services),
        reviews=reviews,
        actions=tuple(AgreedAction(e.value, e.where) for e in collected.actions),
    )


def _reviews(org: Organisation, today: dt.date) -> tuple[ReviewDate, ...]:
    """Every review, by date: the dates stated, or the months from the evaluation date."""
    if org.reviews is not None:
        found = [ReviewDate(r.date, months_between(today, r.date), r.name) for r in org.reviews]
    else:
        found = [ReviewDate(date_after(today, m), m, None) for m in org.reviews_months]
    return tuple(sorted(set(found), key=lambda r: (r.date, r.months, r.name or "")))


def _organisation(org: Organisation, today: dt.date, reviews: tuple[ReviewDate, ...]) -> Organisation:
    """The organisation as of the evaluation date: its age, and the months to the reviews still ahead."""
    update: dict[str, Any] = {"reviews_months": [r.months for r in reviews if r.ahead]}
    if org.founded is not None:
        update["age_months"] = max(0.0, months_between(org.founded, today))
    return org.model_copy(update=update)


def _goal(entry: Entry, resolver: Resolver) -> Goal:
    """A goal with its outcome, service and client references resolved."""
    goal: Goal = entry.value
    resolver.remember("goal", goal.id, entry, goal.model_fields_set)
    outcomes = [
        o for i, ref in enumerate(goal.outcomes)
        if (o := resolver.outcome_ref(ref, lambda i=i: entry.at("outcomes", i))) is not None
    ]
    linked = [
        s[0] for i, ref in enumerate(goal.services)
        if (s := resolver.service_ref(ref, lambda i=i: entry.at("services", i))) is not None
    ]
    client = resolver.client_ref(goal.client, entry.at("client")) if goal.client else None
    today = resolver.today
    if goal.due is not None and goal.due_months is not None:
        resolver.errors.append(Diagnostic(entry.at("due_months"), "give the goal's due date (due: YYYY-MM-DD) or "
                                          "due_months, not both"))
    if goal.due is None and goal.due_months is None and not {"due", "due_months"} & entry.dropped:
        resolver.errors.append(Diagnostic(entry.at(), "give the goal's due date (due: YYYY-MM-DD) or due_months",
                                          "for example due: 2027-03-31"))
    if goal.due is None and goal.due_months is None:  # reported: the knowledge base is refused, with every error
        due, due_months = today, 0.0
    else:
        due = goal.due if goal.due is not None else date_after(today, goal.due_months)
        due_months = months_between(today, goal.due) if goal.due is not None else goal.due_months
    return goal.model_copy(update={"outcomes": outcomes, "services": linked, "client": client, "due": due,
                                   "due_months": due_months})


def _outcomes(catalogue: Catalogue, resolver: Resolver) -> dict[str, Outcome]:
    """Every outcome: the catalogue's, changed or extended by the workspace's (name, term and months resolved)."""
    outcomes = {o.id: Outcome(id=o.id, name=o.name, term=o.term, months=o.months) for o in catalogue.outcomes.values()}
    for entry in resolver.outcomes.values():
        own: Outcome = entry.value
        resolver.remember("outcome", own.id, entry, own.model_fields_set)
        key = next((k for k in outcomes if k.lower() == own.id.lower()), None)
        base = outcomes.get(key) if key else None
        if base is not None:
            outcomes[key] = base.model_copy(update={n: getattr(own, n) for n in own.model_fields_set if n != "id"})
            continue
        months = own.months
        term = own.term or (term_for_months(months, resolver.horizons) if months is not None else "medium")
        outcomes[own.id] = own.model_copy(update={
            "name": own.name or own.id, "term": term, "months": months if months is not None else OUTCOME_MONTHS[term],
        })
    return outcomes


def _catalogue_candidates(catalogue: Catalogue, resolver: Resolver, services: dict[str, Service]) -> dict[str, Service]:
    """The catalogue services the workspace does not offer, as proposed services with catalogue defaults."""
    offered = {s.catalogue for s in services.values() if s.catalogue} | {s.lower() for s in services}
    scratch = Resolver(catalogue, Collected(), [], resolver.today)
    scratch.by_catalogue, scratch.services, scratch.horizons = resolver.by_catalogue, resolver.services, resolver.horizons
    return {
        cat.id: scratch.catalogue_candidate(cat) for cat in catalogue.services.values()
        if cat.id not in offered and cat.id.lower() not in offered
    }
