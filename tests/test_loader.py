"""Loading a workspace: YAML 1.2 reading with positions, merging, catalogue defaults, references."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pmorules.knowledge.catalogue import load_catalogue
from pmorules.errors import Diagnostic, InputError, Location, did_you_mean
from pmorules.knowledge import (
    DEFAULT_MONTHS,
    Mitigator,
    DEFAULT_PROBABILITY,
    knowledge_files,
    load_workspace,
    term_for_months,
)
from pmorules.knowledge.spec import Horizons
from pmorules.paths import example_dir
from pmorules.knowledge.load import could_hold_more
from hypothesis import given, settings
from hypothesis import strategies as st

from pmorules.yamlio import PosDict, PosList, dump_yaml, locate, long_list, parse_yaml

# --- YAML 1.2 reading -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("NO", "NO"), ("no", "no"), ("yes", "yes"), ("Yes", "Yes"), ("on", "on"), ("off", "off"), ("y", "y"),
        ("true", True), ("False", False), ("TRUE", True),
        ("012", 12), ("0o17", 15), ("0x1F", 31), ("-3", -3), ("+4", 4),
        ("1.5", 1.5), (".5", 0.5), ("1e3", 1000.0), ("1e-07", 1e-07), ("-1e15", -1e15),
        ("~", None), ("null", None), ("", None),
        ("1_000", "1_000"), ("1:20", "1:20"), ("2026-01-31", "2026-01-31"), ("0b101", "0b101"),
        ("'012'", "012"), ('"yes"', "yes"), ("!!str 5", "5"),
    ],
)
def test_yaml_12_core_schema_scalars(text: str, value: object) -> None:
    got = parse_yaml(f"key: {text}\n", "f.yaml")["key"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (".nan", ".nan is not a finite number"), ("-.inf", "-.inf is not a finite number"),
        ("!!float .Inf", ".Inf is not a finite number"),
        ("1e400", "1e400 is out of range (numbers are at most 1e+15 in size)"),
        ("1.5e16", "1.5e16 is out of range (numbers are at most 1e+15 in size)"),
        ("1" + "0" * 5000, "100000000000… is out of range (numbers are at most 1e+15 in size)"),
    ],
)
def test_yaml_numbers_follow_the_number_policy(text: str, message: str) -> None:
    """Core-schema floats, but not infinite, not NaN, and not beyond 1e15 in size (numbers.py)."""
    with pytest.raises(InputError) as info:
        parse_yaml(f"key: {text}\n", "f.yaml")
    assert str(info.value) == f"f.yaml:1:6: {message}"


def test_yaml_positions_of_keys_and_items() -> None:
    doc = parse_yaml("services:\n  - id: a\n    tags: [x, y]\n  - {id: b}\n", "f.yaml")
    assert isinstance(doc, PosDict) and (doc.line, doc.col) == (1, 1)
    assert doc.key_pos["services"] == (1, 1)
    services = doc["services"]
    assert isinstance(services, PosList) and services.item_pos == [(2, 5), (4, 5)]
    assert services[0].key_pos == {"id": (2, 5), "tags": (3, 5)}
    assert services[0]["tags"].item_pos == [(3, 12), (3, 15)]
    assert services[1].key_pos["id"] == (4, 6)
    assert str(locate(doc, ("services", 0, "tags", 1), "f.yaml")) == "f.yaml:3:15"
    assert str(locate(doc, ("services", 1, "nope", 3), "f.yaml")) == "f.yaml:4:5"  # best known: the item
    assert str(locate(doc, (), "f.yaml")) == "f.yaml:1:1"


def test_yaml_duplicate_key_is_an_error() -> None:
    with pytest.raises(InputError) as info:
        parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert str(info.value) == "f.yaml:3:1: duplicate key 'a' (first defined at line 1)"


def test_yaml_number_and_duplicate_key_errors_come_all_at_once() -> None:
    """The first of them hid every other in the file."""
    text = "a: 1e300\nb: [1, .nan]\nc: {d: 1, d: 2}\nc: 4\n"
    with pytest.raises(InputError) as info:
        parse_yaml(text, "f.yaml")
    assert str(info.value).splitlines() == [
        "f.yaml:1:4: 1e300 is out of range (numbers are at most 1e+15 in size)",
        "f.yaml:2:8: .nan is not a finite number",
        "f.yaml:3:11: duplicate key 'd' (first defined at line 3)",
        "f.yaml:4:1: duplicate key 'c' (first defined at line 3)",
    ]


def test_yaml_keys_the_number_policy_refuses_are_not_duplicates_of_each_other() -> None:
    with pytest.raises(InputError) as info:
        parse_yaml("1e300: a\n1e301: b\nc: {1e302: x, ~: y}\n", "f.yaml")
    assert "duplicate" not in str(info.value) and len(str(info.value).splitlines()) == 3


def test_yaml_syntax_error_is_located() -> None:
    with pytest.raises(InputError) as info:
        parse_yaml("a:\n  b: [1, 2\nc: 3\n", "f.yaml")
    assert str(info.value).startswith("f.yaml:3:2: YAML syntax error: did not find expected ',' or ']'")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: 1\nb: x\x07y\n", "f.yaml:2:5: YAML syntax error: character U+0007: control characters are not allowed"),
        ("a: é\nb: é\x00\n".encode(), "f.yaml:2:5: YAML syntax error: character U+0000: control characters are not allowed"),
        (b"a: 1\nb: caf\xe9\n", "f.yaml:2:7: not UTF-8 text: invalid continuation byte (byte 0xe9)"),
        (b"a: !!float many\n", "f.yaml:1:4: 'many' is not a number"),
        (b"a: !!int x\n", "f.yaml:1:4: 'x' is not an integer"),
        (b"a: !!python/object:os.system x\n", "f.yaml:1:4: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'"),
        (b"a: &x [*x]\n", "f.yaml:1:4: found unconstructable recursive node"),
        (b"[a]: 1\n", "f.yaml:1:1: a mapping key must be a plain value"),
    ],
)
def test_yaml_reader_errors_are_located(tmp_path: Path, data: bytes, expected: str) -> None:
    from pmorules.yamlio import read_yaml

    path = tmp_path / "f.yaml"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_yaml(path, "f.yaml")
    assert str(info.value) == expected


def test_yaml_bom_is_ignored(tmp_path: Path) -> None:
    from pmorules.yamlio import read_yaml

    path = tmp_path / "f.yaml"
    path.write_bytes("\ufeffa: 1\n".encode())
    assert read_yaml(path, "f.yaml") == {"a": 1}


def test_yes_no_on_stay_strings_in_a_workspace(load) -> None:
    kb = load({"services.yaml": """
        services:
          - id: a
            name: NO
            term: short
            tags: [yes, on, off]
          - {id: b, name: yes, term: short}
        """})
    assert kb.services["a"].name == "NO"
    assert kb.services["a"].tags == ("yes", "on", "off")
    assert kb.services["b"].name == "yes"


def test_leading_zero_is_decimal(load) -> None:
    kb = load({"s.yaml": "services:\n  - {id: a, term: short, effort: 012}\n"})
    assert kb.services["a"].effort == 12


# --- errors, locations, hints -------------------------------------------------------------


def test_location_formats() -> None:
    assert str(Location("s.yaml", 3, 5)) == "s.yaml:3:5"
    assert str(Location("s.csv", 4)) == "s.csv:4"
    assert str(Location("k.xlsx", cell="services!C7")) == "k.xlsx!services!C7"
    assert str(Location("ws")) == "ws"
    assert Location("s.yaml", 3, 5).short() == "s.yaml:3"


def test_diagnostics_sort_even_with_missing_parts() -> None:
    """File-level and line-level places of one file, and hints or none, must sort (was a TypeError)."""
    diagnostics = [
        Diagnostic(Location("a.yaml", 3, 1), "m", "h"),
        Diagnostic(Location("a.yaml"), "whole file"),
        Diagnostic(Location("a.yaml", 3, 1), "m"),
        Diagnostic(Location("a.yaml", 2), "line only"),
        Diagnostic(Location("k.xlsx", cell="s!A10"), "x"),
        Diagnostic(Location("k.xlsx", cell="s!B2"), "x"),
        Diagnostic(Location("k.xlsx"), "x"),
    ]
    assert InputError(diagnostics).render().splitlines() == [
        "a.yaml: whole file",
        "a.yaml:2: line only",
        "a.yaml:3:1: m",
        "a.yaml:3:1: m (hint: h)",
        "k.xlsx: x",
        "k.xlsx!s!B2: x",
        "k.xlsx!s!A10: x",
    ]


@pytest.mark.parametrize(
    ("wanted", "known", "hint"),
    [
        ("exce", ["exec", "pmo"], "did you mean 'exec'?"),
        ("Tols", ["tools", "methods"], "did you mean 'tools'?"),
        ("026", [f"O{i:02d}" for i in range(1, 31)], "did you mean 'O26'?"),  # zero for the letter O
        ("probabilty", ["probability", "effort"], "did you mean 'probability'?"),
        ("zzz", ["exec", "pmo"], None),
        ("x", [], None),
    ],
)
def test_did_you_mean(wanted: str, known: list[str], hint: str | None) -> None:
    assert did_you_mean(wanted, known) == hint


def test_every_error_at_once_across_files(errors) -> None:
    assert errors({
        "a.yaml": """
            services:
              - id: a
                term: soon
        """,
        "b.yaml": """
            clients:
              - id: c
                weight: 2
            services:
              - id: b
                effort: -1
                term: short
        """,
        "c.yaml": "services: [\n",
    }) == [
        "ws/a.yaml:3:5: services.term: should be 'short', 'medium' or 'long' (got 'soon')",
        "ws/b.yaml:3:5: clients.weight: should be less than or equal to 1 (got 2)",
        "ws/b.yaml:6:5: services.effort: should be greater than or equal to 0 (got -1)",
        "ws/c.yaml:2:1: YAML syntax error: did not find expected node content",
    ]


def test_reference_errors_at_once(errors) -> None:
    assert errors({"k.yaml": """
        clients: [{id: exec}]
        services:
          - id: reporting
            term: short
            clients: [exce]
            outcomes: [O99]
            depends_on: [tols]
            harms:
              - {target: cultur, mitigated_by: [coachin]}
          - {id: tools, term: short}
          - {id: culture, term: long}
          - {id: coaching, term: long}
        goals:
          - {id: G1, services: [reportng], due_months: 3, client: exek}
        """}) == [
        "ws/k.yaml:5:15: unknown client 'exce' (hint: did you mean 'exec'?)",
        "ws/k.yaml:6:16: unknown outcome 'O99' (hint: did you mean 'O29'?)",
        "ws/k.yaml:7:18: unknown service 'tols' (hint: did you mean 'tools'?)",
        "ws/k.yaml:9:10: unknown service, outcome or client 'cultur' (hint: did you mean 'culture'?)",
        "ws/k.yaml:9:41: unknown service 'coachin' (hint: did you mean 'coaching'?)",
        "ws/k.yaml:14:25: unknown service 'reportng' (hint: did you mean 'reporting'?)",
        "ws/k.yaml:14:51: unknown client 'exek' (hint: did you mean 'exec'?)",
    ]


def test_unknown_key_hint_comes_from_the_right_model(errors) -> None:
    assert errors({"k.yaml": """
        servces: []
        organisation: {nam: X}
        services:
          - id: a
            term: short
            depends_on: [{service: b, knd: soft}]
            assessments: [{by: jo, probabilty: 0.5}]
        """}) == [
        "ws/k.yaml:1:1: unknown key 'servces' (hint: did you mean 'services'?)",
        "ws/k.yaml:2:16: unknown key 'nam' (hint: did you mean 'name'?)",
        "ws/k.yaml:6:31: unknown key 'knd' (hint: did you mean 'kind'?)",
        "ws/k.yaml:7:28: unknown key 'probabilty' (hint: did you mean 'probability'?)",
    ]


def test_id_defined_twice_names_both_places(errors) -> None:
    assert errors({
        "a.yaml": "clients: [{id: exec}]\ngoals: [{id: G1, outcomes: [O26], due_months: 3}]\n",
        "knowledge/b.yaml": "clients: [{id: EXEC}]\ngoals: [{id: g1, outcomes: [O26], due_months: 3}]\n",
    }) == [
        "ws/knowledge/b.yaml:1:11: client id 'EXEC' is defined twice (first at ws/a.yaml:1:11)",
        "ws/knowledge/b.yaml:2:9: goal id 'g1' is defined twice (first at ws/a.yaml:2:9)",
    ]


def test_organisation_given_twice(errors) -> None:
    assert errors({"a.yaml": "organisation: {name: A}\n", "b.yaml": "organisation: {name: B}\n"}) == [
        "ws/b.yaml:1:1: 'organisation' is given twice (first at ws/a.yaml:1:1)"
    ]


def test_unknown_catalogue_id_is_reported_once(errors) -> None:
    # no second "has no term" error for the same cause
    assert errors({"s.yaml": "services:\n  - {id: a, catalogue: Z16}\n"}) == [
        "ws/s.yaml:2:13: unknown catalogue service 'Z16' (hint: did you mean 'S16'?)"
    ]


def test_service_without_term(errors) -> None:
    assert errors({"s.yaml": "services:\n  - id: a\n"}) == [
        "ws/s.yaml:2:5: service 'a' has no term "
        "(hint: give 'term' (short|medium|long), 'months_to_value', or a 'catalogue' id)"
    ]


def test_non_text_keys(errors) -> None:
    assert errors({"s.yaml": "services:\n  - id: a\n    term: short\n    1.5: x\n"}) == [
        "ws/s.yaml:4:5: key 1.5 is not a name: keys must be text"
    ]


def test_missing_and_empty_and_file_workspace(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such workspace directory"):
        load_workspace(tmp_path / "nope")
    with pytest.raises(InputError, match="holds no knowledge files"):
        load_workspace(tmp_path)
    (tmp_path / "f.yaml").write_text("services: []\n")
    with pytest.raises(InputError, match="must be a directory"):
        load_workspace(tmp_path / "f.yaml")


# --- what is read -----------------------------------------------------------------------


def test_knowledge_files_found(make_ws) -> None:
    ws = make_ws({
        "a.yaml": "", "b.yml": "", "c.csv": "", "knowledge/d.yaml": "", ".hidden.yaml": "", "~$lock.xlsx": "",
        "notes.txt": "", "deep/e.yaml": "", "pmorules.toml": "", "rules/r.yaml": "",
    })
    assert [p.relative_to(ws).as_posix() for p in knowledge_files(ws)] == ["a.yaml", "b.yml", "c.csv", "knowledge/d.yaml"]


def test_lists_are_concatenated_and_empty_files_allowed(load) -> None:
    kb = load({
        "a.yaml": "services:\n  - {id: a, term: short}\nclients: [{id: c1}]\n",
        "knowledge/b.yaml": "services:\n  - {id: b, term: long}\nclients: [{id: c2}]\n",
        "empty.yaml": "",
        "comments.yml": "# nothing yet\n",
    })
    assert list(kb.services) == ["a", "b"] and list(kb.clients) == ["c1", "c2"]
    assert len(kb.files) == 4


def test_input_files_are_hashed(make_ws) -> None:
    ws = make_ws({"a.yaml": "services:\n  - {id: a, term: short}\n"})
    kb = load_workspace(ws)
    assert [f.sha256 for f in kb.files] == [hashlib.sha256((ws / "a.yaml").read_bytes()).hexdigest()]
    assert kb.files[0].path == str(ws / "a.yaml")


# --- defaults, catalogue, references -----------------------------------------------------


def test_defaults(load) -> None:
    kb = load({"s.yaml": "services:\n  - {id: a, term: medium}\n"})
    service = kb.services["a"]
    assert service.name == "a" and service.status == "active" and service.active
    assert service.months == DEFAULT_MONTHS["medium"] and not service.months_given
    assert service.probability == DEFAULT_PROBABILITY and not service.probability_given
    assert service.effort == 1.0  # no effort given anywhere: every service counts 1
    assert kb.organisation.name == "PMO" and kb.horizons == Horizons()
    assert kb.notes == (f"a: no probability given; the neutral default {DEFAULT_PROBABILITY} is used",)
    assert set(kb.outcomes) >= set(load_catalogue().outcomes)  # the catalogue supplies outcomes


@pytest.mark.parametrize(("months", "term"), [(0, "short"), (3, "short"), (3.5, "medium"), (12, "medium"), (13, "long")])
def test_term_for_months_default_horizons(months: float, term: str) -> None:
    assert term_for_months(months, Horizons()) == term


def test_months_to_value_derives_the_term_from_horizons(load) -> None:
    kb = load({"s.yaml": """
        horizons: {short_max_months: 1, medium_max_months: 6}
        services:
          - {id: a, months_to_value: 2}
          - {id: b, months_to_value: 7}
          - {id: c, months_to_value: 1}
          - {id: d, months_to_value: 7, term: short}   # an explicit term wins
        """})
    assert {k: (s.term, s.months, s.months_given) for k, s in kb.services.items()} == {
        "a": ("medium", 2, True), "b": ("long", 7, True), "c": ("short", 1, True), "d": ("short", 7, True),
    }


def test_catalogue_inheritance(load) -> None:
    cat = load_catalogue().services["S16"]
    kb = load({"s.yaml": """
        services:
          - id: reporting
            catalogue: s16          # case-insensitive
            name: Weekly status pack  # explicit wins
            tags: [control]
          - {id: tools, catalogue: S11}
        """})
    service = kb.services["reporting"]
    assert service.catalogue == "S16"
    assert service.name == "Weekly status pack" and service.tags == ("control",)
    assert service.term == cat.term and service.outcomes == tuple(cat.outcomes)
    assert len(service.harms) == len(cat.harms)
    # catalogue dependencies resolve to the workspace service that declares that catalogue id
    expected = {("tools" if d.service == "S11" else d.service, d.kind) for d in cat.depends_on}
    assert {(d.target, d.kind) for d in service.depends_on} == expected
    assert kb.services["tools"].name == load_catalogue().services["S11"].name
    # where each value came from: the workspace for explicit fields, the catalogue file for inherited ones
    assert str(service.sources["name"]).endswith("s.yaml:4:5")
    assert service.sources["outcomes"].file == "catalogue/services.yaml"
    assert kb.source("service", "reporting", "tags").line == 5


def test_lists_merge_with_the_catalogue_and_tags_replace(load) -> None:
    """Outcome links, dependencies and harms merge item by item with the catalogue's; an empty list adds nothing
    and removes nothing. Tags are replaced as a whole."""
    cat = load_catalogue().services["S16"]
    kb = load({"s.yaml": "services:\n  - {id: r, catalogue: S16, outcomes: [], depends_on: [], harms: [], tags: []}\n"})
    service = kb.services["r"]
    assert service.outcomes == tuple(cat.outcomes) and len(service.harms) == len(cat.harms)
    assert len(service.depends_on) == len(cat.depends_on) and service.tags == ()


def test_a_workspace_changes_adds_and_turns_off_inherited_items(load) -> None:
    kb = load({"s.yaml": """
        services:
          - id: r
            catalogue: S16
            outcomes:
              - {id: O26, contribution: supporting, months: 1}
              - {id: O05}
              - {id: O27, applies: false, reason: we forecast nothing}
            depends_on:
              - {service: S11, applies: false, reason: data comes from the ERP}
              - {service: S09, kind: hard}
            harms:
              - {target: O22, severity: low}
              - {target: O23, applies: false, reason: the units asked for this report}
              - {target: pm, severity: medium, party: served}
        clients: [{id: pm}]
        """})
    service = kb.services["r"]
    links = {link.outcome: link for link in service.links}
    assert "O27" not in links and links["O26"].contribution == "supporting" and links["O26"].months == 1
    assert links["O05"].contribution == "supporting" and not links["O05"].inherited  # added by the workspace
    assert links["O09"].contribution == "primary" and links["O09"].inherited
    assert [(d.target, d.kind) for d in service.depends_on] == [("S09", "hard")]
    harms = {h.target: h for h in service.harms}
    assert harms["O22"].severity == "low" and harms["O22"].approaches == ("directive", "controlling")  # the rest kept
    assert "O23" not in harms and (harms["pm"].target_kind, harms["pm"].party) == ("client", "served")
    off = {(x.kind, x.target): x.reason for x in kb.switched_off}
    assert off == {("outcome", "O27"): "we forecast nothing", ("dependency", "S11"): "data comes from the ERP",
                   ("harm", "O23"): "the units asked for this report"}


def test_turning_off_what_is_not_inherited_is_an_error(errors) -> None:
    assert errors({"s.yaml": """
        services:
          - {id: r, catalogue: S16, outcomes: [{id: O01, applies: false}], harms: [{target: O22}, {target: O22}]}
        """}) == [
        "ws/s.yaml:2:40: outcome 'O01' is turned off, but service 'r' inherits no such outcome (hint: remove the entry, or check the id)",
        "ws/s.yaml:2:91: service 'r' lists a harm to 'O22' twice (first at ws/s.yaml:2:76) (hint: keep one entry per harmed service, outcome or client)",
    ]


def test_catalogue_references(load) -> None:
    kb = load({"s.yaml": """
        services:
          - {id: reporting, catalogue: S16, depends_on: [], harms: []}
          - id: pmo-lead
            term: long
            depends_on: [S16, 's19:soft']     # S16 is offered as 'reporting'; S19 is not offered
            harms: [{target: S03, mitigated_by: [s16]}]
        goals:
          - {id: G1, services: [S16, S26], due_months: 6}
        """})
    lead = kb.services["pmo-lead"]
    assert [(d.target, d.kind) for d in lead.depends_on] == [("reporting", "hard"), ("S19", "soft")]
    assert [(h.target, h.target_kind, h.mitigated_by) for h in lead.harms] == [
        ("S03", "service", (Mitigator("catalogue", "S16"),))]  # any service offering S16 mitigates
    assert kb.goals["G1"].services == ["reporting", "S26"]
    names = load_catalogue().services
    # reporting inherits S16's dependencies (S09, S11) and mitigators (S11, S15, S26): lists merge now
    assert kb.absent_catalogue == {k: names[k].name for k in ("S03", "S09", "S11", "S15", "S19", "S26")}


def test_catalogue_alias_resolves(load) -> None:
    alias_owner = next(s for s in load_catalogue().services.values() if s.aliases)
    kb = load({"s.yaml": f"services:\n  - {{id: a, catalogue: {alias_owner.aliases[0].lower()}}}\n"})
    assert kb.services["a"].catalogue == alias_owner.id


def test_dependency_short_forms_and_self_reference(load) -> None:
    kb = load({"s.yaml": """
        services:
          - id: reporting
            term: short
            depends_on: [tools:soft, methodology, Reporting, {service: audits, kind: hard, reason: data}]
          - {id: tools, term: short}
          - {id: methodology, term: medium}
          - {id: audits, term: medium}
        """})
    assert [(d.target, d.kind, d.reason) for d in kb.services["reporting"].depends_on] == [
        ("tools", "soft", None), ("methodology", "hard", None), ("audits", "hard", "data"),
    ]  # a service depending on itself is dropped
    assert str(kb.services["reporting"].depends_on[1].location).endswith("s.yaml:4:30")


def test_references_are_case_insensitive_and_ids_kept_as_written(load) -> None:
    kb = load({"s.yaml": """
        clients: [{id: Exec}]
        services:
          - {id: Reporting, term: short, clients: [EXEC]}
        goals:
          - {id: G1, services: [reporting], outcomes: [o26], due_months: 3, client: exec}
        """})
    assert kb.services["Reporting"].clients == ("Exec",)
    assert kb.goals["G1"].services == ["Reporting"] and kb.goals["G1"].outcomes == ["O26"]
    assert kb.goals["G1"].client == "Exec"


def test_harm_targets_services_or_outcomes(load) -> None:
    kb = load({"s.yaml": """
        outcomes: [{id: O31, name: Fewer escalations, term: medium}]
        services:
          - id: audits
            term: short
            approach: controlling
            harms:
              - {target: coaching, severity: high, reason: crowds it out, mitigated_by: [coaching]}
              - {target: O31}
              - {target: o22, approaches: [directive]}
          - {id: coaching, term: long}
        """})
    harms = kb.services["audits"].harms
    assert [(h.target, h.target_kind, h.severity) for h in harms] == [
        ("coaching", "service", "high"), ("O31", "outcome", "medium"), ("O22", "outcome", "medium"),
    ]
    assert harms[0].mitigated_by == (Mitigator("service", "coaching"),) and harms[2].approaches == ("directive",)
    assert kb.outcomes["O31"].name == "Fewer escalations"


def test_harm_notes_when_approach_unknown(load) -> None:
    kb = load({"s.yaml": """
        services:
          - {id: r, term: short, probability: 0.5, harms: [{target: O22, approaches: [controlling]}]}
        """})
    assert kb.notes == (
        "r: harm to O22 applies only in approaches controlling; the service gives no approach, so it is not counted",
    )


def test_effort_everywhere_or_nowhere(load, errors) -> None:
    kb = load({"s.yaml": "services:\n  - {id: a, term: short, effort: 3}\n  - {id: b, term: short, effort: 0}\n"})
    assert (kb.services["a"].effort, kb.services["b"].effort) == (3, 0)
    assert errors({"s.yaml": "services:\n  - {id: a, term: short, effort: 3}\n  - {id: b, term: short}\n"}) == [
        "ws/s.yaml:3:5: service 'b' has no effort while others do "
        "(hint: give 'effort' for every service, or for none (then each service counts as 1))"
    ]


def test_organisation_and_sources(load) -> None:
    kb = load({"org.yaml": """
        organisation:
          name: Acme IT PMO
          age_months: 4
          context: kickoff
          capacity_fte: 5
        """})
    assert kb.organisation.context == "kickoff" and kb.organisation.reviews_months == [3.0, 6.0]
    assert kb.source("organisation", "", "capacity_fte").line == 5
    assert kb.source("organisation", "", "nothing").line == 1


def test_example_workspace_loads() -> None:
    if not any(example_dir().glob("*.yaml")):
        pytest.skip("the example workspace is not written yet")
    kb = load_workspace(example_dir())
    assert kb.services and kb.goals and kb.clients


def test_a_faulty_record_is_checked_field_by_field(errors) -> None:
    """One bad field does not hide the record's other problems: its id defined twice, a misspelt dependency,
    client or outcome, a bad item of one of its lists beside a misspelt one. What only follows from a bad
    field (no term, no effort while others have one) is not said again."""
    assert errors({"k.yaml": """
        clients: [{id: exec}]
        services:
          - {id: tools, term: short, effort: 10}
          - id: reporting
            term: soon
            effort: lots
            clients: [exce]
            depends_on: [{service: tools, kind: hardd}, tols]
            outcomes: [O99]
          - {id: Reporting, term: short, effort: 5}
        """}) == [
        "ws/k.yaml:5:5: services.term: should be 'short', 'medium' or 'long' (got 'soon')",
        "ws/k.yaml:6:5: services.effort: should be a valid number, unable to parse string as a number (got 'lots')",
        "ws/k.yaml:7:15: unknown client 'exce' (hint: did you mean 'exec'?)",
        "ws/k.yaml:8:35: services.depends_on.kind: should be 'hard' or 'soft' (got 'hardd')",
        "ws/k.yaml:8:49: unknown service 'tols' (hint: did you mean 'tools'?)",
        "ws/k.yaml:9:16: unknown outcome 'O99' (hint: did you mean 'O29'?)",
        "ws/k.yaml:10:5: service id 'Reporting' is defined twice (first at ws/k.yaml:4:5)",
    ]


def test_references_into_an_unparsable_file_say_so(errors) -> None:
    """A YAML syntax error in one file: references from correct files to the ids written there are not
    "unknown"; they name the file that could not be read. A reference to an id written nowhere stays unknown."""
    assert errors({
        "services.yaml": """
            services:
              - {id: reporting, term: short}
              - {id: tools, term: short
        """,
        "goals.yaml": """
            goals:
              - {id: G1, services: [reporting, tools], due_months: 3}
              - {id: G2, services: [reportng], due_months: 3}
        """,
    }) == [
        "ws/goals.yaml:2:25: service 'reporting' is defined in ws/services.yaml, a file that could not be read "
        "(hint: fix the error in that file first)",
        "ws/goals.yaml:2:36: service 'tools' is defined in ws/services.yaml, a file that could not be read "
        "(hint: fix the error in that file first)",
        "ws/goals.yaml:3:25: unknown service 'reportng'",
        "ws/services.yaml:4:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping started at line 3)",
    ]


@pytest.mark.parametrize("text, limit, could", [
    ("services:\n  - a\n  - b\n  - c\n", 3, False),
    ("services:\n  - a\n  - b\n  - c\n  - d\n", 3, True),
    ("services: [a, b, c]\n", 3, False),
    ("services: [a, b, c, d]\n", 3, True),
    ("services: [a, b,]\nclients:\n  - x\n  - y\n", 3, True),  # four separators: maybe one list of four
    ("services: {a: 1, b: 2}\n", 3, False),
])
def test_a_list_too_long_to_build_is_only_counted_when_the_text_could_hold_one(text, limit, could):
    """The count of "-" and "," bounds every list's length; below the bound the events are not streamed."""
    assert could_hold_more(text, limit) is could
    if not could:
        assert long_list(text, limit) is None


def test_a_complex_key_after_a_list_is_not_counted_as_its_items() -> None:
    """The scalars inside a complex key (``? services:``) are not items of the list before it: counting ran on
    from ``action: []`` into the key and reported a list of two under no key (found by the fuzz test)."""
    assert long_list("action: []\n? services:", 1) is None
    assert long_list("action: [a]\n? {x: 1, y: 2}\n: z\n", 1) is None
    assert long_list("action: [a, b]\n? services:\n", 1) == ("action", 1, 13)


def test_a_long_list_of_another_key_does_not_hide_a_section_that_is_too_long(tmp_path: Path, monkeypatch) -> None:
    """The early count watches the sections only: a long list under another key before ``services`` used to be
    the one found, and the services' excess was then only noticed after the whole document was built."""
    text = "notes:\n" + "".join(f"  - n{i}\n" for i in range(6)) + "services:\n" + "".join(
        f"  - {{id: s{i}, term: short}}\n" for i in range(6))
    assert long_list(text, 4) == ("notes", 6, 5)
    assert long_list(text, 4, ("services", "goals")) == ("services", 13, 5)
    (tmp_path / "big.yaml").write_text(text, encoding="utf-8")
    import pmorules.knowledge.load as load_module

    monkeypatch.setattr(load_module, "MAX_ITEMS", 4)
    built = []
    monkeypatch.setattr(load_module, "parse_yaml", lambda *args: built.append(args) or {})
    with pytest.raises(InputError) as raised:
        load_workspace(tmp_path)
    assert [str(d) for d in raised.value.diagnostics] == [f"{tmp_path / 'big.yaml'}:13:5: more than 4 services (a workspace "
                                                          "holds at most 4 of each)"]
    assert built == []  # refused before the document was built


TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\ufeff"), max_size=12)


@given(st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | TEXT | st.sampled_from(["1e3", "0o17", "0x1F", ".5", "1_000"]),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
                    max_leaves=12))
@settings(max_examples=300, deadline=None)
def test_what_pmorules_writes_as_yaml_reads_back_as_written(value) -> None:
    """Scenarios, assessments and workbook cells are written with dump_yaml: the YAML 1.2 reader reads them
    back as the same values (a text like 1e3 or 0o17 is quoted; PyYAML alone writes them plain)."""
    assert parse_yaml(dump_yaml({"v": value}), "x.yaml") == {"v": value}  # (writers escape control characters first)


@pytest.mark.parametrize("value", ["a\x85b", "a\u2028b", "a\u2029b", "\u2028", "\x85 leading"])
def test_yamls_other_line_breaks_are_written_escaped_and_read_back(value: str) -> None:
    """NEL, LINE and PARAGRAPH SEPARATOR are line breaks to YAML: written raw in a quoted text they came back as
    a space (a saved scenario's description lost them); double-quoted they are escapes."""
    written = dump_yaml({"v": value})
    assert not any(mark in written for mark in ("\x85", "\u2028", "\u2029")), written
    assert parse_yaml(written, "x.yaml") == {"v": value}
