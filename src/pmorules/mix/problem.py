"""The optimisation problem of one analysis: candidates, goal targets, harm edges, and the
constraints the enabled rules imply (their ``implies`` blocks, with effective params).

Nothing here names a rule: a constraint exists because a rule file declares it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..analysis import Analysis
from ..errors import Diagnostic, InputError, did_you_mean
from ..knowledge import KnowledgeBase, Mitigator, Service, term_for_months
from ..knowledge.spec import Horizons
from ..measures import Delivery, goal_covers, goal_weight
from ..rules.load import Rule

CAPACITY = "capacity"  # the constraint group of the effort cap, beside one group per implying rule


def exact(value: float) -> float:
    """Numbers as the facts give them to the engine (6 decimals), so comparisons agree with the rules."""
    return round(value, 6)


@dataclass(frozen=True)
class Candidate:
    """A service the mix may hold: ``service`` carries the values the model uses (effort overrides applied)."""

    service: Service
    origin: str  # active | proposed | catalogue
    approaches: tuple[str | None, ...]  # the approaches it may run in, today's first

    @property
    def id(self) -> str:
        return self.service.id


@dataclass(frozen=True)
class Target:
    """One target of one goal (an outcome, or a service the goal names) and the candidates delivering it."""

    goal: str
    target: str
    kind: str  # outcome | service
    due_months: float
    deliveries: tuple[Delivery, ...]  # by candidates, best value first

    @property
    def linked(self) -> tuple[str, ...]:
        return tuple(d.service for d in self.deliveries)


@dataclass(frozen=True)
class HarmEdge:
    """A harm of a candidate, with what the constraints need to know about it beforehand."""

    src: str
    target: str
    target_kind: str  # service | outcome
    severity: str
    approaches: tuple[str, ...] | None
    mitigators: tuple[Mitigator, ...]
    harmed_terms: frozenset[str]  # the harmed service's or outcome's term and the horizon of the latest goal aiming at it
    aimed: bool  # some goal aims at the harmed target

    def applies(self, approach: str | None) -> bool:
        return self.approaches is None or approach in self.approaches


@dataclass(frozen=True)
class Constraint:
    """The constraint one rule implies, with its bound resolved from the rule's effective params."""

    rule: str
    spec: Any  # one of the Implies models of rules/spec.py
    bound: float | None
    origin: str  # where the bound was set

    @property
    def kind(self) -> str:
        return self.spec.kind

    def text(self) -> str:
        spec, pct = self.spec, f"{(self.bound or 0) * 100:g}%"
        if spec.kind == "share_min":
            op = ">" if spec.strict else "≥"
            return f"{spec.term}-term share {'0 or ' if spec.or_none else ''}{op} {pct}"
        if spec.kind == "share_max":
            return f"{spec.term}-term share {'<' if spec.strict else '≤'} {pct}"
        if spec.kind == "cover_in_time":
            return f"every goal target covered before its deadline by a service with p ≥ {pct}"
        if spec.kind == "min_probability":
            return f"every service has p ≥ {pct}"
        if spec.kind == "requires_prerequisites":
            return f"every {spec.dependency} prerequisite of a chosen service is chosen"
        if spec.kind == "acyclic":
            return f"no cycle of {spec.dependency} dependencies"
        scope = "/".join(spec.severity) + "-severity harm"
        if spec.src_term:
            scope += f" from a {'/'.join(spec.src_term)}-term service"
        if spec.harmed_term:
            scope += f" to {'/'.join(spec.harmed_term)}-term value"
        if spec.kind == "harm_inactive":
            return f"no active {scope}"
        return f"every active {scope} has an active mitigator"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "kind": self.kind, "text": self.text(), "bound": self.bound, "origin": self.origin}


@dataclass
class Problem:
    candidates: dict[str, Candidate]
    goal_weights: dict[str, float]
    targets: list[Target]
    harms: list[HarmEdge]
    constraints: list[Constraint]
    capacity: float
    change_cost: float  # per service added or dropped
    approach_cost: float  # per change of approach
    today: frozenset[str] = field(default_factory=frozenset)  # the ids of today's active services
    redundancy: float = 0.5  # the adherence convention: credit for backup services
    horizons: Horizons = field(default_factory=Horizons)

    def groups(self) -> list[str]:
        """The constraint groups that an explanation may relax: the capacity, then each implying rule."""
        return [CAPACITY] + list(dict.fromkeys(c.rule for c in self.constraints))

    def coverage_weights(self) -> dict[tuple[str, str], float]:
        """The objective weight of each distinct target: Σ over its goals of w_g / |targets of g| / Σ w."""
        total = sum(self.goal_weights.values())
        counts: dict[str, int] = {}
        for target in self.targets:
            counts[target.goal] = counts.get(target.goal, 0) + 1
        weights: dict[tuple[str, str], float] = {}
        if total <= 0:
            return weights
        for target in self.targets:
            key = (target.kind, target.target)
            weights[key] = weights.get(key, 0.0) + self.goal_weights[target.goal] / counts[target.goal] / total
        return weights


def _bound(rule: Rule) -> tuple[float | None, str]:
    spec = rule.spec.implies
    if not hasattr(spec, "param"):
        return None, rule.source.short()
    if spec.param is None:
        return spec.value, rule.source.short()
    value = rule.params.get(spec.param)
    origin = rule.origins.get(f"params.{spec.param}", rule.source.short())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputError([Diagnostic(
            rule.source, f"rule {rule.id}: implies: param {spec.param} = {value!r} (set at {origin}) is not a number from 0 to 1",
        )])
    return float(value), origin


def implied_constraints(rules: list[Rule]) -> list[Constraint]:
    """The constraints of the rules that declare one (pass the enabled rules of a rulebook)."""
    constraints, errors = [], []
    for rule in rules:
        if rule.spec.implies is not None:
            try:
                bound, origin = _bound(rule)
            except InputError as exc:
                errors.extend(exc.diagnostics)
                continue
            constraints.append(Constraint(rule.id, rule.spec.implies, bound, origin))
    if errors:
        raise InputError(errors)
    return constraints


def _catalogue_services(kb: KnowledgeBase, probability: float) -> list[Service]:
    """Catalogue services the workspace does not offer, with the candidate probability of the settings."""
    return [replace(service, probability=probability) for service in kb.candidates.values()]


def _efforts(analysis: Analysis, pool: list[Service]) -> dict[str, float]:
    """Effort overrides for candidates not active yet; a catalogue service gets the default.

    When no workspace service gives an effort, every service counts 1, and so does a catalogue
    service unless the settings say otherwise.
    """
    settings = analysis.config.config.mix
    kb = analysis.kb
    given = any("effort" in s.sources for s in kb.services.values())
    default = settings.candidate_effort if given or "candidate_effort" in settings.model_fields_set else 1.0
    efforts = {s.id: default for s in pool if s.id not in kb.services}
    open_ids = {s.id.lower(): s.id for s in pool if not s.active}
    errors = []
    for key, value in settings.efforts.items():
        found = open_ids.get(key.lower())
        if found is None:
            errors.append(
                Diagnostic(
                    analysis.config.where("mix", "efforts", key),
                    f"mix.efforts: {key!r} is not a candidate that could be added (a proposed or catalogue service)",
                    did_you_mean(key, list(open_ids.values())),
                )
            )
        else:
            efforts[found] = value
    if errors:
        raise InputError(errors)
    return efforts


def _approach_options(service: Service, alternatives: list[str]) -> tuple[str | None, ...]:
    """Today's approach, plus alternatives that change which of its harms apply (one per distinct set)."""
    def pattern(approach: str | None) -> tuple[bool, ...]:
        return tuple(h.approaches is None or approach in h.approaches for h in service.harms)

    if not any(h.approaches is not None and service.approach in h.approaches for h in service.harms):
        return (service.approach,)
    options: dict[tuple[bool, ...], str | None] = {pattern(service.approach): service.approach}
    for approach in alternatives:
        options.setdefault(pattern(approach), approach)
    return tuple(options.values())


def build_problem(analysis: Analysis, capacity: float | None = None) -> Problem:
    """The problem of an analysis: today's active and proposed services, and (unless switched off)
    the catalogue services the PMO does not offer yet, are the candidates; retired services are not."""
    kb = analysis.kb
    settings = analysis.config.config.mix
    pool = [s for s in kb.services.values() if s.status != "retired"]
    if settings.include_catalogue:
        pool += _catalogue_services(kb, settings.candidate_probability)
    errors = []
    try:
        constraints = implied_constraints(analysis.rulebook.enabled())
    except InputError as exc:
        errors.extend(exc.diagnostics)
    try:
        efforts = _efforts(analysis, pool)
    except InputError as exc:
        errors.extend(exc.diagnostics)
    if errors:
        raise InputError(errors)
    candidates: dict[str, Candidate] = {}
    for service in pool:
        if service.id in efforts:
            service = replace(service, effort=efforts[service.id])
        origin = service.status if service.id in kb.services else "catalogue"
        candidates[service.id] = Candidate(service, origin, _approach_options(service, list(settings.approaches)))

    conventions = analysis.config.config.adherence.conventions()
    goal_weights = {goal.id: goal_weight(goal, kb.clients) for goal in kb.goals.values()}
    covers = goal_covers(kb, conventions, [c.service for c in candidates.values()])
    targets = [Target(c.goal, c.target, c.kind, c.due_months, c.deliveries) for goal in covers.values() for c in goal]
    aiming: dict[str, list[float]] = {}
    for goal in kb.goals.values():
        for target in list(goal.outcomes) + list(goal.services):
            aiming.setdefault(target, []).append(goal.due_months)

    harms = []
    for candidate in candidates.values():
        for harm in candidate.service.harms:
            terms = set()
            if harm.target_kind == "service" and harm.target in candidates:
                terms.add(candidates[harm.target].service.term)
            if harm.target_kind == "outcome" and harm.party == "any" and kb.outcomes[harm.target].term:
                terms.add(kb.outcomes[harm.target].term)
            if harm.target_kind == "client":
                terms.add("long")
            if harm.target in aiming:
                terms.add(term_for_months(max(aiming[harm.target]), kb.horizons))
            harms.append(
                HarmEdge(candidate.id, harm.target, harm.target_kind, harm.severity, harm.approaches,
                         harm.mitigated_by, frozenset(terms), harm.target in aiming or harm.target_kind != "service")
            )

    today = frozenset(s.id for s in kb.services.values() if s.active)
    if capacity is None:
        capacity = settings.capacity if settings.capacity is not None else sum(kb.services[s].effort for s in today)
    return Problem(
        candidates, goal_weights, targets, harms, constraints, float(capacity), settings.change_cost,
        settings.approach_change_cost, today, conventions.redundancy, kb.horizons,
    )
