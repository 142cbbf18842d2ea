"""Turn engine matches into findings: subjects, texts, evidence and paths.

Matches of one rule on the same subjects become one finding (e.g. one per goal,
naming every uncovered outcome). Texts render from the rule's sandboxed
templates; evidence lists each condition that held with the value it compared,
the threshold, and where both came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .evaluate import Match
from .gcpause import gc_paused
from .knowledge import KnowledgeBase
from .knowledge.catalogue import load_catalogue
from .rules.compile import CompiledRule, PatternInfo
from .rules.texts import Names, render_texts, subjects_of
from .rules.spec import OP_WORDS, AnyOf, Condition, Operand
from .vocabulary import LEVEL_ORDER, VERDICTS
from .text import Records


@dataclass
class Evidence:
    fact: str
    field: str | None
    op: str
    expected: Any
    actual: Any
    source: str
    param: str | None = None
    param_source: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"fact": self.fact, "field": self.field, "op": self.op, "expected": self.expected, "actual": self.actual,
                "source": self.source}
        if self.param is not None:
            data |= {"param": self.param, "param_source": self.param_source}
        return data

    def text(self) -> str:
        if self.op == "absent":
            return f"no {self.fact} fact with {self.expected}"
        threshold = f"{self.expected}" + (f" ({self.param})" if self.param else "")
        return f"{self.fact}.{self.field}: {self.actual!r} {OP_WORDS.get(self.op, self.op)} {threshold}"


@dataclass
class Finding:
    id: str
    rule: str
    name: str
    title: str
    level: str
    category: str
    subjects: list[str]
    message: str
    why: str
    recommendation: str
    evidence: list[Evidence]
    path: list[str]
    rule_source: str
    matches: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    verdict: str | None = None  # what it says of the goal it is about (its rule's verdict)

    @property
    def fingerprint(self) -> str:
        """The finding's identity across runs and snapshots: its rule and its subjects, never its numbers or text."""
        return fingerprint(self.rule, self.subjects)

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of a finding (built field by field: no deep copies of large evidence lists)."""
        return {
            "id": self.id, "fingerprint": self.fingerprint, "rule": self.rule, "name": self.name, "title": self.title,
            "level": self.level, "category": self.category, "subjects": list(self.subjects), "message": self.message,
            "why": self.why, "recommendation": self.recommendation,
            "evidence": [e.to_json() for e in self.evidence], "path": list(self.path), "rule_source": self.rule_source,
            "matches": self.matches, "params": dict(self.params),
        }


STATUS = {"error": "red", "warning": "amber"}  # the colour of the worst finding; none (or info only) is green


def statuses(findings: list[Finding]) -> dict[str, str]:
    """Each subject's status: red with an error on it, amber with a warning; a subject not listed is green.

    The thresholds behind it are rule params (GOL001 below the floor, GOL005 below the target), so every
    output reads the same status from the same findings.
    """
    out: dict[str, str] = {}
    for finding in findings:
        if finding.level in STATUS:
            for subject in finding.subjects:
                if out.get(subject) != "red":
                    out[subject] = STATUS[finding.level]
    return out


GRAVITY = {verdict: rank for rank, verdict in enumerate(VERDICTS)}


def verdicts(findings: list[Finding]) -> dict[str, str]:
    """Each goal's verdict in words, from the gravest finding about it that gives one; a goal not listed is
    on track. The thresholds behind it are rule params; which rule says what is in the rule files."""
    out: dict[str, str] = {}
    for finding in findings:
        if finding.verdict is not None:
            for subject in finding.subjects:
                if GRAVITY[finding.verdict] > GRAVITY[out.get(subject, VERDICTS[0])]:
                    out[subject] = finding.verdict
    return out


def by_subject(findings: list[Finding]) -> dict[str, list[Finding]]:
    """The findings about each subject, in their order."""
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        for subject in dict.fromkeys(finding.subjects):
            out.setdefault(subject, []).append(finding)
    return out


def fingerprint(rule: str, subjects: list[str]) -> str:
    """A short stable hash of a rule id and the subjects a finding is about (ids compared case-insensitively)."""
    text = "\x1f".join([rule.upper(), *(s.lower() for s in subjects)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _operand_value(operand: Operand | Condition, match: Match, own: str, params: dict[str, Any]) -> Any:
    if operand.param is not None:
        return params[operand.param]
    if operand.ref is not None:
        pattern, _, name = operand.ref.partition(".")
        fact = match.facts[own if pattern == own else pattern]
        return fact.key if name == "key" else fact.fields.get(name)
    return operand.value


def expected_value(cond: Condition, match: Match, own: str, params: dict[str, Any]) -> Any:
    value = _operand_value(cond, match, own, params)
    if cond.times is not None:
        value = value * _operand_value(cond.times, match, own, params)
    if cond.plus is not None:
        value = value + _operand_value(cond.plus, match, own, params)
    return round(value, 6) if isinstance(value, float) else value


def _describe(cond: Condition, match: Match, own: str, params: dict[str, Any]) -> str:
    if cond.op in ("exists", "missing"):
        return f"{cond.field} {OP_WORDS[cond.op]}"
    if cond.ref is not None and cond.ref.partition(".")[0] != own:
        value: Any = expected_value(cond, match, own, params)
    elif cond.param is not None:
        value = f"{params[cond.param]} ({cond.param})"
    else:
        value = cond.value
    return f"{cond.field} {OP_WORDS[cond.op]} {value}"


_COMPUTED = object()  # an expected value that depends on the match
_Plan = list[tuple[PatternInfo, list[tuple[Any, ...]]]]


def _evidence_plan(compiled: CompiledRule) -> _Plan:
    """Per pattern, what each condition's evidence row takes from the rule alone (field, operator, param, where
    the param was set, and the expected value when it is a param or a constant): worked out once per rule, not
    once per match (tens of thousands at 10,000 services)."""
    rule = compiled.rule
    plan = []
    for pattern in compiled.patterns:
        rows = []
        for cond in [] if pattern.absent else pattern.conditions:
            if cond.op in ("exists", "missing"):
                expected: Any = None
            elif cond.ref is None and cond.times is None and cond.plus is None:
                expected = expected_value(cond, None, pattern.name, rule.params)  # type: ignore[arg-type]
            else:
                expected = _COMPUTED
            source = rule.origins.get(f"params.{cond.param}") if cond.param else None
            rows.append((cond, cond.field, cond.op, expected, cond.param, source))
        plan.append((pattern, rows))
    return plan


def _in_words(clauses: list[Any], describe: Any) -> str:
    """Conditions as one sentence: a group of ``all`` joined with "and", one of ``any`` with "or", in
    parentheses when it sits inside another."""
    parts = []
    for clause in clauses:
        if isinstance(clause, Condition):
            parts.append(describe(clause))
            continue
        inner, word = (list(clause.any), " or ") if isinstance(clause, AnyOf) else (list(clause.all), " and ")
        text = word.join(_in_words([c], describe) for c in inner)
        parts.append(f"({text})" if len(inner) > 1 else text)
    return " and ".join(parts)


def _evidence(compiled: CompiledRule, match: Match, plan: _Plan) -> list[Evidence]:
    rule = compiled.rule
    out = []
    for pattern, rows in plan:
        if pattern.absent:
            spec = next(p for p in rule.spec.match or [] if p.name == pattern.name)
            text = _in_words(spec.where, lambda c: _describe(c, match, pattern.name, rule.params))
            out.append(Evidence(pattern.fact, None, "absent", text or "any values", 0, rule.source.short()))
            continue
        fact = match.facts[pattern.name]
        label, key, fields, sources = fact.label, fact.key, fact.fields, fact.sources
        for cond, name, op, expected, param, param_source in rows:
            if expected is _COMPUTED:
                expected = expected_value(cond, match, pattern.name, rule.params)
            actual = key if name == "key" else fields.get(name)
            out.append(Evidence(label, name, op, expected, actual, sources.get(name, ""), param, param_source))
    return out


def _distinct_evidence(group: list[Match], plans: dict[str, _Plan]) -> list[Evidence]:
    """The evidence rows of a group's matches, each once, in order (rows are compared by value; most are hashable,
    so a set answers, where comparing with every row before took a tenth of the findings)."""
    evidence: list[Evidence] = []
    seen: set[tuple[Any, ...]] = set()
    for match in group:
        compiled = match.compiled  # alternatives of one rule are compiled apart
        plan = plans.get(compiled.engine_name)
        if plan is None:
            plan = plans[compiled.engine_name] = _evidence_plan(compiled)
        for item in _evidence(compiled, match, plan):
            row = (item.fact, item.field, item.op, item.expected, item.actual, item.source, item.param, item.param_source)
            try:
                if row in seen:
                    continue
                seen.add(row)
            except TypeError:  # a list among the values: compare with every row
                if item in evidence:
                    continue
            evidence.append(item)
    return evidence


def _path(compiled: CompiledRule, match: Match) -> list[str]:
    if compiled.rule.spec.path:
        return list(match.facts[compiled.rule.spec.path].path)
    for pattern in compiled.positive:
        if match.facts[pattern.name].path:
            return list(match.facts[pattern.name].path)
    return []


def names_of(kb: KnowledgeBase) -> Names:
    """Display names of everything a message may mention, by id."""
    names = Names({o.id: o.name or o.id for o in kb.outcomes.values()})
    names |= {s.id: s.name for s in kb.candidates.values()}
    offering: dict[str, str] = {}
    for service in kb.services.values():  # a catalogue id the workspace offers reads as its (first) service
        if service.catalogue:
            offering.setdefault(service.catalogue, service.name)
    names |= offering
    names |= dict(kb.absent_catalogue)
    names |= {c.id: c.name or c.id for c in kb.clients.values()}
    names |= {g.id: g.name or g.id for g in kb.goals.values()}
    names |= {s.id: s.name for s in kb.services.values()}
    names |= kb.review_names()
    names["mix"] = "the mix"
    return names


def knowledge_view(kb: KnowledgeBase) -> dict[str, Any]:
    """Plain lists of the knowledge base that messages may cite (e.g. the short-term services by name).

    They are ``Records``: ``selectattr`` with an equality or ``contains`` test answers from an index.
    """
    view: dict[str, Any] = {key: Records(items) for key, items in _knowledge_lists(kb).items()}
    view["horizons"] = kb.horizons.model_dump()
    view["today"] = kb.today.isoformat()
    view["capacity"] = {"effort": kb.organisation.capacity, "fte": kb.organisation.capacity_fte}  # the `effort` filter's
    return view


def _knowledge_lists(kb: KnowledgeBase) -> dict[str, list[dict[str, Any]]]:
    """The workspace as lists a message template may read; a service's ``role`` is its catalogue entry's name
    (what a retired service did, for a text that asks for a replacement rather than the old tool), its
    ``needs`` the services it depends on (for a text that names who waits on it)."""
    catalogue = load_catalogue().services
    return {
        "services": [
            {"id": s.id, "name": s.name, "status": s.status, "term": s.term, "months": s.months,
             "probability": s.probability, "effort": s.effort, "approach": s.approach, "tags": list(s.tags),
             "clients": list(s.clients), "outcomes": list(s.outcomes), "needs": [d.target for d in s.depends_on],
             "role": catalogue[s.catalogue].name if s.catalogue in catalogue else None}
            for s in sorted(kb.services.values(), key=lambda s: s.id)
        ],
        "goals": [
            {"id": g.id, "name": g.name or g.id, "due_months": g.due_months, "due": g.due.isoformat(),
             "outcomes": list(g.outcomes),
             "services": list(g.services), "client": g.client}
            for g in sorted(kb.goals.values(), key=lambda g: g.id)
        ],
        "clients": [{"id": c.id, "name": c.name or c.id, "weight": c.weight} for c in sorted(kb.clients.values(), key=lambda c: c.id)],
    }


@dataclass(frozen=True)
class Headline:
    """What a finding is, without its texts and evidence: enough to tell two analyses' findings apart."""

    rule: str
    level: str
    subjects: list[str]


def headlines_of(matches: list[Match]) -> list[Headline]:
    """The findings ``matches`` make, by rule, level and subjects only, in the findings' order: a mix the rulebook
    turns down needs no texts (they are most of building its findings)."""
    found: dict[tuple[str, tuple[str, ...]], Headline] = {}
    for match in matches:
        rule, subjects = match.compiled.rule, subjects_of(match.compiled, match)
        found.setdefault((rule.id, tuple(subjects)), Headline(rule.id, rule.level, subjects))
    return sorted(found.values(), key=lambda h: (LEVEL_ORDER[h.level], h.rule, h.subjects))


def build_findings(matches: list[Match], kb: KnowledgeBase) -> list[Finding]:
    """One finding per rule and subjects, sorted by level, rule and subjects, numbered F1…"""
    with gc_paused():  # many small acyclic objects (contexts, evidence): collections cost a third
        return _build_findings(matches, kb)


def _build_findings(matches: list[Match], kb: KnowledgeBase) -> list[Finding]:
    names = names_of(kb)
    view = knowledge_view(kb)
    groups: dict[tuple[str, tuple[str, ...]], list[Match]] = {}
    for match in matches:
        key = (match.compiled.rule.id, tuple(subjects_of(match.compiled, match)))
        groups.setdefault(key, []).append(match)
    findings = []
    plans: dict[str, _Plan] = {}
    shared_texts: dict[Any, str] = {}
    for (rule_id, subjects), group in groups.items():
        compiled = group[0].compiled
        rule = compiled.rule
        evidence = _distinct_evidence(group, plans)
        texts = render_texts(compiled, group, names, view, shared_texts)
        findings.append(
            Finding(
                id="", rule=rule_id, name=rule.spec.name or "", title=rule.spec.title or "", level=rule.level,
                category=rule.spec.category or "", subjects=list(subjects), message=texts["message"],
                why=texts["why"], recommendation=texts["recommendation"], evidence=evidence,
                path=_path(compiled, group[0]), rule_source=rule.source.short(), matches=len(group),
                params=dict(rule.params), verdict=rule.spec.verdict,
            )
        )
    findings.sort(key=lambda f: (LEVEL_ORDER[f.level], f.rule, f.subjects))
    for number, finding in enumerate(findings, start=1):
        finding.id = f"F{number}"
    return findings
