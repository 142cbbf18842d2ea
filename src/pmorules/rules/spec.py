"""The rule file format (README, "Adapting the rules") as strict pydantic models.

A rule matches one or more fact patterns; each pattern tests fields of one
fact type with conditions from a closed operator set. Values come from a
literal, a named param, or a field of an earlier pattern (a join). There is
no expression language beyond that, and never any Python.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..numbers import number_problem
from ..vocabulary import VERDICTS, DependencyKind, Level, Term

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
    contains = "contains"
    any_in = "any_in"


COMPARISON_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
LIST_OPS = {"contains", "any_in"}  # tests of a list field (a relation such as a service's client_ids)
OP_WORDS = {
    "eq": "=", "ne": "≠", "gt": ">", "ge": "≥", "lt": "<", "le": "≤",
    "in": "in", "not_in": "not in", "exists": "is given", "missing": "is not given", "matches": "matches",
    "contains": "contains", "any_in": "has one of",
}

Scalar = Union[bool, int, float, str]


def _finite(value: Any) -> Any:
    """A literal, param value or test fact value: every number in it follows the number policy (numbers.py)."""
    for item in value if isinstance(value, list) else [value]:
        problem = number_problem(item)
        if problem:
            raise ValueError(problem)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class Operand(Strict):
    """A value in a condition: a literal, a param, or a field of a matched pattern."""

    value: Scalar | list[Scalar] | None = None
    param: str | None = None
    ref: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")] | None = None

    _value_is_finite = field_validator("value")(_finite)

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

    _value_is_finite = field_validator("value")(_finite)

    @model_validator(mode="after")
    def _operand(self) -> Condition:
        given = [k for k in ("value", "param", "ref") if getattr(self, k) is not None]
        if self.op in ("exists", "missing"):
            if given or self.times or self.plus:
                raise ValueError(f"'{self.op}' takes no value")
        elif len(given) != 1:
            raise ValueError("give exactly one of 'value', 'param' or 'ref'")
        if self.op == "matches" and self.value is not None and not isinstance(self.value, str):
            raise ValueError("'matches' needs a regular expression string")  # its dialect: rules/regex.py
        if self.op in ("in", "not_in", "any_in") and self.value is not None and not isinstance(self.value, list):
            raise ValueError(f"'{self.op}' needs a list value")
        if self.op not in ("in", "not_in", "any_in") and isinstance(self.value, list):
            raise ValueError(f"'{self.op}' compares with one value, not a list")
        if self.op in LIST_OPS and self.ref is not None:  # the engine matches list items against literals only
            raise ValueError(f"'{self.op}' takes a value or a param, not a ref")
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

    _default_is_finite = field_validator("default")(_finite)


class RuleTest(Strict):
    """A must-fire or must-not-fire case: a small fact set."""

    name: str
    expect: Literal["fire", "no-fire"]
    subjects: list[str] | None = None
    params: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    facts: Annotated[list[dict[str, Any]], Field(min_length=1)]

    @field_validator("params")
    @classmethod
    def _params_are_finite(cls, params: dict[str, Any]) -> dict[str, Any]:
        for value in params.values():
            _finite(value)
        return params

    @field_validator("facts")
    @classmethod
    def _facts_are_plain(cls, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A fact's fields are plain values the engine can compare: text, true/false, a finite number, or a
        list of them (a relation such as ``client_ids: [exec, pm]``)."""
        for fact in facts:
            for name, value in fact.items():
                items = value if isinstance(value, list) else [value]
                if not all(isinstance(item, (str, bool, int, float)) for item in items):
                    raise ValueError(f"field {name!r} of a test fact must be text, a number, true/false or a list of them")
                _finite(value)
        return facts




class Bound(Strict):
    """A threshold of an implied constraint: a fraction, given as a literal or as a param of the rule (so an
    organisation's param override moves the optimum too). A list of params names the thresholds a rule picks
    from by the organisation (e.g. a lower minimum for a mature PMO): the engine decides which one applies, by
    running the rule on today's facts with the measure just past each of them."""

    value: Annotated[float, Field(ge=0, le=1)] | None = None
    param: str | Annotated[list[str], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Bound:
        if (self.value is None) == (self.param is None):
            raise ValueError("give exactly one of 'value' or 'param'")
        return self

    @property
    def params(self) -> list[str]:
        return [] if self.param is None else [self.param] if isinstance(self.param, str) else list(self.param)


# A term; quick: perceived within the short horizon from today; control: tagged control or run in an imposing approach;
# lasting: builds lasting capability (long-term, or tagged capability).
ShareOf = Union[Term, Literal["quick", "control", "lasting"]]


class ShareMin(Bound):
    """The share reaches the bound in the recommended mix. The engine decides, on today's mix fact, whether the
    bound itself passes (``>`` or ``≥``) and whether a mix without any effort in the share passes too (a rule
    that fires on ``0 < share < bound``)."""

    kind: Literal["share_min"]
    term: ShareOf


class ShareMax(Bound):
    """The share stays within the bound in the recommended mix (the engine decides whether the bound passes)."""

    kind: Literal["share_max"]
    term: ShareOf


class CoverInTime(Bound):
    """Every goal target has a chosen service delivering it in time that the rule accepts: the engine runs the
    rule on the target's fact with each candidate delivery as its best one. A target that no candidate can
    cover is reported as unattainable instead of making every mix infeasible. The bound is for the text."""

    kind: Literal["cover_in_time"]


class MinProbability(Bound):
    """No chosen service is one the rule flags: the engine runs the rule on each candidate's service fact, at
    every size and approach the mix may give it. The bound is for the text."""

    kind: Literal["min_probability"]


class RequiresPrerequisites(Strict):
    """A chosen service has the prerequisites the rule asks for: the engine runs the rule on each dependency
    fact as if the service were active and its prerequisite were not."""

    kind: Literal["requires_prerequisites"]


class Acyclic(Strict):
    """The chosen services' dependencies of this kind form no cycle."""

    kind: Literal["acyclic"]
    dependency: DependencyKind = "hard"


class HarmImplied(Strict):
    """No harm the rule flags is active in the mix: the engine runs the rule on each candidate harm's fact as
    if it were active, once without and once with a mitigator running, and the mix avoids the flagged case
    (it drops a side, moves the approach, or adds or drops a mitigator)."""

    kind: Literal["harm"]


class ClientQuick(Strict):
    """Every client the rule flags when nothing quick serves it gets a chosen service serving it whose value is
    perceived within the short horizon from today (the engine runs the rule on each client's fact); with a
    bound, only a quick service at least that likely to deliver counts."""

    kind: Literal["client_quick"]
    param: str | None = None

    @property
    def params(self) -> list[str]:
        return [] if self.param is None else [self.param]


class QuickProbabilityMin(Bound):
    """The most likely chosen service perceived within the short horizon reaches the bound (the engine
    decides, on today's mix fact, whether the rule applies and whether a mix with nothing quick passes)."""

    kind: Literal["quick_probability_min"]


class AdherenceMin(Bound):
    """The overall goal adherence of the mix reaches the bound (the engine decides whether the rule applies)."""

    kind: Literal["adherence_min"]


class GoalAdherenceMin(Bound):
    """Every goal the rule flags when its adherence is just below the bound reaches the bound."""

    kind: Literal["goal_adherence_min"]


Implies = Annotated[
    Union[ShareMin, ShareMax, CoverInTime, MinProbability, RequiresPrerequisites, Acyclic, HarmImplied,
          ClientQuick, QuickProbabilityMin, AdherenceMin, GoalAdherenceMin],
    Field(discriminator="kind"),
]
"""What a rule implies for the recommended mix: the condition under which the rule does not fire. The
optimiser (pmorules.mix) reads these blocks; it never names a rule. An error-level rule's condition is a hard
constraint; a warning or info rule's is a cost (docs/mix.md)."""


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
    # Its findings say something holds (a harm held in check): the recommended mix never counts one as a cost
    # or as something a change avoids; a change that makes one go says so among what it loses (docs/mix.md).
    good_news: bool = False
    banner: bool = False  # its findings open the report, and a command says them first when the day it is run raises them
    verdict: Literal[VERDICTS] | None = None  # what its findings say of the goal they are about (goal rules)
    # The kind of problem its findings are, shared by the rules that are milder or graver forms of one problem
    # (a goal at risk, not covered, cannot be met): ``pmorules diff`` pairs a finding that went away with one of
    # the same family on the same subjects that appeared, as escalated or eased rather than resolved and new.
    # Gravity within a family: the level, then ``family_rank`` (higher is graver) between rules of one level.
    family: Annotated[str, Field(pattern=NAME)] | None = None
    family_rank: Annotated[int, Field(ge=0, le=100)] = 0

    @field_validator("implies")
    @classmethod
    def _implied_param_exists(cls, implies: Any, info: ValidationInfo) -> Any:
        """An overlay (``extends``) is checked after merging, when its base's params are known."""
        params = info.data.get("params") or {}
        for param in getattr(implies, "params", []):
            if not info.data.get("extends") and param not in params:
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
