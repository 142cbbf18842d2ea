"""The rule file format (README, "Adapting the rules") as strict pydantic models.

A rule matches one or more fact patterns; each pattern tests fields of one
fact type with conditions from a closed operator set. Values come from a
literal, a named param, or a field of an earlier pattern (a join). There is
no expression language beyond that, and never any Python.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..vocabulary import DependencyKind, Level, Severity, Term

RULE_ID = r"^[A-Z][A-Z0-9]{1,9}[0-9]{3}$|^[A-Za-z][A-Za-z0-9_-]{1,40}$"
NAME = r"^[a-z0-9]+(-[a-z0-9]+)*$"
PATTERN_NAME = r"^[a-z][a-z0-9_]{0,30}$"
FIELD = r"^[a-z][a-z0-9_]{0,60}$"


class Op(str, Enum):
    eq = "eq"
    ne = "ne"
    gt = "gt"
    ge = "ge"
    lt = "lt"
    le = "le"
    in_ = "in"
    not_in = "not_in"
    exists = "exists"
    missing = "missing"
    matches = "matches"


COMPARISON_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
OP_WORDS = {
    "eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤",
    "in": "in", "not_in": "not in", "exists": "is given", "missing": "is not given", "matches": "matches",
}

Scalar = Union[bool, int, float, str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Operand(Strict):
    """A value in a condition: a literal, a param, or a field of a matched pattern."""

    value: Scalar | list[Scalar] | None = None
    param: str | None = None
    ref: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Operand:
        given = [k for k in ("value", "param", "ref") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'value', 'param' or 'ref'")
        return self


class Condition(Strict):
    """``field op value`` on the pattern's fact; the value may be scaled (``times``) or shifted (``plus``)."""

    field: Annotated[str, Field(pattern=FIELD)]
    op: Op
    value: Scalar | list[Scalar] | None = None
    param: str | None = None
    ref: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")] | None = None
    times: Operand | None = None
    plus: Operand | None = None

    @model_validator(mode="after")
    def _operand(self) -> Condition:
        given = [k for k in ("value", "param", "ref") if getattr(self, k) is not None]
        if self.op in ("exists", "missing"):
            if given or self.times or self.plus:
                raise ValueError(f"'{self.op}' takes no value")
        elif len(given) != 1:
            raise ValueError("give exactly one of 'value', 'param' or 'ref'")
        if self.op == "matches" and self.value is not None:
            if not isinstance(self.value, str):
                raise ValueError("'matches' needs a regular expression string")
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        if self.op in ("in", "not_in") and self.value is not None and not isinstance(self.value, list):
            raise ValueError(f"'{self.op}' needs a list value")
        if self.op not in ("in", "not_in") and isinstance(self.value, list):
            raise ValueError(f"'{self.op}' compares with one value, not a list")
        if (self.times or self.plus) and self.op not in COMPARISON_OPS:
            raise ValueError("'times' and 'plus' apply to comparisons only")
        return self


class AnyOf(Strict):
    """At least one of the listed conditions holds."""

    any: Annotated[list[Union[Condition, "AllOf", "AnyOf"]], Field(min_length=1)]


class AllOf(Strict):
    """Every listed condition holds (useful inside ``any``)."""

    all: Annotated[list[Union[Condition, "AnyOf", "AllOf"]], Field(min_length=1)]


Clause = Union[Condition, AnyOf, AllOf]


class Pattern(Strict):
    """One fact the rule needs (or, with ``absent: true``, must not find)."""

    fact: Annotated[str, Field(pattern=FIELD)]
    as_: str | None = Field(default=None, alias="as", pattern=PATTERN_NAME)
    absent: bool = False
    where: list[Clause] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_enum_values=True)

    @property
    def name(self) -> str:
        return self.as_ or self.fact


class Param(Strict):
    default: Scalar | list[Scalar]
    description: str = ""


class RuleTest(Strict):
    """A must-fire or must-not-fire case: a small fact set."""

    name: str
    expect: Literal["fire", "no-fire"]
    subjects: list[str] | None = None
    params: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    facts: Annotated[list[dict[str, Any]], Field(min_length=1)]




class Bound(Strict):
    """A threshold of an implied constraint: a fraction, given as a literal or as a param of the rule
    (so an organisation's param override moves the optimum too)."""

    value: Annotated[float, Field(ge=0, le=1)] | None = None
    param: str | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Bound:
        if (self.value is None) == (self.param is None):
            raise ValueError("give exactly one of 'value' or 'param'")
        return self


ShareOf = Union[Term, Literal["quick"]]  # a term, or quick: perceived within the short horizon from today


class ShareMin(Bound):
    """``share_<term> >= bound`` (``>`` if strict) in the recommended mix, which is never empty. With
    ``or_none`` a mix without any effort of the term passes too (a rule that fires on ``0 < share < bound``)."""

    kind: Literal["share_min"]
    term: ShareOf
    strict: bool = False
    or_none: bool = False


class ShareMax(Bound):
    """``share_<term> <= bound`` (``<`` if strict) in the recommended mix."""

    kind: Literal["share_max"]
    term: ShareOf
    strict: bool = False


class CoverInTime(Bound):
    """Every goal target (an outcome of the goal, or a service it names) has a chosen linked service
    with ``months <= due_months`` and ``probability >= bound``. A target that no candidate can cover
    is reported as unattainable instead of making every mix infeasible."""

    kind: Literal["cover_in_time"]


class MinProbability(Bound):
    """Every chosen service has ``probability >= bound``."""

    kind: Literal["min_probability"]


class RequiresPrerequisites(Strict):
    """Every prerequisite (``depends_on`` of this kind) of a chosen service is chosen too."""

    kind: Literal["requires_prerequisites"]
    dependency: DependencyKind = "hard"


class Acyclic(Strict):
    """The chosen services' dependencies of this kind form no cycle."""

    kind: Literal["acyclic"]
    dependency: DependencyKind = "hard"


class HarmFilter(Strict):
    """Which harm edges a harm constraint covers: by severity, the harming service's term, and the
    term of what is harmed (the harmed service's term, or the horizon of the latest goal aiming at the
    harmed service or outcome; an edge matches if either is listed). Unset filters match every edge."""

    severity: Annotated[list[Severity], Field(min_length=1)]
    src_term: Annotated[list[Term], Field(min_length=1)] | None = None
    harmed_term: Annotated[list[Term], Field(min_length=1)] | None = None


class HarmInactive(HarmFilter):
    """No matching harm edge is active (harming service chosen in an approach the harm names, and the
    harmed service chosen or the harmed outcome aimed at by a goal), whatever mitigates it."""

    kind: Literal["harm_inactive"]


class HarmMitigated(HarmFilter):
    """Every active matching harm edge has a chosen mitigator (a service in its ``mitigated_by``)."""

    kind: Literal["harm_mitigated"]


Implies = Annotated[
    Union[ShareMin, ShareMax, CoverInTime, MinProbability, RequiresPrerequisites, Acyclic, HarmInactive, HarmMitigated],
    Field(discriminator="kind"),
]
"""What a rule implies for the recommended mix: the constraint under which the rule does not fire.
The optimiser (pmorules.mix) reads these blocks; it never names a rule."""


class RuleSpec(Strict):
    """One rule as written in a rule file."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    extends: str | None = None
    name: Annotated[str, Field(pattern=NAME)] | None = None
    title: str | None = None
    category: str | None = None
    level: Level | None = None
    enabled: bool = True
    params: dict[Annotated[str, Field(pattern=FIELD)], Param] = Field(default_factory=dict)
    match: list[Pattern] | None = None
    subjects: list[str] | None = None
    path: str | None = None
    message: str | None = None
    why: str | None = None
    recommendation: str | None = None
    example: str | None = None
    references: list[str] = Field(default_factory=list)
    tests: list[RuleTest] = Field(default_factory=list)
    implies: Implies | None = None

    @field_validator("implies")
    @classmethod
    def _implied_param_exists(cls, implies: Any, info: ValidationInfo) -> Any:
        """An overlay (``extends``) is checked after merging, when its base's params are known."""
        param = getattr(implies, "param", None)
        params = info.data.get("params") or {}
        if param is not None and not info.data.get("extends") and param not in params:
            raise ValueError(f"unknown param {param!r}; the rule's params are {', '.join(sorted(params)) or 'none'}")
        return implies

    @model_validator(mode="before")
    @classmethod
    def _param_shorthand(cls, data: Any) -> Any:
        """``params: {min_share: 0.2}`` is short for ``{min_share: {default: 0.2}}``."""
        if isinstance(data, dict) and isinstance(data.get("params"), dict):
            data = dict(data)
            data["params"] = {
                k: (v if isinstance(v, dict) else {"default": v}) for k, v in data["params"].items()
            }
        return data


REQUIRED_FOR_BASE = ("name", "title", "category", "level", "match", "subjects", "message", "why", "recommendation")
