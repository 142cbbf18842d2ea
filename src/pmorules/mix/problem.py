"""The optimisation problem of one analysis: candidates at their sizes and approaches, goal targets, harm
edges, what protects a service from being dropped, and the conditions the enabled rules imply (their
``implies`` blocks), each decided on the engine (probe.py) for this organisation.

Nothing here names a rule or a threshold: a constraint exists because a rule file declares it, its level
decides whether it is hard (error) or a cost (warning, info), and the engine decides what it flags.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import combinations
from typing import Any

import networkx as nx

from ..analysis import Analysis
from ..config import MixSettings
from ..errors import Diagnostic, InputError, did_you_mean
from ..facts import Fact
from ..knowledge import Service, term_for_months
from ..knowledge.spec import Horizons
from ..measures import (
    Conventions,
    Delivery,
    active_mitigators,
    goal_covers,
    goal_weight,
    imposes,
    is_quick,
)
from ..numbers import clean
from ..rules.load import Rule
from .units import Units
from .probe import DELTA, flagged, reads_of, universe_facts, variant

CAPACITY = "capacity"  # the constraint group of the effort cap, beside one group per implying rule
CORE = "core"  # the group of the rows that keep core services
KEEP = "keep"  # the group of the rows that keep services marked keep: true
ASSUMED = frozenset({"[mix] candidate_effort", "[mix] candidate_probability", "the default"})  # nobody stated it
SEP = "\x1f"  # joins a candidate id and a size index in the ids the coverage measure sees
SHARE_FIELDS = {"short": "share_short", "medium": "share_medium", "long": "share_long", "quick": "share_quick",
                "control": "control_share", "lasting": "share_lasting"}  # the mix fact's field of each share


def exact(value: float) -> float:
    """Numbers as the facts give them to the engine, so comparisons agree with the rules."""
    return clean(value)


DELIVERY_FIELDS = frozenset({"best_value", "best_months", "in_time", "best_service"})


def _delivery_fields(delivery: Delivery) -> dict[str, Any]:
    """A goal target's fact fields when this delivery is its best one."""
    return {"best_value": exact(delivery.value), "best_months": exact(delivery.months), "in_time": 1,
            "best_service": delivery.service.partition(SEP)[0]}


def resized_probability(probability: float, step: float, elasticity: float) -> float:
    """The probability of a service whose effort moves by ``step`` (a fraction of today's effort).

    More effort buys more chances to deliver: p' = 1 − (1 − p)^k with k = 1 + elasticity·step, so +25% at
    p 0.25 gives 0.30 and −50% at p 0.8 gives 0.55 (elasticity 1). Rounded to 3 decimals, as a person would.
    """
    exponent = max(0.0, 1 + elasticity * step)
    return round(1 - (1 - probability) ** exponent, 3)


def approached_probability(probability: float, change: float) -> float:
    """The probability of a running service moved to another approach: ``change`` (``[mix]
    approach_change_probability``) added, kept within 0 and 1, rounded to 3 decimals as resizing is."""
    return round(min(1.0, max(0.0, probability + change)), 3)


@dataclass(frozen=True)
class Size:
    step: float  # the effort change, as a fraction of today's effort (0: as today)
    service: Service  # the candidate at this size: its effort, probability and clients
    extends_to: str | None = None  # a client a running quick service is extended to, with one more step of effort
    approach: int | None = None  # the approach (index) this size runs in, when the probability depends on it

    @property
    def label(self) -> str:
        if self.extends_to:
            return f"extended to {self.extends_to}"
        return "as today" if not self.step else f"{self.step * 100:+g}%"


@dataclass(frozen=True)
class Candidate:
    """A service the mix may hold, at the sizes and in the approaches it may take (today's first)."""

    service: Service  # as today, or as assumed for an addition
    origin: str  # active | proposed | catalogue
    approaches: tuple[str | None, ...]
    sizes: tuple[Size, ...]
    assumed: dict[str, str] = field(default_factory=dict)  # addition: field -> where its value comes from
    locked: bool = False  # keep: true
    core: str | None = None  # why the mix must not drop it

    @property
    def id(self) -> str:
        return self.service.id

    @property
    def assessed(self) -> bool:
        """Whether someone stated its effort and probability (a running service, a proposed one with its own
        estimates, or a candidate given both in ``[mix.candidates]``); else it is an option to assess."""
        return self.origin == "active" or all(self.assumed.get(name) not in ASSUMED for name in ("effort", "probability"))

    def vid(self, size: int) -> str:
        return f"{self.id}{SEP}{size}"

    @cached_property
    def pairs(self) -> tuple[tuple[int, str | None], ...]:
        """Every (size index, approach) the candidate may run at: a size tied to an approach runs only in it."""
        return tuple((index, approach) for index, size in enumerate(self.sizes)
                     for number, approach in enumerate(self.approaches) if size.approach in (None, number))


def split_vid(vid: str) -> tuple[str, int]:
    cid, _, size = vid.partition(SEP)
    return cid, int(size)


@dataclass(frozen=True)
class Target:
    """A goal target (an outcome or a named service) with its deadline and the candidate sizes delivering it."""

    target: str
    kind: str  # outcome | service
    due_months: float
    deliveries: tuple[Delivery, ...]  # by candidate size (Delivery.service is a vid), best value first

    @property
    def key(self) -> tuple[str, str, float]:
        return self.kind, self.target, self.due_months

    @cached_property
    def in_time(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if exact(d.months) <= self.due_months and d.value > 0)


@dataclass(frozen=True)
class HarmEdge:
    """A harm of a candidate: what it hits, when it applies, and which candidates would mitigate it."""

    src: str
    index: int
    target: str
    target_kind: str  # service | outcome | client
    approaches: tuple[str, ...] | None
    mitigators: tuple[str, ...]  # candidate ids
    delivering: tuple[str, ...] = ()  # those of today's services that already deliver (stay so while kept)

    def applies(self, approach: str | None) -> bool:
        return self.approaches is None or approach in self.approaches


@dataclass
class Constraint:
    """The condition one rule implies, as the engine decided it for this organisation."""

    rule: str
    spec: Any  # one of the Implies models of rules/spec.py
    bound: float | None
    origin: str  # where the bound was set
    level: str = "error"
    applies: bool = True  # False: the rule exempts this organisation, whatever the mix
    strict: bool = False  # share: the bound itself breaks the condition
    or_none: bool = False  # share minimum: a mix without any effort in the share passes
    eligible: dict[tuple[str, tuple[str, str, float]], frozenset[str]] = field(default_factory=dict)  # (goal, target) -> vids
    services: dict[str, frozenset[tuple[int, str | None]]] = field(default_factory=dict)  # flagged (size, approach)
    edges: list[tuple[str, str]] = field(default_factory=list)  # flagged prerequisites (src, dst)
    # fires (unmitigated, mitigated by nothing that delivers yet, mitigated by a service that already delivers)
    harms: dict[tuple[str, int], tuple[bool, bool, bool]] = field(default_factory=dict)
    clients: list[str] = field(default_factory=list)  # flagged when nothing quick serves them
    goals: list[str] = field(default_factory=list)  # flagged below the bound

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def hard(self) -> bool:
        return self.level == "error"

    def text(self) -> str:
        spec, pct = self.spec, f"{(self.bound or 0) * 100:g}%"
        term = getattr(spec, "term", "")
        measure = {"quick": "quick-value", "control": "control", "lasting": "lasting-capability"}.get(term, f"{term}-term")
        if not self.applies:
            return "does not apply to this organisation"
        if spec.kind == "share_min":
            op = ">" if self.strict else "≥"
            return f"{measure} share {'0 or ' if self.or_none else ''}{op} {pct}"
        if spec.kind == "share_max":
            return f"{measure} share {'<' if self.strict else '≤'} {pct}"
        if spec.kind == "cover_in_time":
            return f"every goal target covered before its deadline by a service the rule accepts (value ≥ {pct})"
        if spec.kind == "min_probability":
            return f"no service the rule flags (probability below {pct})"
        if spec.kind == "requires_prerequisites":
            return "every prerequisite the rule asks for is in the mix"
        if spec.kind == "acyclic":
            return f"no cycle of {spec.dependency} dependencies"
        if spec.kind == "harm":
            return "no harm the rule flags is active"
        if spec.kind == "client_quick":
            likely = f" at least {pct} likely to deliver" if self.bound is not None else ""
            return f"every client the rule names gets a quick service{likely}"
        if spec.kind == "adherence_min":
            return f"overall goal adherence ≥ {pct}"
        if spec.kind == "quick_probability_min":
            return f"the most likely quick service has p ≥ {pct}" + (" (or nothing is quick)" if self.or_none else "")
        return f"every goal the rule names reaches an adherence of {pct}"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "kind": self.kind, "level": self.level, "hard": self.hard, "applies": self.applies,
                "text": self.text(), "bound": self.bound, "origin": self.origin}


@dataclass
class Problem:
    candidates: dict[str, Candidate]
    goal_weights: dict[str, float]
    goal_targets: dict[str, list[tuple[str, str, float]]]  # goal -> its target keys
    targets: dict[tuple[str, str, float], Target]
    harms: list[HarmEdge]
    constraints: list[Constraint]
    capacity: float
    settings: MixSettings
    today: frozenset[str] = field(default_factory=frozenset)  # the ids of today's active services
    conventions: Conventions = field(default_factory=Conventions)
    horizons: Horizons = field(default_factory=Horizons)
    excluded: dict[str, str] = field(default_factory=dict)  # candidate not proposed -> why
    today_findings: frozenset[tuple[str, frozenset[str]]] = frozenset()  # (rule, subjects) of today's findings
    capacity_given: bool = False  # set by --capacity or [mix] capacity (else today's effort)
    capacity_note: str = ""  # why the capacity is not today's effort
    capacity_source: str = ""  # where the capacity comes from
    core_exempt: dict[str, str] = field(default_factory=dict)  # core service the hard conditions force out -> why
    core_keep: int | None = None  # None: keep every core service not exempt; else keep at least this many
    core_note: str = ""  # why not every core service can stay (with core_keep)
    # core services of which an error-level rule lets only some stay: (members, how many can stay, why)
    core_groups: list[tuple[tuple[str, ...], int, str]] = field(default_factory=list)
    flagged: frozenset[str] = frozenset()  # services a warning or error is about today (its first subject)
    units: Units | None = None  # the steps effort moves in, and effort in percent and FTE (units.py)
    good_news: frozenset[str] = frozenset()  # rules whose findings are good news (good_news: true)
    # the best mix with info findings free (recommend.py): a running service it keeps whole stays whole
    info_free: dict[str, tuple[int, str | None]] | None = None

    def drop_cost(self, cid: str) -> float:
        """What dropping one of today's services costs: a service no warning or error is about works, and its
        clients would lose what it gives them, so it costs more than a warning (a warning is never silenced
        by dropping a working service); a service a warning or error is about costs the plain change cost."""
        return self.settings.change_cost if cid in self.flagged else self.settings.drop_working_cost

    def paired(self, cid: str) -> str | None:
        """Why a core service may go: it is in a group of core services of which only some can stay."""
        return next((why for members, _, why in self.core_groups if cid in members), None)

    def protected(self, cid: str) -> bool:
        """Whether the mix must keep this service at no less than its effort today: marked keep, or core (unless
        the error-level rules force it out)."""
        candidate = self.candidates[cid]
        return candidate.locked or (bool(candidate.core) and cid not in self.core_exempt and self.paired(cid) is None)

    def kept_from_harm(self, target: str) -> bool:
        """Whether a harm to this service must be resolved at its source: it runs today and no warning or error is
        about it, so dropping it would only lose what the harm's rule protects."""
        return target in self.today and target not in self.flagged

    def core_effort(self) -> float:
        """Today's effort of the services the mix must keep whole."""
        return sum(c.sizes[0].service.effort for cid, c in self.candidates.items() if self.protected(cid))

    def forced(self, cid: str) -> bool:
        """Whether every mix holds this candidate (marked keep, or core while every core service is kept)."""
        candidate = self.candidates[cid]
        return candidate.locked or (bool(candidate.core) and cid not in self.core_exempt and self.core_keep is None
                                    and self.paired(cid) is None)

    def groups(self) -> list[str]:
        """The constraint groups an explanation may relax: the capacity, the protections, each hard rule."""
        protections = [g for g, on in ((KEEP, any(c.locked for c in self.candidates.values())),
                                       (CORE, any(c.core for c in self.candidates.values()))) if on]
        return [CAPACITY] + protections + list(dict.fromkeys(c.rule for c in self.constraints if c.hard and c.applies))

    def coverage_weights(self) -> dict[tuple[str, str, float], float]:
        """The objective weight of each distinct target: Σ over its goals of w_g / |targets of g| / Σ w."""
        total = sum(self.goal_weights.values())
        weights: dict[tuple[str, str, float], float] = {}
        if total <= 0:
            return weights
        for goal, keys in self.goal_targets.items():
            for key in keys:
                weights[key] = weights.get(key, 0.0) + self.goal_weights[goal] / len(keys) / total
        return weights

    def late_weights(self) -> dict[tuple[str, str, float], float]:
        """The objective weight of delivering each target at all, late or not: ``late_value`` times its weight in
        time. Value after a deadline still counts, less, so the mix does not drop long-term capability work
        merely because it pays off after this year's deadlines."""
        weights: dict[tuple[str, str, float], float] = {}
        for (kind, target, _), weight in self.coverage_weights().items():
            key = (kind, target, math.inf)
            weights[key] = weights.get(key, 0.0) + weight * self.settings.late_value
        return {k: w for k, w in weights.items() if w > 0}

    def present_today(self, rule: str, ids: tuple[str, ...]) -> bool:
        """Whether today's mix has a finding of the rule about all these ids (any finding of it, without ids)."""
        return any(set(ids) <= subjects for subjects in self._today_by_rule.get(rule, ()))

    @cached_property
    def _today_by_rule(self) -> dict[str, list[frozenset[str]]]:
        found: dict[str, list[frozenset[str]]] = {}
        for rule, subjects in self.today_findings:
            found.setdefault(rule, []).append(subjects)
        return found

    def is_new(self, rule: str, level: str, ids: tuple[str, ...]) -> bool:
        """Whether a finding would be one today's mix lacks, and so cost new_finding_factor times more: a new
        warning or error, or a new info about one of today's services (resizing never creates a finding)."""
        return (level != "info" or any(i in self.today for i in ids)) and not self.present_today(rule, ids)

    def level_cost(self, level: str) -> float:
        """What a finding the mix keeps costs: an info little, a warning more, an error (one only options to
        assess could avoid) as a warning."""
        return self.settings.info_cost if level == "info" else self.settings.warning_cost


# ------------------------------------------------------------------ candidates


def _where(analysis: Analysis, *keys: str):
    return analysis.config.where(*keys)


def _check_settings(analysis: Analysis, pool: dict[str, Service]) -> None:
    """Every id in ``[mix]`` names a candidate that is not running, every client exists, and the effort step is
    within the PMO's headcount."""
    kb, settings, errors = analysis.kb, analysis.config.config.mix, []
    open_ids = {s.id.lower(): s.id for s in pool.values() if not s.active}
    for key, given in settings.candidates.items():
        if key.lower() not in open_ids:
            errors.append(Diagnostic(_where(analysis, "mix", "candidates", key),
                                     f"mix.candidates: {key!r} is not a candidate that could be added (a proposed "
                                     f"or catalogue service)", did_you_mean(key, list(open_ids.values()))))
        for client in given.clients or []:
            if client not in kb.clients:
                errors.append(Diagnostic(_where(analysis, "mix", "candidates", key, "clients"),
                                         f"mix.candidates.{key}.clients: unknown client {client!r}",
                                         did_you_mean(client, list(kb.clients))))
    fte = kb.organisation.capacity_fte
    if fte and settings.fte_step > fte:  # a step of more than the whole PMO: efforts beyond what the solver can hold
        errors.append(Diagnostic(_where(analysis, "mix", "fte_step"),
                                 f"mix.fte_step: a step of {settings.fte_step:g} FTE is more than the PMO's whole "
                                 f"headcount (organisation.capacity_fte: {fte:g} FTE)",
                                 "give a smaller step, or the PMO's headcount in FTE"))
    for key in settings.never:
        if key.lower() not in open_ids:
            running = any(s.id.lower() == key.lower() and s.active for s in pool.values())
            why = "is running today (never forbids additions; drop it with a scenario)" if running else \
                "is not a candidate that could be added"
            errors.append(Diagnostic(_where(analysis, "mix", "never"), f"mix.never: {key!r} {why}",
                                     None if running else did_you_mean(key, list(open_ids.values()))))
    if errors:
        raise InputError(errors)


def _pool(analysis: Analysis) -> dict[str, Service]:
    """Today's active and proposed services, and (unless switched off) the catalogue services not offered."""
    kb, settings = analysis.kb, analysis.config.config.mix
    pool = {s.id: s for s in kb.services.values() if s.status != "retired"}
    if settings.include_catalogue:
        given = any("effort" in s.sources for s in kb.services.values())
        default = settings.candidate_effort if given or "candidate_effort" in settings.model_fields_set else 1.0
        if given:  # in whole steps a manager allocates
            default = Units.of(kb, settings).whole(default)
        for service in kb.candidates.values():
            pool[service.id] = replace(service, effort=default, probability=settings.candidate_probability)
    return pool


def _assume(analysis: Analysis, service: Service, origin: str, covers_clients: dict[str, set[str]]
            ) -> tuple[Service, dict[str, str]]:
    """An addition with what the mix assumes of it, and where each assumption comes from."""
    kb, settings = analysis.kb, analysis.config.config.mix
    given = next((v for k, v in settings.candidates.items() if k.lower() == service.id.lower()), None)
    table = f"[mix.candidates.{service.id}]"
    assumed = {
        "effort": "the workspace" if origin == "proposed" and "effort" in service.sources else
        ("[mix] candidate_effort" if origin == "catalogue" else "the default"),
        "probability": "the workspace" if origin == "proposed" and service.probability_given else
        ("[mix] candidate_probability" if origin == "catalogue" else "the default"),
        "months_to_value": "the workspace" if origin == "proposed" and service.months_given else "the catalogue's term",
        "clients": "the workspace",
    }
    changes: dict[str, Any] = {}
    if given is not None:
        for name in ("effort", "probability", "months_to_value"):
            if getattr(given, name) is not None:
                changes[name] = getattr(given, name)
                assumed[name] = table
        if given.clients is not None:
            changes["clients"] = tuple(given.clients)
            assumed["clients"] = table
    if "months_to_value" in changes:
        months = changes["months_to_value"]
        changes |= {"months": max(0.0, months - service.running_months), "term": term_for_months(months, kb.horizons)}
    service = replace(service, **changes)
    if not service.clients and "clients" not in changes:
        service = replace(service, clients=tuple(sorted(covers_clients.get(service.id, ()))))
        assumed["clients"] = "the clients of the goals it would serve"
    return service, assumed


def _sizes(service: Service, origin: str, settings: MixSettings, units: Units) -> tuple[Size, ...]:
    """Today's size, and each of ``[mix] resize_steps`` (fractions of today's effort) moved in whole steps a
    manager allocates (units.py); the probability follows the step actually taken."""
    sizes = [Size(0.0, service)]
    if origin != "catalogue" and service.effort > 0:
        efforts = {units.moved(service.effort, step) for step in settings.resize_steps if step}
        for effort in sorted(e for e in efforts if e is not None):
            step = effort / service.effort - 1
            sizes.append(Size(step, replace(
                service, effort=effort,
                probability=resized_probability(service.probability, step, settings.resize_elasticity))))
    return tuple(sizes)


def _extensions(service: Service, unserved: list[str], units: Units, horizons: Horizons) -> tuple[Size, ...]:
    """A running quick service extended to a client no quick service serves today: one more step of effort,
    the same probability (the step pays for the new client's share of the work), a quick win for the client."""
    if not is_quick(service, horizons) or service.effort <= 0:
        return ()
    effort = round(service.effort + units.step, 6)
    return tuple(Size(effort / service.effort - 1, replace(service, effort=effort, clients=service.clients + (client,)),
                      client) for client in unserved if client not in service.clients)


def _in_approaches(sizes: tuple[Size, ...], approaches: tuple[str | None, ...], change: float,
                   elasticity: float) -> tuple[Size, ...]:
    """A running service's sizes in each approach it may take, when a change of approach moves its probability:
    today's sizes in today's approach, then each again in every other approach, resized from the probability the
    new approach gives (as a what-if moves it: the approach first, then the effort; the other way round gave the
    recommendation another probability than the same mix judged as a what-if)."""
    if len(approaches) < 2 or not change:
        return sizes
    moved = approached_probability(sizes[0].service.probability, change)  # today's size, in another approach

    def probability(size: Size) -> float:
        return moved if size.extends_to or not size.step else resized_probability(moved, size.step, elasticity)

    return tuple(replace(size, approach=0) for size in sizes) + tuple(
        replace(size, approach=number, service=replace(size.service, approach=approach, probability=probability(size)))
        for number, approach in enumerate(approaches) if number for size in sizes)


def _approach_options(service: Service, alternatives: list[str]) -> tuple[str | None, ...]:
    """Today's approach, plus alternatives that change which of its harms apply or whether it controls."""
    def pattern(approach: str | None) -> tuple[bool, ...]:
        moved = replace(service, approach=approach)
        return (imposes(moved),) + tuple(h.approaches is None or approach in h.approaches for h in service.harms)

    options: dict[tuple[bool, ...], str | None] = {pattern(service.approach): service.approach}
    for approach in alternatives:
        options.setdefault(pattern(approach), approach)
    return tuple(options.values())


def _core(analysis: Analysis) -> dict[str, str]:
    """Today's services the mix must not drop, with why: the only in-time cover of a goal target, the only
    service working towards a target at all (late, but dropping it would abandon that part of the goal, a
    decision for the PMO lead and the goal's owner, not the optimiser), delivering a goal of top priority
    (its goal fact has priority_rank 1), or one whose approach is mandated (a funding gate, a review board)."""
    kb = analysis.kb
    top = {f.key for f in analysis.facts.facts if f.type == "goal" and f.fields.get("priority_rank") == 1}
    core = {sid: "its approach is mandated: the PMO's mandate rests on it" for sid, s in kb.services.items() if s.mandated}
    for goal, covers in sorted(analysis.facts.covers.items()):
        name = kb.goals[goal].name or goal
        for cover in covers:
            what = kb.outcomes[cover.target].name if cover.target in kb.outcomes else cover.target
            in_time = [d for d in cover.in_time if d.value > 0]
            working = [d for d in cover.deliveries if d.value > 0]
            if len(in_time) == 1:
                core.setdefault(in_time[0].service, f"the only service delivering {what} in time for the goal {name}")
            elif not in_time and len({d.service for d in working}) == 1:
                core.setdefault(working[0].service, f"the only service working towards {what} for the goal {name}, "
                                                    "even if late")
        if goal in top:
            for cover in covers:
                for delivery in cover.deliveries:
                    core.setdefault(delivery.service, f"it serves {name}, a goal of top priority")
    return {sid: why for sid, why in core.items() if sid in kb.services and kb.services[sid].active}


def additions(analysis: Analysis) -> dict[str, tuple[Service, dict[str, str]]]:
    """Every service the mix could add (proposed, or from the catalogue unless switched off), as the mix
    assumes it, with where each assumption comes from. Checks the ``[mix]`` settings that name them."""
    kb = analysis.kb
    pool = _pool(analysis)
    _check_settings(analysis, pool)
    conventions = analysis.config.config.adherence.conventions()
    covers = goal_covers(kb, conventions, [s for s in pool.values() if not s.active])
    goal_clients: dict[str, set[str]] = {}
    for goal, targets in covers.items():
        client = kb.goals[goal].client
        for cover in targets:
            for delivery in cover.deliveries:
                if client:
                    goal_clients.setdefault(delivery.service, set()).add(client)
    return {sid: _assume(analysis, service, "catalogue" if sid not in kb.services else "proposed", goal_clients)
            for sid, service in pool.items() if not service.active}


def _candidates(analysis: Analysis) -> tuple[dict[str, Candidate], dict[str, str]]:
    kb, settings = analysis.kb, analysis.config.config.mix
    units = Units.of(kb, settings)
    never = {k.lower() for k in settings.never}
    core = _core(analysis)
    unserved = sorted(f.key for f in analysis.facts.facts if f.type == "client" and f.fields.get("quick_services") == 0)
    candidates: dict[str, Candidate] = {}
    excluded: dict[str, str] = {}
    for service in kb.services.values():
        if service.active:
            fixed = service.keep or service.mandated  # it keeps its approach
            sizes = _sizes(service, "active", settings, units) + _extensions(service, unserved, units, kb.horizons)
            approaches = _approach_options(service, [] if fixed else list(settings.approaches))
            candidates[service.id] = Candidate(
                service, "active", approaches, _in_approaches(sizes, approaches, settings.approach_change_probability,
                                                               settings.resize_elasticity),
                {}, service.keep, core.get(service.id))
    for sid, (service, assumed) in additions(analysis).items():
        origin = "catalogue" if sid not in kb.services else "proposed"
        if sid.lower() in never:
            excluded[sid] = "[mix] never lists it"
        elif kb.clients and not service.clients:
            excluded[sid] = "it would serve no client of the workspace"
        else:
            candidates[sid] = Candidate(service, origin, _approach_options(service, list(settings.approaches)),
                                        _sizes(service, origin, settings, units), assumed)
    return candidates, excluded


# ------------------------------------------------------------------ constraints


def _bound_of(rule: Rule, name: str) -> tuple[float, str]:
    value = rule.params.get(name)
    origin = rule.origins.get(f"params.{name}", rule.source.short())
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputError([Diagnostic(
            rule.source, f"rule {rule.id}: implies: param {name} = {value!r} (set at {origin}) is not a number from 0 to 1",
        )])
    return float(value), origin


def _bounds(rule: Rule) -> list[tuple[float, str]]:
    """The thresholds an implies block names, with where each was set."""
    spec = rule.spec.implies
    if getattr(spec, "value", None) is not None:
        return [(spec.value, rule.source.short())]
    return [_bound_of(rule, name) for name in getattr(spec, "params", [])]


class _Prober:
    """Runs each implying rule on the facts the mix could create (probe.py), once per rule."""

    def __init__(self, analysis: Analysis, candidates: dict[str, Candidate], goal_targets: dict,
                 targets: dict, harms: list[HarmEdge]):
        self.analysis, self.candidates, self.harms = analysis, candidates, harms
        self.goal_targets, self.targets = goal_targets, targets
        self.today = analysis.facts.facts
        self._universe: dict[str, list[Fact]] | None = None

    def universe(self, name: str) -> list[Fact]:
        if self._universe is None:
            kb = self.analysis.kb
            services = {sid: s for sid, s in kb.services.items() if sid not in self.candidates}
            services |= {cid: replace(c.service, status="active") for cid, c in self.candidates.items()}
            self._universe = universe_facts(kb, services, self.analysis.today,
                                            self.analysis.config.config.adherence.conventions(),
                                            ("service", "dependency", "harm"))
        return self._universe[name]

    def run(self, rule: Rule, probes: list[Fact]) -> list[bool]:
        return flagged(self.analysis.compiled, rule, probes, self.today)

    def constrain(self, rule: Rule, constraint: Constraint) -> None:
        getattr(self, "_" + constraint.kind, lambda *_: None)(rule, constraint)

    def _mix_fact(self) -> Fact:
        return next(f for f in self.today if f.type == "mix")

    def _threshold(self, rule: Rule, constraint: Constraint, name: str, minimum: bool) -> None:
        """Which of the rule's thresholds applies to this organisation, and how: the engine runs the rule on
        today's mix fact with the measure just below, at and just above each candidate threshold (and at 0).

        A minimum b applies when the rule fires just below b (or b is 0) and not just above it; a maximum when
        it fires just above and not just below. Firing at b itself makes the bound strict; a minimum the rule
        does not enforce at 0 lets a mix without any effort in the share pass."""
        mix = self._mix_fact()
        for bound, origin in sorted(_bounds(rule), reverse=minimum):
            values = [max(bound - DELTA, 0.0), bound, bound + DELTA, 0.0]
            below, at, above, zero = self.run(rule, [variant(mix, **{name: v}) for v in values])
            if minimum:
                ok = (below or bound == 0) and not above and (below or at)
            else:
                ok = above and not below
            if ok:
                constraint.bound, constraint.origin, constraint.strict = bound, origin, at
                constraint.or_none = minimum and bound > 0 and not zero
                return
        constraint.applies = False

    def _share_min(self, rule: Rule, constraint: Constraint) -> None:
        self._threshold(rule, constraint, SHARE_FIELDS[constraint.spec.term], minimum=True)

    def _share_max(self, rule: Rule, constraint: Constraint) -> None:
        self._threshold(rule, constraint, SHARE_FIELDS[constraint.spec.term], minimum=False)

    def _adherence_min(self, rule: Rule, constraint: Constraint) -> None:
        self._threshold(rule, constraint, "adherence", minimum=True)

    def _quick_probability_min(self, rule: Rule, constraint: Constraint) -> None:
        self._threshold(rule, constraint, "max_p_quick", minimum=True)
        if constraint.applies:  # a mix with nothing quick has no such field: does the rule let it pass?
            mix = self._mix_fact()
            none = Fact(mix.type, mix.key, {k: v for k, v in mix.fields.items() if k != "max_p_quick"}, mix.sources)
            constraint.or_none = not self.run(rule, [none])[0]

    def _goal_adherence_min(self, rule: Rule, constraint: Constraint) -> None:
        if constraint.bound is None:
            return
        goals = [f for f in self.today if f.type == "goal"]
        coverable = {goal: sum(1 for key in keys if self.targets[key].in_time) for goal, keys in self.goal_targets.items()}
        probes = [variant(g, adherence=max(constraint.bound - DELTA, 0.0), covered=coverable.get(g.key, 0))
                  for g in goals]  # as the goal's fact would be in a mix covering every target some candidate can
        constraint.goals = [g.key for g, hit in zip(goals, self.run(rule, probes)) if hit]

    def _cover_in_time(self, rule: Rule, constraint: Constraint) -> None:
        """Each goal target's fact with each candidate delivery as its best one (one probe per distinct fact
        the engine would see: the fields the rule reads)."""
        facts = {(f.fields["goal"], f.fields["target"]): f for f in self.today if f.type == "goal_target"}
        reading = reads_of(self.analysis.compiled, rule, "goal_target")
        from_delivery = [name for name in reading if name in DELIVERY_FIELDS]
        seen_as: dict[Delivery, tuple[tuple, dict]] = {}  # each delivery's fields, and what the rule reads of them
        # per target (goals share targets): its deliveries grouped by what the rule reads of them, with the fields
        # of the first; deliveries alike in it are one probe for every goal, and eligible or not together
        by_target: dict[tuple[str, str, float], dict[tuple, tuple[dict, list[str]]]] = {}
        probes: dict[tuple, tuple[Fact, dict]] = {}
        owners: list[tuple[str, tuple[str, str, float], list[str], tuple]] = []
        for goal, keys in self.goal_targets.items():
            for key in keys:
                fact = facts.get((goal, key[1]))
                if fact is None:
                    continue
                kept = tuple(fact.key if name == "k" else fact.fields.get(name)
                             for name in reading if name not in DELIVERY_FIELDS)
                delivered = by_target.get(key)
                if delivered is None:
                    delivered = by_target[key] = {}
                    for delivery in self.targets[key].in_time:
                        seen = seen_as.get(delivery)  # targets share deliveries
                        if seen is None:
                            fields = _delivery_fields(delivery)
                            seen = seen_as[delivery] = tuple(fields[name] for name in from_delivery), fields
                        read, fields = seen
                        delivered.setdefault(read, (fields, []))[1].append(delivery.service)
                for read, (fields, vids) in delivered.items():
                    sig = (kept, read)  # what the engine sees: goals alike in it share one probe
                    if sig not in probes:
                        probes[sig] = fact, fields
                    owners.append((goal, key, vids, sig))
        # the delivery's fields are exact already (``_delivery_fields``): no cleaning again, as ``variant`` would
        facts_probed = [Fact(fact.type, fact.key, fact.fields | fields, fact.sources, fact.path, fact.words)
                        for fact, fields in probes.values()]
        hits = dict(zip(probes, self.run(rule, facts_probed)))
        eligible: dict[tuple[str, tuple[str, str, float]], set[str]] = {}
        for goal, key, vids, sig in owners:
            if not hits[sig]:
                eligible.setdefault((goal, key), set()).update(vids)
        constraint.eligible = {owner: frozenset(vids) for owner, vids in eligible.items()}

    def _min_probability(self, rule: Rule, constraint: Constraint) -> None:
        """Each candidate's service fact at every size and approach: as it is today for a running service (its
        dependants too), as it would be with every candidate running for an addition."""
        facts = {f.key: f for f in self.universe("service")}
        facts |= {f.key: f for f in self.today if f.type == "service" and f.fields.get("status") == "active"}
        probes, owners = [], []
        for cid, candidate in self.candidates.items():
            for index, approach in candidate.pairs:
                size = candidate.sizes[index]
                fields = {"status": "active", "probability": size.service.probability, "effort": size.service.effort}
                if approach is not None:
                    fields["approach"] = approach
                probes.append(variant(facts[cid], **fields))
                owners.append((cid, index, approach))
        hits: dict[str, set[tuple[int, str | None]]] = {}
        for (cid, index, approach), hit in zip(owners, self.run(rule, probes)):
            if hit:
                hits.setdefault(cid, set()).add((index, approach))
        constraint.services = {cid: frozenset(found) for cid, found in hits.items()}

    def _requires_prerequisites(self, rule: Rule, constraint: Constraint) -> None:
        kb = self.analysis.kb
        probes = []
        for fact in self.universe("dependency"):
            if fact.fields["src"] in self.candidates:
                dst = kb.services.get(fact.fields["dst"])
                status = "absent" if dst is None else ("retired" if dst.active else dst.status)
                probes.append(variant(fact, src_status="active", dst_status=status))
        constraint.edges = [(f.fields["src"], f.fields["dst"]) for f, hit in zip(probes, self.run(rule, probes)) if hit]

    def _harm(self, rule: Rule, constraint: Constraint) -> None:
        facts = {f.key: f for f in self.universe("harm")}
        probes, owners = [], []
        for edge in self.harms:
            fact = facts[f"{edge.src}>{edge.target}#{edge.index}"]
            common = {"active": True, "applies": True, "src_status": "active"}
            if edge.target_kind == "service":
                common["target_status"] = "active"
            some = edge.mitigators[0] if edge.mitigators else ""
            probes.append(variant(fact, **common, active_mitigators=0, active_mitigator_ids="",
                                  delivering_mitigators=0, delivering_mitigator_ids=""))
            probes.append(variant(fact, **common, active_mitigators=1, active_mitigator_ids=some,
                                  delivering_mitigators=0, delivering_mitigator_ids=""))
            probes.append(variant(fact, **common, active_mitigators=1, active_mitigator_ids=some,
                                  delivering_mitigators=1, delivering_mitigator_ids=some))
            owners.append((edge.src, edge.index))
        hits = self.run(rule, probes)
        for number, owner in enumerate(owners):
            fires = (hits[3 * number], hits[3 * number + 1], hits[3 * number + 2])
            if any(fires):
                constraint.harms[owner] = fires

    def _client_quick(self, rule: Rule, constraint: Constraint) -> None:
        clients = [f for f in self.today if f.type == "client"]
        probes = [variant(c, quick_services=0) for c in clients]  # nothing quick: does the rule name the client?
        constraint.clients = [c.key for c, hit in zip(clients, self.run(rule, probes)) if hit]


def implied_constraints(rules: list[Rule]) -> list[Constraint]:
    """The constraints of the rules that declare one (pass the enabled rules of a rulebook), before probing."""
    constraints, errors = [], []
    for rule in rules:
        if rule.spec.implies is None or rule.spec.good_news:  # good news is never a cost or a condition
            continue
        try:
            bounds = _bounds(rule)
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        bound, origin = bounds[0] if bounds else (None, rule.source.short())
        constraints.append(Constraint(rule.id, rule.spec.implies, bound, origin, rule.level))
    if errors:
        raise InputError(errors)
    return constraints


def implied_text(rule: Rule) -> str | None:
    """What a rule asks of the recommended mix, in words (before the engine decides for an organisation)."""
    if rule.spec.implies is None:
        return None
    constraints = implied_constraints([rule])
    return constraints[0].text()


# ------------------------------------------------------------------ the problem


def _targets(analysis: Analysis, candidates: dict[str, Candidate]
             ) -> tuple[dict[str, list[tuple[str, str, float]]], dict[tuple[str, str, float], Target]]:
    kb = analysis.kb
    conventions = analysis.config.config.adherence.conventions()
    sized = [replace(size.service, id=c.vid(i)) for c in candidates.values() for i, size in enumerate(c.sizes)]
    goal_targets: dict[str, list[tuple[str, str, float]]] = {}
    targets: dict[tuple[str, str, float], Target] = {}
    for goal_id, covers in goal_covers(kb, conventions, sized).items():
        keys = []
        for cover in covers:
            deliveries = cover.deliveries
            if cover.kind == "service":  # a goal naming a service: each of its sizes delivers it
                deliveries = tuple(sorted(
                    (Delivery(s.id, s.months, conventions.primary, s.probability) for s in sized
                     if s.id.partition(SEP)[0] == cover.target),
                    key=lambda d: (-d.value, d.months, d.service)))
            key = (cover.kind, cover.target, cover.due_months)
            targets.setdefault(key, Target(cover.target, cover.kind, cover.due_months, deliveries))
            targets.setdefault((cover.kind, cover.target, math.inf), Target(cover.target, cover.kind, math.inf, deliveries))
            keys.append(key)
        goal_targets[goal_id] = keys
    return goal_targets, targets


def _harm_edges(candidates: dict[str, Candidate]) -> list[HarmEdge]:
    services = [c.service for c in candidates.values()]
    by_ref: dict[str, list[Service]] = {}  # the services a mitigator reference could name: id, catalogue id, tag
    for service in services:
        for ref in {service.id, service.catalogue, *(f"tag:{t}" for t in service.tags)} - {None}:
            by_ref.setdefault(ref, []).append(service)
    edges = []
    for candidate in candidates.values():
        for index, harm in enumerate(candidate.service.harms):
            if harm.target_kind == "service" and harm.target not in candidates:
                continue  # what it harms can never be in the mix
            near = {s.id: s for m in harm.mitigated_by for s in by_ref.get(str(m), ())}
            mitigators = tuple(active_mitigators(harm, [s for s in services if s.id in near]))
            delivering = tuple(m for m in mitigators if candidates[m].origin == "active" and candidates[m].service.months == 0)
            edges.append(HarmEdge(candidate.id, index, harm.target, harm.target_kind, harm.approaches, mitigators,
                                  delivering))
    return edges


def build_problem(analysis: Analysis, capacity: float | None = None, like: Problem | None = None) -> Problem:
    """The problem of an analysis, with every implied condition decided on the engine for this organisation;
    ``like``: today's problem, whose capacity (and where it comes from) a what-if's keeps."""
    kb, settings = analysis.kb, analysis.config.config.mix
    errors = []
    try:
        constraints = implied_constraints(analysis.rulebook.enabled())
    except InputError as exc:
        errors.extend(exc.diagnostics)
    try:
        candidates, excluded = _candidates(analysis)
    except InputError as exc:
        errors.extend(exc.diagnostics)
    if errors:
        raise InputError(errors)
    goal_targets, targets = _targets(analysis, candidates)
    harms = _harm_edges(candidates)
    prober = _Prober(analysis, candidates, goal_targets, targets, harms)
    rules = analysis.rulebook.rules
    for constraint in constraints:
        prober.constrain(rules[constraint.rule], constraint)
    exempt, groups = _exempt(candidates, harms, constraints)
    today = frozenset(s.id for s in kb.services.values() if s.active)
    given = capacity is not None or settings.capacity is not None
    capacity, source = _capacity(analysis, capacity, today)
    if like is not None:  # a what-if is held to today's capacity, not to its own effort
        capacity, source, given = like.capacity, like.capacity_source, like.capacity_given
    return Problem(
        candidates, {g.id: goal_weight(g, kb.clients) for g in kb.goals.values()}, goal_targets, targets, harms,
        constraints, float(capacity), settings, today, analysis.config.config.adherence.conventions(), kb.horizons,
        excluded, frozenset((f.rule, frozenset(f.subjects)) for f in analysis.findings), given, core_exempt=exempt,
        core_groups=groups,
        flagged=frozenset(f.subjects[0] for f in analysis.findings
                          if f.level != "info" and f.subjects and f.rule not in good_news_rules(analysis)),
        good_news=good_news_rules(analysis),
        capacity_source=source, units=Units.of(kb, settings), capacity_note=like.capacity_note if like else "",
    )


def good_news_rules(analysis: Analysis) -> frozenset[str]:
    """The rules a rule file marks ``good_news: true``: their findings say something holds."""
    return frozenset(rule.id for rule in analysis.rulebook.rules.values() if rule.spec.good_news)


def _capacity(analysis: Analysis, given: float | None, today: frozenset[str]) -> tuple[float, str]:
    """The capacity the mix must fit and where it comes from: --capacity, else [mix] capacity, else the
    organisation's capacity when the workspace states it, else today's effort (the mix then moves effort
    between services rather than growing or shrinking the PMO)."""
    kb, settings = analysis.kb, analysis.config.config.mix
    if given is not None:
        return given, "given with --capacity"
    if settings.capacity is not None:
        return settings.capacity, "[mix] capacity in pmorules.toml"
    if "capacity" in kb.organisation.model_fields_set:
        return kb.organisation.capacity, "the organisation's capacity"
    effort = sum(kb.services[s].effort for s in today)
    return effort, (f"today's effort, since the organisation's capacity is not stated ({kb.organisation.capacity:g} "
                    "by default); state organisation.capacity or [mix] capacity to let the PMO grow or shrink")


def _fires_whatever_mitigates(edge: HarmEdge, fires: tuple[bool, bool, bool]) -> bool:
    """Whether a rule flags a harm in every mitigation state a mix can reach: without a mitigator; with one
    that does not deliver yet (one that could be added); with one that already delivers (one of today's)."""
    unmitigated, fresh, delivering = fires
    reachable = [unmitigated]
    if set(edge.mitigators) - set(edge.delivering):
        reachable.append(fresh)
    if edge.delivering:
        reachable.append(delivering)
    return all(reachable)


def _exempt(candidates: dict[str, Candidate], harms: list[HarmEdge], constraints: list[Constraint]
            ) -> tuple[dict[str, str], list[tuple[tuple[str, ...], int, str]]]:
    """Core services that no mix can hold, whatever else it holds: every size and approach breaks an
    error-level condition about the service itself (its probability, a harm on something always there and
    nothing can mitigate, a prerequisite nobody offers). Their protection gives way, and the reason says why.
    Also the groups of core services of which an error-level rule lets only some stay: the two ends of a harm
    nothing can mitigate, the members of a cycle of hard dependencies (all but a smallest set that breaks it)."""
    exempt: dict[str, str] = {}
    pairs: list[tuple[tuple[str, ...], int, str]] = []
    harms_of: dict[str, list[HarmEdge]] = {}  # by the harming service, in order: one look per candidate, not a scan
    for edge in harms:
        harms_of.setdefault(edge.src, []).append(edge)
    for constraint in (c for c in constraints if c.hard and c.applies):
        for cid, candidate in candidates.items():
            if not candidate.core or cid in exempt:
                continue
            why = None
            if constraint.kind == "min_probability":
                if len(constraint.services.get(cid, ())) == len(candidate.pairs):
                    why = "every size and approach of it"
            elif constraint.kind == "harm":
                for edge in harms_of.get(cid, ()):
                    fires = constraint.harms.get((edge.src, edge.index))
                    if (fires and all(edge.applies(a) for a in candidate.approaches)
                            and _fires_whatever_mitigates(edge, fires)):
                        if edge.target_kind != "service":
                            why = f"its harm to {edge.target}, in every approach it may take and with no mitigator to add,"
                            break
                        if candidates[edge.target].core:  # two core services of which only one can stay
                            pairs.append(((cid, edge.target), 1, (
                                f"{constraint.rule}, an error-level rule, lets only one of {cid} and {edge.target} "
                                f"stay ({cid} harms {edge.target} in every approach, and nothing can mitigate it)")))
            elif constraint.kind == "requires_prerequisites":
                missing = [dst for src, dst in constraint.edges if src == cid and dst not in candidates]
                if missing:
                    why = f"it needs {missing[0]}, which no mix can hold, and"
            if why:
                exempt[cid] = f"{why} breaks {constraint.rule}, an error-level rule"
    for constraint in (c for c in constraints if c.hard and c.applies and c.kind == "acyclic"):
        graph = nx.DiGraph()
        for cid, candidate in candidates.items():
            if candidate.core and cid not in exempt:
                graph.add_edges_from((cid, d.target) for d in candidate.service.depends_on
                                     if d.kind == constraint.spec.dependency and d.target in candidates
                                     and candidates[d.target].core and d.target not in exempt)
        for component in map(sorted, nx.strongly_connected_components(graph)):
            if len(component) > 1:
                cut = _smallest_cut(graph.subgraph(component))
                pairs.append((tuple(component), len(component) - cut, (
                    f"{constraint.rule}, an error-level rule, lets only {len(component) - cut} of the core services "
                    f"{', '.join(component)} stay: their {constraint.spec.dependency} dependencies form a cycle")))
    return exempt, [(m, keep, why) for m, keep, why in pairs if not set(m) & set(exempt)]


def _smallest_cut(graph: nx.DiGraph) -> int:
    """How many services must go to break every cycle of a small tangle (tried by size; a large one: all but one)."""
    nodes = sorted(graph.nodes)
    if len(nodes) > 12:
        return len(nodes) - 1
    for size in range(1, len(nodes)):
        for gone in combinations(nodes, size):
            if nx.is_directed_acyclic_graph(graph.subgraph(set(nodes) - set(gone))):
                return size
    return len(nodes) - 1

