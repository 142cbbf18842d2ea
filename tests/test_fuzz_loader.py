"""Fuzzing the knowledge loader with hypothesis.

Whatever is in a workspace, ``load_workspace`` returns a KnowledgeBase or raises
InputError whose every diagnostic names a file (and, for a YAML file, a line
>= 1): never another exception, never a traceback for the user. The fast YAML
reader must also agree with a plain PyYAML reading of the same text.
"""

from __future__ import annotations

import inspect
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from yaml.constructor import SafeConstructor
from yaml.cyaml import CParser
from yaml.resolver import BaseResolver

from pmorules.knowledge import spec as model
from pmorules.errors import InputError
from pmorules.knowledge import KnowledgeBase, load_workspace
from pmorules.yamlio import _Constructor12, _plain_tag, _Resolver12, long_list, parse_yaml

# PMORULES_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz_loader.py  for a deeper hunt
FUZZ = settings(
    max_examples=int(os.environ.get("PMORULES_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

FIELD_NAMES = sorted(
    {name for cls in vars(model).values() if inspect.isclass(cls) and issubclass(cls, BaseModel) and cls is not BaseModel
     for name in cls.model_fields}
)
JUNK_KEYS = ["", "x", "Services", "servces", "colour", "<<", "id ", "1", "ÿ", "a:b", "-", "?"]
IDS = ["a", "b", "tools", "Tools", "S16", "s11", "HA01", "S99", "O26", "o22", "O99", "exec", "G1", "c", "a b", ""]
WORDS = [
    "short", "medium", "long", "soon", "hard", "soft", "tools:soft", "a:hard", ":soft", "x:y:z", "active", "retired",
    "proposed", "low", "high", "controlling", "directive", "kickoff", "NO", "yes", "on", "~", "2026-01-31", "1e400",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(IDS + WORDS),
    st.text(max_size=12),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.sampled_from(JUNK_KEYS), st.text(max_size=8), st.integers(-3, 3))
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=30,
)


def _field_value(name: str) -> st.SearchStrategy[Any]:
    """Mostly plausible values for a field, sometimes wrong ones."""
    plausible = {
        "id": st.sampled_from(IDS),
        "catalogue": st.sampled_from(["S16", "s11", "HA01", "S99", "X01"]),
        "term": st.sampled_from(["short", "medium", "long", "soon"]),
        "status": st.sampled_from(["active", "proposed", "retired", "paused"]),
        "months_to_value": st.one_of(st.integers(-2, 30), st.floats(0, 700)),
        "probability": st.one_of(st.floats(-0.5, 1.5), st.just(math.nan)),
        "effort": st.one_of(st.integers(-2, 50), st.none()),
        "weight": st.floats(-0.5, 2.5),
        "clients": st.lists(st.sampled_from(IDS), max_size=3),
        "outcomes": st.lists(st.sampled_from(["O26", "o22", "O99", "O31", "a"]), max_size=3),
        "services": st.lists(st.sampled_from(IDS), max_size=3),
        "depends_on": st.lists(
            st.one_of(st.sampled_from(["tools", "tools:soft", "a:hard", "S16", "x:y", "b"]),
                      st.fixed_dictionaries({"service": st.sampled_from(IDS)}, optional={"kind": st.sampled_from(["hard", "soft", "firm"])})),
            max_size=3,
        ),
        "harms": st.lists(
            st.fixed_dictionaries(
                {"target": st.sampled_from(IDS)},
                optional={
                    "severity": st.sampled_from(["low", "high", "huge"]),
                    "mitigated_by": st.lists(st.sampled_from(IDS), max_size=2),
                    "approaches": st.lists(st.sampled_from(["controlling", "bossy"]), max_size=2),
                },
            ),
            max_size=2,
        ),
        "due_months": st.integers(-1, 24),
        "client": st.sampled_from(IDS),
    }.get(name)
    return st.one_of(plausible, scalars) if plausible is not None else scalars


def _item(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": _field_value("id")},
        optional={name: _field_value(name) for name in fields if name != "id"} | {"colour": scalars},
    )


SERVICE_REFS = ["a", "b", "Tools", "reporting", "S16", "s11", "S03", "HA01", "X02"] * 4 + ["zz"]
CLIENT_REFS = ["exec", "Board"] * 4 + ["zz"]
OUTCOME_REFS = ["O26", "o22", "O31"] * 4 + ["O99"]
VALID = {  # values each field accepts (a few references name unknown ids: the resolver's error paths)
    "name": st.text(max_size=10),
    "catalogue": st.sampled_from(["S16", "s11", "HA01", "X01", "S99"]),
    "term": st.sampled_from(["short", "medium", "long"]),
    "status": st.sampled_from(["active", "proposed", "retired"]),
    "months_to_value": st.floats(0, 40),
    "probability": st.floats(0, 1),
    "approach": st.sampled_from(["consultative", "controlling", "directive"]),
    "tags": st.lists(st.sampled_from(["control", "people", "yes"]), max_size=2),
    "clients": st.lists(st.sampled_from(CLIENT_REFS), max_size=2),
    "outcomes": st.lists(st.sampled_from(OUTCOME_REFS), max_size=2),
    "services": st.lists(st.sampled_from(SERVICE_REFS), max_size=2),
    "depends_on": st.lists(
        st.one_of(st.sampled_from([f"{i}{k}" for i in SERVICE_REFS for k in ("", ":soft", ":hard")]),
                  st.fixed_dictionaries({"service": st.sampled_from(SERVICE_REFS)}, optional={"kind": st.sampled_from(["hard", "soft"])})),
        max_size=3,
    ),
    "harms": st.lists(
        st.fixed_dictionaries(
            {"target": st.sampled_from(SERVICE_REFS + OUTCOME_REFS)},
            optional={
                "severity": st.sampled_from(["low", "medium", "high"]),
                "mitigated_by": st.lists(st.sampled_from(SERVICE_REFS), max_size=2),
                "approaches": st.lists(st.sampled_from(["controlling", "directive"]), max_size=2),
            },
        ),
        max_size=2,
    ),
    "assessments": st.lists(st.fixed_dictionaries({"by": st.just("jo")}, optional={"probability": st.floats(0, 1)}), max_size=1),
    "weight": st.floats(0, 1),
    "due_months": st.integers(0, 24),
    "priority": st.integers(0, 3),
    "client": st.sampled_from(CLIENT_REFS),
}
IDS_OF = {  # ids each section defines; a few collide with the catalogue or each other (case-insensitively)
    model.ServiceSpec: ["a", "b", "Tools", "reporting", "S16", "A"],
    model.Client: ["exec", "Board", "EXEC"],
    model.Goal: ["G1", "G2"],
    model.Outcome: ["O31", "O32"],
}
REQUIRED = {model.ServiceSpec: ("id", "term"), model.Goal: ("id", "due_months", "outcomes")}


def _valid_item(cls: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    values = VALID | {"id": st.sampled_from(IDS_OF[cls])}
    if cls is model.Goal:  # a goal needs a link: give it at least one outcome
        values["outcomes"] = st.lists(st.sampled_from(OUTCOME_REFS), min_size=1, max_size=2)
    required = REQUIRED.get(cls, ("id",))
    fields = [name for name in cls.model_fields if name in values and name not in required]
    return st.fixed_dictionaries({name: values[name] for name in required}, optional={name: values[name] for name in fields})


def _valid_items(cls: type[BaseModel], size: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(_valid_item(cls), max_size=size, unique_by=lambda item: item["id"])


def _noisy_item(cls: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    return _item(list(cls.model_fields))


def _noisy_items(cls: type[BaseModel], size: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(_noisy_item(cls), max_size=size)


def _sections(items: Any, organisation: st.SearchStrategy[Any], horizons: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "services": items(model.ServiceSpec, 5),
            "clients": items(model.Client, 3),
            "goals": items(model.Goal, 3),
            "outcomes": items(model.Outcome, 2),
            "organisation": organisation,
            "horizons": horizons,
        },
    )


# well-formed files (they reach catalogue defaults and reference resolution) and noisy ones
workspace_docs = st.one_of(
    _sections(
        _valid_items,
        st.fixed_dictionaries({}, optional={"name": st.text(max_size=5), "capacity_fte": st.integers(0, 9)}),
        st.integers(0, 12).flatmap(lambda short: st.fixed_dictionaries(
            {}, optional={"short_max_months": st.just(short), "medium_max_months": st.integers(short, 40)})),
    ),
    _sections(
        _noisy_items,
        st.one_of(st.dictionaries(st.sampled_from(list(model.Organisation.model_fields)), scalars), scalars),
        st.dictionaries(st.sampled_from(["short_max_months", "medium_max_months", "x"]), st.integers(-1, 30)),
    ),
)


def dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=None)


def check_outcome(files: dict[str, str | bytes]) -> KnowledgeBase | InputError:
    """Load a fresh workspace holding ``files``; assert the outcome is a KB or a well-located InputError."""
    root = Path(tempfile.mkdtemp(prefix="pmorules-fuzz-"))
    try:
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        try:
            kb = load_workspace(root)
            event("loaded, with services" if kb.services else "loaded, no services")  # --hypothesis-show-statistics
            return kb
        except InputError as error:
            event("InputError")
            assert error.diagnostics, "an InputError without diagnostics"
            for diagnostic in error.diagnostics:
                where = diagnostic.location
                assert where.file, diagnostic
                assert where.file.startswith(str(root)), diagnostic
                if where.file.endswith((".yaml", ".yml")):
                    assert where.line is not None and where.line >= 1, f"no line: {diagnostic}"
                    assert where.col is None or where.col >= 1, diagnostic
                if where.line is not None:
                    assert where.line >= 1, diagnostic
                assert diagnostic.message and "\n" not in str(diagnostic), diagnostic
            assert error.render()  # sorting and rendering never fail
            return error
    finally:
        shutil.rmtree(root, ignore_errors=True)


@FUZZ
@given(workspace_docs, st.one_of(st.none(), workspace_docs))
def test_fuzz_plausible_workspaces(first: dict, second: dict | None) -> None:
    files: dict[str, str | bytes] = {"services.yaml": dump(first)}
    if second is not None:
        files["knowledge/more.yml"] = dump(second)
    check_outcome(files)


well_formed = st.fixed_dictionaries(
    {"services": st.lists(_valid_item(model.ServiceSpec), min_size=1, max_size=6, unique_by=lambda item: item["id"].lower())},
    optional={
        "clients": st.lists(_valid_item(model.Client), max_size=3, unique_by=lambda item: item["id"].lower()),
        "goals": _valid_items(model.Goal, 3),
        "outcomes": _valid_items(model.Outcome, 2),
    },
)


@FUZZ
@given(well_formed)
def test_fuzz_well_formed_workspaces_resolve_consistently(document: dict) -> None:
    """When a workspace loads, every reference in the KnowledgeBase points at something that exists."""
    from pmorules.graph import build_graph, dependency_graph, hard_cycles

    outcome = check_outcome({"services.yaml": dump(document)})
    if isinstance(outcome, InputError):
        return
    kb = outcome
    services = set(kb.services) | set(kb.absent_catalogue)
    for service in kb.services.values():
        assert service.term in ("short", "medium", "long") and service.months >= 0
        assert 0 <= service.probability <= 1 and service.effort >= 0
        assert set(service.clients) <= set(kb.clients)
        assert set(service.outcomes) <= set(kb.outcomes)
        assert {d.target for d in service.depends_on} <= services
        assert service.id not in {d.target for d in service.depends_on}
        for harm in service.harms:
            known = {"service": services, "outcome": set(kb.outcomes), "client": set(kb.clients)}[harm.target_kind]
            assert harm.target in known
            assert {m.ref for m in harm.mitigated_by if m.kind == "service"} <= services
        assert service.sources[""].line >= 1
    for goal in kb.goals.values():
        assert set(goal.services) <= services and set(goal.outcomes) <= set(kb.outcomes)
        assert goal.client is None or goal.client in kb.clients
    build_graph(kb)
    hard_cycles(dependency_graph(kb, ("hard",)))


@FUZZ
@given(documents)
def test_fuzz_random_documents(document: Any) -> None:
    check_outcome({"k.yaml": dump(document)})


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_fuzz_raw_text_and_bytes(content: str | bytes) -> None:
    check_outcome({"k.yaml": content})


yaml_ish_text = st.lists(
    st.sampled_from(
        ["services:", "  - id: a", "    term: short", "  -", "- ", ": ", "\t", "  ", "[", "]", "{", "}", ",", "'", '"',
         "&x ", "*x", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!map ", "!!seq ", "!!set ", "!!omap ",
         "!!pairs ", "!!binary ", "!!timestamp ", "!python/tuple ", "!local ", "? ", "#", "---", "...", "%YAML 1.2", "\n", "\r\n", "é", "\x00", "\ufeff",
         "depends_on: [tools:soft]", "harms: [{target: O22}]", "effort: 012", "probability: .nan"]
    ),
    max_size=30,
).map("".join)


@FUZZ
@given(yaml_ish_text)
def test_fuzz_yaml_ish_text(text: str) -> None:
    check_outcome({"k.yaml": text})


@FUZZ
@given(
    st.lists(st.sampled_from(list(model.ServiceSpec.model_fields) + ["colour", ""]), min_size=1, max_size=6),
    st.lists(st.lists(st.one_of(st.sampled_from(IDS + WORDS + ["0.5", "-1", "1.4", "a;b", "tools:soft; b"]), st.text(max_size=6)), max_size=7), max_size=6),
    st.sampled_from(["services.csv", "clients.csv", "goals.csv", "outcomes.csv", "other.csv"]),
)
def test_fuzz_csv(header: list[str], rows: list[list[str]], name: str) -> None:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    check_outcome({name: out.getvalue()})


# --- the fast YAML reader agrees with plain PyYAML ------------------------------------------


class _ReferenceResolver(BaseResolver):
    """PyYAML's own resolve() over the same core-schema resolvers."""


_ReferenceResolver.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in _Resolver12.yaml_implicit_resolvers.items()
}


class _ReferenceConstructor(SafeConstructor):
    construct_yaml_int = _Constructor12.construct_yaml_int
    construct_yaml_float = _Constructor12.construct_yaml_float


_ReferenceConstructor.add_constructor("tag:yaml.org,2002:int", _ReferenceConstructor.construct_yaml_int)
_ReferenceConstructor.add_constructor("tag:yaml.org,2002:float", _ReferenceConstructor.construct_yaml_float)


class _ReferenceLoader(CParser, _ReferenceConstructor, _ReferenceResolver):
    def __init__(self, stream: str):
        CParser.__init__(self, stream)
        _ReferenceConstructor.__init__(self)
        _ReferenceResolver.__init__(self)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


@FUZZ
@given(st.one_of(st.text(max_size=20), st.text(alphabet="-+0123456789.eEoxXabcfFinNaAtTrRuUlLsS~_: ", max_size=8)))
def test_plain_scalar_tags_match_pyyaml_resolve(text: str) -> None:
    expected = BaseResolver.resolve(_ReferenceResolver(), yaml.ScalarNode, text, (True, False))
    assert _plain_tag(text) == expected


@FUZZ
@given(st.one_of(documents.map(dump), yaml_ish_text))
def test_fast_reader_matches_pyyaml(text: str) -> None:
    try:
        expected = yaml.load(text, Loader=_ReferenceLoader)  # noqa: S506 - safe constructor subclass
    except Exception:  # noqa: BLE001 - plain PyYAML fails in many ways (!!timestamp x: AttributeError)
        expected = InputError
    try:
        got = parse_yaml(text, "f.yaml")
    except InputError:
        got = InputError
    if expected is InputError or got is InputError:
        # ours refuses duplicate keys, non-plain keys and bad explicit numbers that PyYAML accepts
        return
    assert _plain(got) == _plain(expected)


cells = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 100), st.floats(-2, 2), st.sampled_from(IDS + WORDS + ["a;b", "tools:soft; b"]),
    st.dates(), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=6),
)


@settings(FUZZ, max_examples=max(FUZZ.max_examples // 4, 10))  # a workbook is slower to write
@given(
    st.dictionaries(
        st.sampled_from(["services", "Services", "clients", "goals", "outcomes", "Sheet1"]),
        st.tuples(
            st.lists(st.sampled_from(list(model.ServiceSpec.model_fields) + ["weight", "due_months", "colour"]), min_size=1, max_size=5),
            st.lists(st.lists(cells, max_size=6), max_size=5),
        ),
        min_size=1, max_size=3,
        dict_class=dict,
    ).filter(lambda sheets: len({title.lower() for title in sheets}) == len(sheets))
)
def test_fuzz_xlsx(sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> None:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        for row in [header, *rows]:
            sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    outcome = check_outcome({"k.xlsx": data.getvalue()})
    if isinstance(outcome, InputError):
        for diagnostic in outcome.diagnostics:
            assert diagnostic.location.cell is not None or diagnostic.location.line is None, diagnostic


# top-level mappings of lists, written every way yaml.safe_dump writes them, with comments and blank lines between
long_list_docs = st.tuples(
    st.dictionaries(keys, st.one_of(st.lists(documents, max_size=6), documents), min_size=1, max_size=4),
    st.sampled_from([None, True, False]), st.integers(2, 5), st.lists(st.sampled_from(["", "# note", "  # note", "   "]),
                                                                     max_size=3),
)


@FUZZ
@given(long_list_docs, st.one_of(yaml_ish_text, st.just("")), st.integers(0, 4))
def test_the_quick_bound_on_list_lengths_never_misses_a_long_list(doc, noise: str, limit: int) -> None:
    """Whenever streaming the events finds a top-level list longer than ``limit``, could_hold_more says it could
    hold one: the bound may be loose, never short."""
    from pmorules.knowledge.load import could_hold_more

    document, flow, indent, between = doc
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=flow, indent=indent)
    lines = text.splitlines(keepends=True)
    text = "".join(line + ("\n".join(between) + "\n" if between and i % 2 else "") for i, line in enumerate(lines))
    for candidate in (text, text + noise, noise + text):
        if long_list(candidate, limit) is not None:
            assert could_hold_more(candidate, limit), candidate
