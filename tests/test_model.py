"""The knowledge format models (README, "Describing a PMO"): strict, with ranges and short forms."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from pmorules.knowledge.spec import (
    Client,
    DependencySpec,
    Goal,
    HarmSpec,
    Horizons,
    KnowledgeFile,
    Organisation,
    ServiceSpec,
)


def error_types(exc: ValidationError) -> set[tuple[tuple, str]]:
    return {(tuple(e["loc"]), e["type"]) for e in exc.errors()}


def test_service_minimal_defaults() -> None:
    spec = ServiceSpec(id="reporting")
    assert spec.status == "active"
    assert spec.term is None and spec.months_to_value is None
    assert spec.probability is None and spec.effort is None
    assert spec.tags is None and spec.outcomes is None  # None: "take the catalogue's"
    assert spec.depends_on is None and spec.harms is None
    assert spec.clients == [] and spec.assessments == []
    assert spec.model_fields_set == {"id"}


def test_enums_are_stored_as_plain_strings() -> None:
    spec = ServiceSpec(id="a", term="long", status="proposed", approach="supportive")
    assert spec.term == "long" and type(spec.term) is str
    assert spec.status == "proposed" and spec.approach == "supportive"


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("probability", 1.4, "less_than_equal"),
        ("probability", -0.1, "greater_than_equal"),
        ("probability", math.nan, "finite_number"),
        ("effort", -3, "greater_than_equal"),
        ("effort", math.inf, "finite_number"),
        ("effort", "lots", "float_parsing"),
        ("effort", True, "number_type"),  # YAML's true is not 1
        ("probability", False, "number_type"),
        ("months_to_value", True, "number_type"),
        ("months_to_value", -1, "greater_than_equal"),
        ("months_to_value", 601, "less_than_equal"),
        ("term", "soon", "enum"),
        ("status", "paused", "enum"),
        ("approach", "bossy", "enum"),
        ("colour", "red", "extra_forbidden"),
        ("tags", "control", "list_type"),
    ],
)
def test_service_rejects(field: str, value: object, kind: str) -> None:
    with pytest.raises(ValidationError) as info:
        ServiceSpec.model_validate({"id": "a", field: value})
    assert ((field,), kind) in error_types(info.value)


@pytest.mark.parametrize("value", [0, 0.0, 1, 1.0, 0.5])
def test_fraction_bounds_are_inclusive(value: float) -> None:
    assert ServiceSpec(id="a", probability=value).probability == value
    assert Client(id="c", weight=value).weight == value


@pytest.mark.parametrize("weight", [2, -0.5, 1.0001])
def test_client_weight_outside_0_1(weight: float) -> None:
    with pytest.raises(ValidationError):
        Client(id="c", weight=weight)


def test_client_weight_defaults_to_1() -> None:
    assert Client(id="c").weight == 1.0


@pytest.mark.parametrize("bad_id", ["", "a b", "-lead", "_x", "é", "a/b", "x" * 81])
def test_ids_must_be_plain_names(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        ServiceSpec(id=bad_id)


@pytest.mark.parametrize("good_id", ["reporting", "S16", "pmo-2.0", "a_b", "9lives"])
def test_ids_accept_names(good_id: str) -> None:
    assert ServiceSpec(id=good_id).id == good_id


def test_ids_must_be_text_not_numbers() -> None:
    with pytest.raises(ValidationError) as info:
        Goal.model_validate({"id": 1, "services": ["a"], "due_months": 3})
    assert (("id",), "string_type") in error_types(info.value)


def test_whitespace_is_stripped() -> None:
    assert ServiceSpec(id="  reporting ", name=" Weekly ").name == "Weekly"


@pytest.mark.parametrize(
    ("text", "service", "kind"),
    [("tools", "tools", "hard"), ("tools:soft", "tools", "soft"), ("tools : hard", "tools", "hard"), ("tools:", "tools", "hard")],
)
def test_dependency_short_form(text: str, service: str, kind: str) -> None:
    dep = DependencySpec.model_validate(text)
    assert (dep.service, dep.kind) == (service, kind)


def test_dependency_mapping_form_and_default_kind() -> None:
    assert DependencySpec.model_validate({"service": "tools"}).kind == "hard"
    dep = DependencySpec.model_validate({"service": "tools", "kind": "soft", "reason": "needs data"})
    assert (dep.kind, dep.reason) == ("soft", "needs data")


@pytest.mark.parametrize("text", ["tools:firm", ":soft"])
def test_dependency_short_form_errors(text: str) -> None:
    with pytest.raises(ValidationError):
        DependencySpec.model_validate(text)


def test_service_depends_on_mixed_forms() -> None:
    spec = ServiceSpec.model_validate({"id": "a", "depends_on": ["tools:soft", "methodology", {"service": "x"}]})
    assert [(d.service, d.kind) for d in spec.depends_on] == [("tools", "soft"), ("methodology", "hard"), ("x", "hard")]


def test_harm_defaults_and_severity() -> None:
    harm = HarmSpec(target="culture")
    assert harm.severity == "medium" and harm.mitigated_by == [] and harm.approaches is None
    with pytest.raises(ValidationError):
        HarmSpec(target="culture", severity="extreme")


def test_goal_needs_outcomes_or_services() -> None:
    with pytest.raises(ValidationError, match="at least one of 'outcomes' or 'services'"):
        Goal(id="G1", due_months=3)
    assert Goal(id="G1", due_months=3, outcomes=["O26"]).priority == 1.0
    assert Goal(id="G2", due_months=3, services=["a"]).services == ["a"]


def test_a_goals_due_date_or_months_is_left_to_the_loader() -> None:
    """The schema keeps a goal with both or neither, so that the loader reports it beside the goal's references
    (tests/test_dates.py: one run names every mistake in the goal)."""
    for given in ({}, {"due": "2026-06-30", "due_months": 3}):
        goal = Goal.model_validate({"id": "G1", "outcomes": ["O1"], **given})
        assert (goal.due is None) == (goal.due_months is None)
    assert Goal.model_validate({"id": "G1", "outcomes": ["O1"], "due": "2026-06-30"}).due_months is None


def test_horizons_defaults_and_order() -> None:
    assert (Horizons().short_max_months, Horizons().medium_max_months) == (3.0, 12.0)
    assert Horizons(short_max_months=4, medium_max_months=4).medium_max_months == 4
    with pytest.raises(ValidationError, match="must not be below"):
        Horizons(short_max_months=12, medium_max_months=6)


def test_organisation_defaults() -> None:
    org = Organisation()
    assert org.name == "PMO" and org.reviews_months == [3.0, 6.0] and org.context is None
    with pytest.raises(ValidationError):
        Organisation(context="booming")
    assert str(Organisation.model_validate({"assessed_on": "2026-01-31"}).assessed_on) == "2026-01-31"


def test_knowledge_file_sections() -> None:
    empty = KnowledgeFile.model_validate({"services": None, "clients": None})
    assert empty.services == [] and empty.clients == [] and empty.organisation is None
    with pytest.raises(ValidationError) as info:
        KnowledgeFile.model_validate({"service": []})
    assert (("service",), "extra_forbidden") in error_types(info.value)


def test_errors_are_all_reported_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        KnowledgeFile.model_validate(
            {
                "clients": [{"id": "c", "weight": 2}],
                "services": [{"id": "a", "term": "soon", "probability": 1.4, "effort": -1, "colour": "red"}],
            }
        )
    assert error_types(info.value) == {
        (("clients", 0, "weight"), "less_than_equal"),
        (("services", 0, "term"), "enum"),
        (("services", 0, "probability"), "less_than_equal"),
        (("services", 0, "effort"), "greater_than_equal"),
        (("services", 0, "colour"), "extra_forbidden"),
    }
