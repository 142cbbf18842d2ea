"""What-if scenarios: a PMO lead's own variants of today's mix, run through the full rulebook.

A variant keeps, drops or adds services, moves approaches and sets efforts and probabilities. It comes from the
command line (``pmorules mix WS --drop B --add S07 --approach reporting=supportive --effort reporting=10``) or from the
YAML files of the workspace's ``scenarios/`` folder (a folder, because every ``*.yaml`` beside the knowledge
is read as knowledge). Each variant costs one analysis; it is feasible when it meets the hard conditions
(``hard_problems``, the one test of feasibility for today, the recommendation and every variant).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..analysis import Analysis, reanalyze
from ..output import SCENARIOS_FOLDER
from ..errors import Diagnostic, InputError, Location, did_you_mean
from ..findings import Finding, Headline, names_of
from ..knowledge import Service
from ..numbers import number_problem
from ..vocabulary import Approach
from ..yamlio import locate, read_yaml
from .milp import Unattainable
from .problem import Problem, additions, approached_probability, resized_probability

FOLDER = SCENARIOS_FOLDER


RESERVED_NAMES = frozenset({"today", "recommended"})  # the comparison's own columns (mix --compare, the report)


# an effort this close over the capacity fits it: the solver holds its rows to 1e-6, and efforts in whole steps
# are kept to 6 decimals (three services grown by a sixth of a step overshoot by a millionth)
FITS = 1e-6
LISTS = ("drop", "keep", "add")  # a variant's fields that list services
MAPS = ("effort", "approach", "probability")  # and those that give a value per service


class ScenarioSpec(BaseModel):
    """One variant of today's mix."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    keep: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _not_a_column_of_its_own(cls, name: str) -> str:
        if name.strip().casefold() in RESERVED_NAMES:
            raise ValueError(f"{name!r} names a column of the comparison already: give the scenario another name")
        return name
    drop: list[str] = Field(default_factory=list)
    add: list[str] = Field(default_factory=list)
    approach: dict[str, Approach] = Field(default_factory=dict)
    effort: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(default_factory=dict)
    probability: dict[str, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(default_factory=dict)


class ScenariosFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenarios: list[ScenarioSpec]


@dataclass
class Scenario:
    spec: ScenarioSpec
    where: dict[str, Location]  # field -> where it was written (a file position, or the command-line option)
    items: dict[tuple[str, int | str], Location] = field(default_factory=dict)  # (field, index or service): its item

    def at(self, name: str, item: int | str | None = None) -> Location:
        """Where a field's item was written (a list's by index, a mapping's by service), else the field."""
        return self.items.get((name, item), self.where[name]) if item is not None else self.where[name]


@dataclass
class ScenarioResult:
    scenario: Scenario
    analysis: Analysis
    problems: list[str] = field(default_factory=list)  # why it is not feasible

    @property
    def feasible(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return self.scenario.spec.name

    def to_json(self, today: Analysis) -> dict[str, Any]:
        return {"name": self.name, "description": self.scenario.spec.description, "feasible": self.feasible,
                "problems": self.problems, **side(self.analysis, today)}


def side(state: Analysis, today: Analysis) -> dict[str, Any]:
    """What a comparison shows of one mix: size, effort, shares, adherence, findings, and what is new."""
    summary = state.facts.summary
    before = {(f.rule, tuple(f.subjects)) for f in today.findings}
    new = [f for f in state.findings if f.level != "info" and (f.rule, tuple(f.subjects)) not in before]
    return {
        "mix": [s.id for s in state.kb.services.values() if s.active],
        "services": summary["services"], "effort": round(sum(s.effort for s in state.kb.services.values() if s.active), 6),
        "shares": summary["shares"], "adherence": summary["adherence"], "counts": state.counts(),
        "new": [{"rule": f.rule, "level": f.level, "subjects": f.subjects, "title": f.title} for f in new],
        "findings": [f.to_json() for f in state.findings],
    }


def load_scenarios(workspace: str | Path) -> list[Scenario]:
    """The scenarios of the workspace's ``scenarios/`` folder (none without one); bad input is a located error."""
    folder = Path(workspace) / FOLDER
    if not folder.is_dir():
        return []
    found, errors = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
        display = str(Path(str(workspace)) / FOLDER / path.name)
        try:
            raw = read_yaml(path, display, inside=Path(workspace))
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        try:
            parsed = ScenariosFile.model_validate(raw)
        except ValidationError as exc:
            errors += [Diagnostic(locate(raw, tuple(e["loc"]), display), *_worded(e)) for e in exc.errors()]
            continue
        for index, spec in enumerate(parsed.scenarios):
            where = {name: locate(raw, ("scenarios", index, name), display) for name in ScenarioSpec.model_fields}
            items = {(name, item): locate(raw, ("scenarios", index, name, item), display)
                     for name in LISTS for item in range(len(getattr(spec, name)))}
            items |= {(name, key): locate(raw, ("scenarios", index, name, key), display)
                      for name in MAPS for key in getattr(spec, name)}
            found.append(Scenario(spec, where, items))
    names = [s.spec.name for s in found]
    errors += [Diagnostic(s.where["name"], f"scenario {s.spec.name!r} is defined twice")
               for i, s in enumerate(found) if s.spec.name in names[:i]]
    if errors:
        raise InputError(errors)
    return found


def _worded(error: dict[str, Any]) -> tuple[str, str | None]:
    """A schema error as the knowledge files word theirs (pydantic said "Extra inputs are not permitted")."""
    loc = [str(part) for part in error["loc"] if isinstance(part, str)]
    if error["type"] == "extra_forbidden":
        fields = ScenarioSpec.model_fields if len(loc) > 1 else ScenariosFile.model_fields
        return f"unknown key {loc[-1]!r}", did_you_mean(loc[-1], list(fields))
    message = error["msg"].replace("Input should be", "should be").replace("Value error, ", "")
    return f"{'.'.join(loc) or 'document'}: {message}", None


def _pairs(option: str, values: list[str], number: bool) -> tuple[dict[str, Any], list[Diagnostic]]:
    out, errors = {}, []
    for value in values:
        key, sep, given = value.partition("=")
        if not sep or not key or not given:
            errors.append(Diagnostic(Location(option), f"{value!r} is not SERVICE=VALUE"))
            continue
        if number:
            try:
                number = float(given)
            except ValueError:
                errors.append(Diagnostic(Location(option), f"{given!r} is not a number"))
                continue
            if problem := number_problem(number, given):
                errors.append(Diagnostic(Location(option), f"{key}: {problem}"))
            else:
                out[key] = number
        else:
            out[key] = given
    return out, errors


def from_options(keep: list[str], drop: list[str], add: list[str], approach: list[str], effort: list[str],
                 probability: list[str] = ()) -> Scenario:
    """The variant the command-line options describe ("your variant")."""
    approaches, errors = _pairs("--approach", approach, number=False)
    efforts, more = _pairs("--effort", effort, number=True)
    chances, most = _pairs("--probability", list(probability), number=True)
    errors += more + most
    data = {"name": "your variant", "keep": keep, "drop": drop, "add": add, "approach": approaches, "effort": efforts,
            "probability": chances}
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        errors += [Diagnostic(Location(f"--{e['loc'][0]}"),
                              ": ".join(filter(None, [".".join(map(str, e["loc"][1:])), e["msg"].replace("Input should", "should")])))
                   for e in exc.errors()]
    if errors:
        raise InputError(errors)
    return Scenario(spec, {name: Location(f"--{name}") for name in ScenarioSpec.model_fields})


def evaluate_scenario(analysis: Analysis, problem: Problem, unattainable: list[Unattainable], scenario: Scenario,
                      open_services: dict | None = None) -> ScenarioResult:
    """Apply a variant to today's mix and run the full rulebook on it (one analysis)."""
    services = variant_services(analysis, scenario, open_services)
    after = reanalyze(analysis, replace(analysis.kb, services=services))
    return ScenarioResult(scenario, after, hard_problems(problem, unattainable, after))


def check_scenarios(analysis: Analysis) -> None:
    """Every scenario of the workspace can be applied to today's mix (InputError with each problem located)."""
    errors: list[Diagnostic] = []
    scenarios = load_scenarios(analysis.kb.workspace)
    open_services = additions(analysis) if scenarios else {}
    for scenario in scenarios:
        try:
            variant_services(analysis, scenario, open_services)
        except InputError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise InputError(errors)


def variant_services(analysis: Analysis, scenario: Scenario, open_services: dict | None = None) -> dict[str, Service]:
    """The workspace's services as a variant leaves them (InputError, located, for a change it cannot make)."""
    kb, spec, settings = analysis.kb, scenario.spec, analysis.config.config.mix
    open_services = additions(analysis) if open_services is None else open_services
    lower = {sid.lower(): sid for sid in kb.services} | {sid.lower(): sid for sid in open_services}
    errors: list[Diagnostic] = []

    def bad(name: str, item: int | str, text: str, hint: str | None = None) -> None:
        """A problem with one item of a field: named in the message when it sits in a file, not on the command
        line, and located at the item itself where the file says."""
        place = scenario.at(name, item)
        errors.append(Diagnostic(place, f"{name}: {text}" if place.line is not None else text, hint))

    def resolved(name: str) -> list[tuple[int | str, str]]:
        """(item, service id) of a field's known services; each unknown one is an error at its item."""
        given = getattr(spec, name)
        out: list[tuple[int | str, str]] = []
        for item, sid in enumerate(given) if isinstance(given, list) else ((key, key) for key in given):
            found = lower.get(sid.lower())
            if found is None:
                bad(name, item, f"unknown service {sid!r}", did_you_mean(sid, list(lower.values())))
            elif any(found == seen for _, seen in out):
                bad(name, item, f"{sid!r} is listed twice")
            else:
                out.append((item, found))
        return out

    services = dict(kb.services)
    dropped: set[str] = set()
    for item, sid in resolved("drop"):
        if not services.get(sid) or not services[sid].active:
            bad("drop", item, f"{sid!r} is not running today")
        elif any(sid.lower() == k.lower() for k in spec.keep):
            bad("drop", item, f"{sid!r} is also listed under keep")
        else:
            services[sid] = replace(services[sid], status="retired")
            dropped.add(sid)
    for item, sid in resolved("add"):
        if sid in dropped:
            bad("add", item, f"{sid!r} is also listed under drop")
        elif sid in services and services[sid].active:
            bad("add", item, f"{sid!r} is running already")
        elif sid in open_services:  # as the mix assumes it
            services[sid] = replace(open_services[sid][0], status="active")
        else:  # a retired service brought back as the workspace records it
            services[sid] = replace(services[sid], status="active")
    for item, sid in resolved("keep"):
        if not (sid in services and services[sid].active):
            bad("keep", item, f"{sid!r} is not in this variant (add it)")
    for name in ("approach", "effort", "probability"):
        changes = getattr(spec, name)
        for key, sid in resolved(name):
            value = changes[key]
            if not (sid in services and services[sid].active):
                bad(name, key, f"{sid!r} is not in this variant")
                continue
            service = services[sid]
            if name == "approach":  # a running service moved to another approach: its probability moves too
                today = kb.services.get(sid)
                moved = today is not None and today.active and value != today.approach
                services[sid] = replace(service, approach=value, probability=approached_probability(
                    today.probability, settings.approach_change_probability) if moved else service.probability)
            elif name == "probability":  # after the effort: a probability stated wins over the resized one
                services[sid] = replace(service, probability=value)
            else:
                step = value / service.effort - 1 if service.effort else 0.0
                services[sid] = replace(service, effort=value, probability=resized_probability(
                    service.probability, step, settings.resize_elasticity))
    if errors:
        raise InputError(errors)
    return services


def hard_problems(problem: Problem, unattainable: list[Unattainable], state: Analysis) -> list[str]:
    """Why a mix does not meet the hard conditions, the one notion of feasibility of every column of a
    comparison (today, the recommendation, each scenario): it fits the capacity, keeps the services marked
    keep and the core (as far as the error-level rules let them stay), adds nothing ``[mix] never`` forbids
    and raises no error-level finding a mix can avoid. Empty: the mix is feasible."""
    problems = []
    names = names_of(state.kb)
    active = {sid for sid, s in state.kb.services.items() if s.active}
    effort = sum(s.effort for s in state.kb.services.values() if s.active)
    if effort > problem.capacity * (1 + FITS) + 1e-9:
        units = problem.units
        stated = problem.capacity_given or problem.capacity_note or "capacity" in state.kb.organisation.model_fields_set
        limit = "the capacity" if stated else "today's total effort (no capacity is stated)"
        more = next(n for n in range(7) if n == 6 or units.text(effort, n) != units.text(problem.capacity, n))
        problems.append(f"its effort {units.text(effort, more)} exceeds {limit}, {units.text(problem.capacity, more)}")
    for cid, candidate in sorted(problem.candidates.items()):
        if cid in active:
            if problem.protected(cid) and state.kb.services[cid].effort < candidate.sizes[0].service.effort - 1e-9:
                problems.append(f"it cuts “{names[cid]}”, " + ("marked keep" if candidate.locked else
                                                              f"a core service ({candidate.core})"))
            continue
        if candidate.locked:
            problems.append(f"it drops “{names[cid]}”, marked keep")
        elif problem.forced(cid):
            problems.append(f"it drops the core service “{names[cid]}” ({candidate.core})")
    for members, keep, why in problem.core_groups:
        if sum(m in active for m in members) < keep:
            problems.append(f"it keeps fewer than {keep} of the core services {', '.join(f'“{names[m]}”' for m in members)} ({why})")
    if problem.core_keep is not None:
        core = [cid for cid, c in problem.candidates.items() if c.core and cid not in problem.core_exempt]
        if sum(cid in active for cid in core) < problem.core_keep:
            problems.append(f"it keeps fewer than {problem.core_keep} of the core services ({problem.core_note})")
    never = {k.lower() for k in problem.settings.never}
    problems += [f"it adds “{names[sid]}”, which the organisation rules out (pmorules.toml, [mix] never)"
                 for sid in sorted(active) if sid.lower() in never and sid not in problem.today]
    problems += [f"it raises the error “{f.title}” on {', '.join(f'“{names[s]}”' for s in f.subjects)}"
                 for f in state.findings if avoidable_error(problem, unattainable, f)]
    return problems


def avoidable_error(problem: Problem, unattainable: list[Unattainable], finding: Finding | Headline) -> bool:
    """Whether a finding breaks a hard condition some mix can meet: an error of a rule the model holds as hard,
    about something not beyond every mix (``unattainable``). Such a finding makes a mix infeasible."""
    if finding.level != "error" or finding.rule not in {c.rule for c in problem.constraints if c.hard and c.applies}:
        return False
    beyond = {(u.rule, u.goal) for u in unattainable} | {(u.rule, u.target) for u in unattainable}
    return not all((finding.rule, s) in beyond for s in finding.subjects)
